"""Expiry of what callers leave behind: persisted documents nobody uses, idle rate buckets.

- **Persisted documents**: every client may register a document by sending it with its hash
  (automatic persisted queries), so without expiry the table grows with every distinct query
  anyone ever ran. One not used for ``AMBROGIO_PERSISTED_RETENTION_DAYS`` is deleted; a client
  that sends its hash again gets ``PersistedQueryNotFound`` and registers it again with its
  retry. Documents an operator registered from a manifest (trusted documents) are never
  deleted: in trusted mode nothing else may bring them back.
- **Rate buckets**: a bucket holds one minute's worth of its limit and refills in a minute at
  most (``ambrogio.auth.rate_limit``), so one idle for longer is full, the same as a bucket
  that does not exist; deleting it changes nothing for its caller.

Each server process runs ``purge`` every ``AMBROGIO_HOUSEKEEPING_INTERVAL_SECONDS`` (the
statements are idempotent, so several processes may); ``ambrogio housekeeping`` runs it once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.db import faults
from ambrogio.settings import Settings

log = logging.getLogger("ambrogio.housekeeping")

UNUSED_DOCUMENTS = text(
    "DELETE FROM persisted_document WHERE NOT registered "
    "AND used_at < statement_timestamp() - make_interval(days => :days)"
)
# Idle for more than the minute a bucket takes to refill from empty: full.
FULL_BUCKETS = text(
    "DELETE FROM rate_bucket WHERE updated_at < statement_timestamp() - interval '1 minute'"
)


@dataclass(frozen=True)
class Purged:
    documents: int
    buckets: int


async def purge(engine: AsyncEngine, retention_days: int) -> Purged:
    """Delete the unregistered documents unused for ``retention_days`` and the full buckets."""
    async with engine.begin() as connection:
        documents = await connection.execute(UNUSED_DOCUMENTS, {"days": retention_days})
        buckets = await connection.execute(FULL_BUCKETS)
    return Purged(documents.rowcount, buckets.rowcount)


async def every(engine: AsyncEngine, settings: Settings) -> None:
    """``purge`` every ``housekeeping_interval_seconds``, for as long as the server runs; a
    turn that fails is logged and the next one tries again."""
    while True:
        await asyncio.sleep(settings.housekeeping_interval_seconds)
        try:
            purged = await purge(engine, settings.persisted_retention_days)
        except Exception as error:
            if faults.unavailable(error):
                log.warning("housekeeping skipped: the database is not answering (%r)", error)
            else:
                log.exception("housekeeping failed; trying again at the next turn")
            continue
        log.info(
            "housekeeping: %d unused persisted documents, %d idle rate buckets deleted",
            purged.documents,
            purged.buckets,
        )
