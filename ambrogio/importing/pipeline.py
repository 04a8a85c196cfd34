"""An import, start to end: parse → skip the unchanged → validate → locate → place → stage
and merge → report.

``run_import`` is what the ``importProviders`` mutation, ``approveImport`` and ``ambrogio
import`` call. The outcome is an ``ImportJob`` row (see ``jobs``):

- a file that cannot be read at all (empty, not UTF-8, not JSON, too many rows) raises
  ``BadUserInput`` naming ``file`` — after recording the job as failed;
- all or nothing (the default): any row error and nothing is written, the job is ``failed``
  and lists every error; with ``skip_bad_rows`` the good rows are written and the bad ones
  reported and counted as ``skipped``;
- ``dry_run``: the whole import runs in a transaction that is rolled back, so the counts
  (created, updated, unchanged, duplicates) are exactly what a real run would report now;
- ``review`` (a mapper's import): validated and counted like a dry run, then the job waits as
  ``pending_review`` with the file stored, until a reviewer approves (``approve_import`` runs it
  for real, published) or rejects it.

A provider whose input has the digest stored at its last import (``digests``) is counted
unchanged without being validated, located or staged; its warnings then are reported again.

The data are written in one transaction: a failure — or the process being killed — anywhere
before the commit leaves the catalogue as it was. In that transaction, after the merge, the
open intervals of the imported opening hours are computed (``sync_open_intervals``), likely
duplicates of the created or updated providers are flagged (``flag_duplicates``), and one
audit event records the import (action ``import`` on the ``import_job``, with the counts):
an event per row would add 100,000 rows of audit to a 100,000-row import, while the job row
already says which file (its SHA-256) did what, and when, and on whose behalf.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.db import audit
from ambrogio.db.known import load_known
from ambrogio.db.models import ImportJob
from ambrogio.db.session import unbounded
from ambrogio.editing.matching import flag_duplicates
from ambrogio.enums import ImportFormat, Status
from ambrogio.errors import BadUserInput, Conflict, NotFound, UnreadableFile
from ambrogio.hours.intervals import sync_open_intervals
from ambrogio.importing import csv, digests, geojson, hsds, jobs
from ambrogio.importing.geocode import Nominatim, locate
from ambrogio.importing.placing import place
from ambrogio.importing.rows import Parsed, RowIssue
from ambrogio.importing.upsert import MergeCounts, merge
from ambrogio.importing.validate import Validated, validate
from ambrogio.progress import Report, silent
from ambrogio.settings import Settings
from ambrogio.validation import text

log = logging.getLogger("ambrogio.importing")

RESERVED_SOURCES = frozenset({"ambrogio"})
Parser = Callable[..., Parsed]


@dataclass(frozen=True)
class ImportOptions:
    source: str
    format: ImportFormat
    filename: str | None = None
    dry_run: bool = False
    skip_bad_rows: bool = False
    # Who imports: a user's name, ``key:<prefix>:<name>``, or ``cli:<os user>``.
    actor: str = "cli"
    # The import waits for a reviewer instead of being written (a mapper's).
    review: bool = False
    request_id: str | None = None
    # Told each step and the rows validated (the command line draws bars from it).
    progress: Report = silent


def format_of(filename: str) -> ImportFormat | None:
    """The format a file name suggests: ``.geojson``/``.json`` GeoJSON, ``.csv`` CSV, ``.zip``
    the HSDS tabular package."""
    name = filename.lower()
    if name.endswith((".geojson", ".json")):
        return ImportFormat.GEOJSON
    if name.endswith(".csv"):
        return ImportFormat.CSV
    if name.endswith(".zip"):
        return ImportFormat.HSDS_CSV
    return None


def parser_for(fmt: ImportFormat) -> Parser:
    if fmt is ImportFormat.GEOJSON:
        return geojson.parse
    if fmt is ImportFormat.CSV:
        return csv.parse
    return hsds.parse


def check_source(source: str) -> str:
    name = text("source", source, required=True, max_length=100)
    assert name is not None
    if name in RESERVED_SOURCES:
        raise BadUserInput("source", source, "is reserved for records edited in Ambrogio")
    return name


async def run_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    data: bytes,
    options: ImportOptions,
    *,
    job_id: uuid.UUID | None = None,
    geocoder: Nominatim | None = None,
) -> ImportJob:
    """Run one import and return its job; ``job_id`` continues a job approved for review."""
    source = check_source(options.source)
    parse = parser_for(options.format)
    async with sessionmaker() as session, session.begin():
        await jobs.mark_interrupted(session)
    if job_id is None:
        job = await jobs.start_job(
            sessionmaker,
            source=source,
            fmt=options.format.value,
            filename=options.filename,
            data=data,
            caller=options.actor,
            dry_run=options.dry_run,
            skip_bad_rows=options.skip_bad_rows,
        )
        job_id = job.id
    try:
        async with jobs.holding(sessionmaker, job_id):
            with _cyclic_gc_paused():
                return await _run(
                    sessionmaker, settings, data, options, source, parse, job_id, geocoder
                )
    except BadUserInput as error:
        await jobs.finish_job(sessionmaker, job_id, status=jobs.FAILED, failure=error.message)
        raise
    except BaseException:
        # Cancelled or crashed: the data transaction rolled back; say so on the job if we can.
        log.exception("import %s failed", job_id)
        try:
            await jobs.finish_job(
                sessionmaker,
                job_id,
                status=jobs.FAILED,
                failure="the import stopped on an internal error; nothing was written",
            )
        except Exception:  # the database may be what failed
            log.exception("cannot record the failure of import %s", job_id)
        raise


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while an import runs (reference counting still frees).

    Parsing and validating a large file creates millions of objects that live until the end
    of the import; each full collection walks all of them, again and again as they grow: for
    100,000 providers that was most of the parsing time and a quarter of the validation's.
    The collector is enabled again at the end (unless it was off already).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def _run(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    data: bytes,
    options: ImportOptions,
    source: str,
    parse: Parser,
    job_id: uuid.UUID,
    geocoder: Nominatim | None,
) -> ImportJob:
    progress = jobs.JobProgress(sessionmaker, job_id, options.progress)
    options = dataclasses.replace(options, progress=progress)
    progress("reading the file", 0, None)
    parsed = await _parse(parse, data, options, settings, job_id)
    rows = _rows(parsed)
    digested = await _digested(sessionmaker, settings, parsed, source, job_id)
    try:
        records, geocoded = await _validate_and_locate(
            sessionmaker, settings, digested.parsed, source, job_id, geocoder, progress
        )
    finally:
        await progress.flush()
    records.rows = rows
    records.warnings.extend(digested.warnings)
    records.warnings.sort(key=lambda issue: issue.row)
    fails = bool(records.errors) and not options.skip_bad_rows
    outcome: dict[str, object] = {
        "rows": records.rows,
        "errors": jobs.issues_json(records.errors),
        "skipped": records.bad_rows if options.skip_bad_rows else 0,
    }
    if fails and not options.dry_run:
        return await _fail_unwritten(sessionmaker, job_id, records, outcome)
    dry = options.dry_run or options.review
    counts, flagged = await _write(
        sessionmaker, records, (digested, geocoded), source, options, job_id, dry=dry
    )
    status = _status(options, fails=fails)
    return await jobs.finish_job(
        sessionmaker,
        job_id,
        status=status,
        created=counts.created,
        updated=counts.updated,
        unchanged=counts.unchanged,
        duplicates_flagged=flagged,
        warnings=jobs.issues_json(_with_duplicates_warning(records.warnings, flagged)),
        file_content=data if status == jobs.PENDING_REVIEW else None,
        finished_at=None if status == jobs.PENDING_REVIEW else datetime.now(UTC),
        **outcome,
    )


async def _fail_unwritten(
    sessionmaker: async_sessionmaker[AsyncSession],
    job_id: uuid.UUID,
    records: Validated,
    outcome: dict[str, object],
) -> ImportJob:
    """All or nothing: nothing is written, but every error is reported."""
    return await jobs.finish_job(
        sessionmaker,
        job_id,
        status=jobs.FAILED,
        warnings=jobs.issues_json(records.warnings),
        failure=f"{records.bad_rows} rows have errors; nothing was imported",
        **outcome,
    )


async def _parse(
    parse: Parser, data: bytes, options: ImportOptions, settings: Settings, job_id: uuid.UUID
) -> Parsed:
    began = time.perf_counter()
    try:
        # Parsing and validating are CPU work: in a thread, so that a server process importing
        # a file keeps answering its other requests.
        parsed = await asyncio.to_thread(parse, data, fmt=options.format, filename=options.filename)
    except UnreadableFile as error:
        raise BadUserInput("file", options.filename or "upload", error.reason) from error
    log.info("import %s: parse %.1f s", job_id, time.perf_counter() - began)
    if len(parsed.rows) > settings.import_max_rows:
        raise BadUserInput(
            "file",
            options.filename or "upload",
            f"has {len(parsed.rows)} rows; an import takes at most {settings.import_max_rows}",
        )
    return parsed


def _rows(parsed: Parsed) -> int:
    return len({row.number for row in parsed.rows} | {issue.row for issue in parsed.errors})


def _digest_options(settings: Settings) -> dict[str, object]:
    """What an import writes besides its rows depends on: a change of these writes again."""
    return {
        "status": Status.PUBLISHED.value,
        "territory": list(settings.territory),
        "territory_bbox": list(settings.territory_bbox),
        "geocoder": settings.geocoder_url,
    }


async def _digested(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    parsed: Parsed,
    source: str,
    job_id: uuid.UUID,
) -> digests.Digested:
    """The rows to validate: those of the providers not unchanged since the last import."""
    began = time.perf_counter()
    async with sessionmaker() as session:
        stored = await digests.stored(session, source)
    digested = await asyncio.to_thread(
        digests.split, parsed, source, _digest_options(settings), stored
    )
    log.info(
        "import %s: digests %.1f s, %d providers unchanged",
        job_id, time.perf_counter() - began, digested.unchanged,
    )  # fmt: skip
    return digested


async def _validate_and_locate(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    parsed: Parsed,
    source: str,
    job_id: uuid.UUID,
    geocoder: Nominatim | None,
    progress: Report,
) -> tuple[Validated, set[uuid.UUID]]:
    """The records, and the providers whose places the geocoder was asked about when it warned
    (of failures, of addresses it could not find): it may answer otherwise next time."""
    async with sessionmaker() as session:
        known = await load_known(session)
    began = time.perf_counter()
    records = await asyncio.to_thread(
        validate, parsed, source, known, settings.territory_bbox, progress
    )
    log.info("import %s: validate %.1f s", job_id, time.perf_counter() - began)
    progress("locating places", 0, None)
    began = time.perf_counter()
    pending = {loc.provider_id for loc in records.locations.values() if loc.precision is None}
    async with sessionmaker() as session:
        geocoded = await locate(session, records.locations.values(), known, settings, geocoder)
        records.warnings.extend(geocoded)
        records.warnings.extend(await place(session, records, settings.territory))
        await session.commit()
    log.info("import %s: locate and place %.1f s", job_id, time.perf_counter() - began)
    return records, pending if geocoded else set()


def _status(options: ImportOptions, *, fails: bool) -> str:
    if fails:
        return jobs.FAILED
    if options.review and not options.dry_run:
        return jobs.PENDING_REVIEW
    return jobs.SUCCEEDED


def _with_duplicates_warning(warnings: list[RowIssue], flagged: int) -> list[RowIssue]:
    if not flagged:
        return list(warnings)
    flags = RowIssue(0, "duplicates", flagged, "likely duplicate providers flagged for review")
    return [*warnings, flags]


async def _write(
    sessionmaker: async_sessionmaker[AsyncSession],
    records: Validated,
    digested: tuple[digests.Digested, set[uuid.UUID]],
    source: str,
    options: ImportOptions,
    job_id: uuid.UUID,
    *,
    dry: bool,
) -> tuple[MergeCounts, int]:
    """Merge in one transaction; committed, or rolled back when ``dry``."""
    async with sessionmaker() as session:
        transaction = await session.begin()
        await unbounded(session)
        try:
            began = time.perf_counter()
            options.progress("writing", 0, None)
            counts = await merge(session, records, source, Status.PUBLISHED.value)
            split, geocoded = digested
            counts.unchanged += split.unchanged
            await digests.remember(session, split, records, unsettled=geocoded)
            merged = time.perf_counter()
            pairs = {(loc.opening_hours, loc.comune_istat) for loc in records.locations.values()}
            options.progress("opening hours", 0, None)
            await sync_open_intervals(session, pairs)
            hours = time.perf_counter()
            options.progress("looking for duplicates", 0, None)
            flagged = await flag_duplicates(session, counts.changed_ids)
            log.info(
                "import %s: stage and merge %.1f s, open intervals %.1f s, duplicates %.1f s",
                job_id, merged - began, hours - merged, time.perf_counter() - hours,
            )  # fmt: skip
            if not dry:
                await audit.record(
                    session,
                    actor=options.actor,
                    action="import",
                    entity_type="import_job",
                    entity_id=job_id,
                    before=None,
                    after={
                        "source": source,
                        "created": counts.created,
                        "updated": counts.updated,
                        "unchanged": counts.unchanged,
                        "skipped": records.bad_rows if options.skip_bad_rows else 0,
                        "duplicatesFlagged": flagged,
                    },
                    request_id=options.request_id,
                )
                await session.flush()
        except BaseException:
            await transaction.rollback()
            raise
        began = time.perf_counter()
        if dry:
            await transaction.rollback()
        else:
            # The map grid's deferred refresh runs here (migration 0020).
            await transaction.commit()
        log.info("import %s: commit %.1f s", job_id, time.perf_counter() - began)
    return counts, flagged


async def approve_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    job_id: uuid.UUID,
    actor: str,
    request_id: str | None = None,
) -> ImportJob:
    """Run a job waiting for review, for real and published, on behalf of ``actor``."""
    async with sessionmaker() as session, session.begin():
        job = await jobs.claim_for_review(
            session, job_id, {"status": jobs.RUNNING, "decided_by": actor}
        )
        if job is None:
            await _not_pending(session, job_id)
    assert job is not None and job.file_content is not None
    options = ImportOptions(
        source=job.source,
        format=ImportFormat(job.format),
        filename=job.filename,
        skip_bad_rows=job.skip_bad_rows,
        actor=actor,
        request_id=request_id,
    )
    result = await run_import(sessionmaker, settings, job.file_content, options, job_id=job.id)
    return await jobs.finish_job(
        sessionmaker, job.id, file_content=None, finished_at=result.finished_at
    )


async def reject_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    job_id: uuid.UUID,
    actor: str,
    reason: str,
    request_id: str | None = None,
) -> ImportJob:
    why = text("reason", reason, required=True, max_length=2000)
    async with sessionmaker() as session, session.begin():
        job = await jobs.claim_for_review(
            session,
            job_id,
            {
                "status": jobs.REJECTED,
                "decided_by": actor,
                "reason": why,
                "file_content": None,
                "finished_at": datetime.now(UTC),
            },
        )
        if job is None:
            await _not_pending(session, job_id)
        await audit.record(
            session,
            actor=actor,
            action="reject",
            entity_type="import_job",
            entity_id=job_id,
            before={"status": jobs.PENDING_REVIEW},
            after={"status": jobs.REJECTED, "reason": why},
            request_id=request_id,
        )
    assert job is not None
    return job


async def _not_pending(session: AsyncSession, job_id: uuid.UUID) -> None:
    job = await jobs.get_job(session, job_id)
    if job is None:
        raise NotFound(f"import job {job_id} does not exist")
    raise Conflict(
        f"import job {job_id} is {job.status}, not pending_review: it was decided already",
        status=job.status,
    )
