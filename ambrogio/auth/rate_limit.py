"""Rate limits by cost over time: a token bucket per caller, kept in PostgreSQL.

Each caller has a bucket of cost points (``ambrogio.schema.cost``) that refills at its limit a
minute and holds one minute's worth: an API key by its own ``rate_limit_per_minute``, a
signed-in user by ``AMBROGIO_RATE_LIMIT_USER``, an anonymous caller by its client address
and ``AMBROGIO_RATE_LIMIT_ANONYMOUS`` (0 turns a kind off). An operation that the bucket
cannot pay for is refused whole (``RATE_LIMITED``, HTTP 429, ``Retry-After`` the seconds
until it could be paid) and takes nothing from the bucket.

The bucket lives in the ``rate_bucket`` table, so every server process sees the same one.
Refill, check and charge are one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on an
unlogged table, in autocommit: one round trip, the row locked only for that statement, and
``statement_timestamp()`` the one clock all processes share. Losing the buckets in a crash
only forgives what was spent.

Behind a reverse proxy, run uvicorn with ``--proxy-headers --forwarded-allow-ips`` so the
client address is the caller's, not the proxy's.
"""

from __future__ import annotations

import math

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.context import Caller
from ambrogio.errors import RateLimited
from ambrogio.settings import Settings

# One statement: a new bucket starts full; an existing one refills for the seconds since its
# last charge (capped at its capacity) and pays ``cost`` only when it holds enough. The casts
# at first use type the parameters for the rest of the statement.
CHARGE = text(
    """
    INSERT INTO rate_bucket AS bucket (key, tokens, updated_at, granted)
    VALUES (:key,
            CASE WHEN CAST(:cost AS float8) <= CAST(:capacity AS float8)
                 THEN :capacity - :cost ELSE :capacity END,
            statement_timestamp(), :cost <= :capacity)
    ON CONFLICT (key) DO UPDATE SET (tokens, granted, updated_at) = (
        SELECT CASE WHEN refilled >= :cost THEN refilled - :cost ELSE refilled END,
               refilled >= :cost, statement_timestamp()
        FROM (SELECT least(:capacity, bucket.tokens + CAST(:rate AS float8)
                           * extract(epoch FROM statement_timestamp() - bucket.updated_at))
                     AS refilled) AS refill
    )
    RETURNING tokens, granted
    """
)
WHO = {"key": "this API key", "user": "this user", "ip": "this client address"}


class RateLimiter:
    """Charges operations to their caller's bucket (``charge``)."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def bucket(self, caller: Caller, client: str | None) -> tuple[str, int]:
        """The caller's bucket and its limit a minute (0: not limited)."""
        if caller.key_id:
            return f"key:{caller.key_id}", caller.rate_limit or 0
        if caller.subject:
            return f"user:{caller.subject}", self.settings.rate_limit_user
        return f"ip:{client or 'unknown'}", self.settings.rate_limit_anonymous

    async def charge(self, caller: Caller, client: str | None, cost: int) -> None:
        """Take ``cost`` from the caller's bucket, or raise ``RateLimited`` with the seconds to
        wait (``retryAfter``)."""
        key, per_minute = self.bucket(caller, client)
        if per_minute <= 0:
            return
        rate = per_minute / 60
        async with self.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            row = (
                await autocommit.execute(
                    CHARGE,
                    {"key": key, "cost": float(cost), "capacity": float(per_minute), "rate": rate},
                )
            ).one()
        if row.granted:
            return
        if cost > per_minute:
            wait = 60
            reason = f"the operation costs {cost:,}, more than the {per_minute:,} a minute allowed"
        else:
            wait = max(1, math.ceil((cost - row.tokens) / rate))
            reason = f"over the limit of {per_minute:,} cost points a minute"
        who = WHO[key.split(":", 1)[0]]
        raise RateLimited(
            f"{reason} for {who}; retry after {wait} s",
            retryAfter=wait,
            limit=per_minute,
            cost=cost,
        )
