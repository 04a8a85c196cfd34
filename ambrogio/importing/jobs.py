"""Import jobs: the record of each import (who, when, what it did, every row error).

A job row is written in its own short transactions — when the import starts and when it ends —
never in the import's data transaction, so a failed or rolled-back import is still on record.

A running import holds a session-level advisory lock named after its job (``holding``) on a
connection of its own. A process killed mid-import leaves the catalogue as it was and its job
``running``, but PostgreSQL drops the lock with the connection: ``mark_interrupted`` finds such
jobs (running, no lock held) and records them as failed, interrupted. It runs before a new import
and whenever jobs are listed.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.catalogue.pagination import keyset_page
from ambrogio.catalogue.visibility import Stmt
from ambrogio.db.models import ImportJob
from ambrogio.importing.rows import RowIssue
from ambrogio.importing.validate import VALIDATING
from ambrogio.metrics import IMPORT_ROWS
from ambrogio.progress import Report

# Seconds a new job may run before it holds its lock (it is created first, then locks).
LOCK_GRACE_SECONDS = 30
INTERRUPTED = "interrupted: the import process stopped before it finished; nothing was written"

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
PENDING_REVIEW = "pending_review"
REJECTED = "rejected"


# The counts of a finished job that are rows (``ambrogio_import_rows_total{outcome}``).
ROW_OUTCOMES = ("created", "updated", "unchanged", "skipped")


def issue_json(issue: RowIssue) -> dict[str, Any]:
    return {
        "row": issue.row,
        "field": issue.field,
        "value": _value(issue.value),
        "reason": issue.reason,
    }


def issues_json(issues: Iterable[RowIssue]) -> list[dict[str, Any]]:
    return [issue_json(issue) for issue in issues]


def _value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list):
        return [_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _value(item) for key, item in value.items()}
    return str(value)


async def start_job(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    source: str,
    fmt: str,
    filename: str | None,
    data: bytes,
    caller: str,
    dry_run: bool,
    skip_bad_rows: bool,
) -> ImportJob:
    job = ImportJob(
        id=uuid.uuid4(),
        source=source,
        format=fmt,
        filename=filename,
        file_sha256=hashlib.sha256(data).hexdigest(),
        file_bytes=len(data),
        caller=caller,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        status=RUNNING,
        started_at=datetime.now(UTC),
        errors=[],
        warnings=[],
    )
    async with sessionmaker() as session, session.begin():
        session.add(job)
    return job


def lock_key(job_id: uuid.UUID) -> int:
    """The advisory lock of a job: the first 8 bytes of its id, as a signed bigint."""
    return int.from_bytes(job_id.bytes[:8], "big", signed=True)


# The same key in SQL, from the id's text (8-4-4 hex digits), and whether any session holds it.
_HELD = """
EXISTS (
    SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
      AND ((l.classid::bigint << 32) | l.objid::bigint)
          = ('x' || translate(left(import_job.id::text, 18), '-', ''))::bit(64)::bigint
)
"""


@asynccontextmanager
async def holding(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID
) -> AsyncIterator[None]:
    """Hold the job's lock on a connection of its own while the import runs.

    One connection, kept out of the pool until the end (in autocommit: no transaction stays
    open): a session would hand its connection back to the pool at each commit, and with
    several idle connections the unlock could run on another one, leaving the lock held.
    """
    engine = sessionmaker.kw["bind"]
    key = {"key": lock_key(job_id)}
    async with engine.connect() as connection:
        pinned = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await pinned.execute(text("SELECT pg_advisory_lock(:key)"), key)
        try:
            yield
        finally:
            await pinned.execute(text("SELECT pg_advisory_unlock(:key)"), key)


async def mark_interrupted(session: AsyncSession) -> int:
    """Record running jobs whose process is gone as failed; returns how many."""
    result = await session.execute(
        text(
            f"UPDATE import_job SET status = :failed, failure = :why, finished_at = now() "
            f"WHERE status = :running AND started_at < now() - make_interval(secs => :grace) "
            f"AND NOT {_HELD}"
        ),
        {"failed": FAILED, "why": INTERRUPTED, "running": RUNNING, "grace": LOCK_GRACE_SECONDS},
    )
    return int(getattr(result, "rowcount", 0) or 0)


class JobProgress:
    """A ``Report`` that also records on the running job how many rows are validated, of how
    many (``rows_done``, ``rows_total``), for clients polling ``importJob``; every other call
    goes on to ``forward``. Validation reports from its worker thread, every
    ``validate.PROGRESS_EVERY`` rows: each report is a short update on the event loop, never
    lowering ``rows_done`` whatever order they commit in. Create it on the event loop;
    ``flush`` waits for the updates under way.
    """

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID, forward: Report
    ) -> None:
        self.sessionmaker = sessionmaker
        self.job_id = job_id
        self.forward = forward
        self.loop = asyncio.get_running_loop()
        self.pending: list[Future[None]] = []

    def __call__(self, step: str, done: int, total: int | None) -> None:
        self.forward(step, done, total)
        if step == VALIDATING and total is not None:
            write = self._write(done, total)
            self.pending.append(asyncio.run_coroutine_threadsafe(write, self.loop))

    async def _write(self, done: int, total: int) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(ImportJob)
                .where(ImportJob.id == self.job_id)
                .values(rows_done=func.greatest(ImportJob.rows_done, done), rows_total=total)
            )

    async def flush(self) -> None:
        pending, self.pending = self.pending, []
        await asyncio.gather(*(asyncio.wrap_future(future) for future in pending))


async def finish_job(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID, **values: Any
) -> ImportJob:
    """Set the job's outcome (``status``, counts, ``errors``…) and ``finished_at``; its rows
    count in the ``ambrogio_import_rows_total`` metric by outcome."""
    values.setdefault("finished_at", datetime.now(UTC))
    async with sessionmaker() as session, session.begin():
        await session.execute(update(ImportJob).where(ImportJob.id == job_id).values(**values))
        job = (await session.execute(select(ImportJob).where(ImportJob.id == job_id))).scalar_one()
    for outcome in ROW_OUTCOMES:
        if values.get(outcome):
            IMPORT_ROWS.labels(outcome).inc(values[outcome])
    return job


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> ImportJob | None:
    return (
        await session.execute(select(ImportJob).where(ImportJob.id == job_id))
    ).scalar_one_or_none()


async def claim_for_review(
    session: AsyncSession, job_id: uuid.UUID, values: dict[str, Any]
) -> ImportJob | None:
    """Move a job out of ``pending_review`` (only one reviewer wins); None when it was not."""
    result = await session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status == PENDING_REVIEW)
        .values(decided_at=datetime.now(UTC), **values)
        .returning(ImportJob)
    )
    return result.scalar_one_or_none()


# --- reading jobs (the importJob and importJobs queries) -----------------------------------
# ``caller``: only the jobs that caller ran; None for everyone's (reviewers).


def _ran_by(caller: str | None) -> ColumnElement[bool]:
    return true() if caller is None else ImportJob.caller == caller


def job_stmt(job_id: uuid.UUID, caller: str | None) -> Select[ImportJob]:
    """The job, if it is among those ``caller`` sees."""
    return select(ImportJob).where(ImportJob.id == job_id, _ran_by(caller))


def jobs_page(caller: str | None, after: Sequence[Any] | None, limit: int) -> Stmt:
    """Newest first, after a cursor's (started_at, id); one row more than ``limit``."""
    return keyset_page(
        select(ImportJob).where(_ran_by(caller)),
        [ImportJob.started_at, ImportJob.id],
        after,
        limit,
        descending=True,
    )


def jobs_count(caller: str | None) -> Select[int]:
    return select(func.count()).select_from(ImportJob).where(_ran_by(caller))
