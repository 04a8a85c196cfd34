"""Resolvers of the bulk import: read the upload within the size limit, run, list the jobs.

The upload limit (``AMBROGIO_IMPORT_MAX_BYTES``) is enforced twice: the HTTP layer refuses a
request whose body is larger before reading it (``ambrogio.app``), and the file is read here in
chunks, counting, so that a body sent without ``Content-Length`` cannot get past it either.
"""

from __future__ import annotations

from typing import Any

import strawberry

from ambrogio import ids
from ambrogio.auth.permissions import reviews_directly
from ambrogio.catalogue.pagination import (
    decode_cursor,
    encode_cursor,
    instant_key,
    page_size,
    uuid_key,
)
from ambrogio.context import Context
from ambrogio.enums import ImportFormat
from ambrogio.errors import BadUserInput
from ambrogio.importing import jobs, pipeline
from ambrogio.schema.types.importing import ImportReport
from ambrogio.schema.types.node import Connection, build_connection

Info = strawberry.Info[Context, None]
CHUNK = 1024 * 1024


def size_message(limit: int) -> str:
    return f"is larger than the import limit of {limit:,} bytes ({limit / 2**20:g} MiB); split it"


async def read_upload(upload: Any, limit: int) -> tuple[bytes, str]:
    """The uploaded bytes and file name; BAD_USER_INPUT on ``file`` past ``limit`` bytes."""
    name = getattr(upload, "filename", None) or "upload"
    if not hasattr(upload, "read"):
        raise BadUserInput("file", name, "must be a file sent as a GraphQL multipart upload")
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise BadUserInput("file", name, size_message(limit))
        chunks.append(chunk)
    return b"".join(chunks), name


async def import_providers(
    info: Info, file: Any, fmt: ImportFormat, source: str, dry_run: bool, skip_bad_rows: bool
) -> ImportReport:
    context = info.context
    data, name = await read_upload(file, context.settings.import_max_bytes)
    options = pipeline.ImportOptions(
        source=source,
        format=fmt,
        filename=name,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        actor=context.caller.actor,
        review=not reviews_directly(context.caller),
        request_id=context.request_id,
    )
    job = await pipeline.run_import(context.sessionmaker, context.settings, data, options)
    return ImportReport.from_row(job)


async def approve_import(info: Info, job_id: strawberry.ID) -> ImportReport:
    context = info.context
    job = await pipeline.approve_import(
        context.sessionmaker,
        context.settings,
        ids.decode(job_id, "ImportJob", "jobId"),
        context.caller.actor,
        context.request_id,
    )
    return ImportReport.from_row(job)


async def reject_import(info: Info, job_id: strawberry.ID, reason: str) -> ImportReport:
    context = info.context
    job = await pipeline.reject_import(
        context.sessionmaker,
        ids.decode(job_id, "ImportJob", "jobId"),
        context.caller.actor,
        reason,
        context.request_id,
    )
    return ImportReport.from_row(job)


def _ran_by(context: Context) -> str | None:
    """Reviewers see every job (None); other importers their own."""
    return None if reviews_directly(context.caller) else context.caller.actor


async def _sweep(context: Context) -> None:
    """Jobs whose process died show as failed (interrupted), not as running forever."""
    async with context.sessionmaker() as session, session.begin():
        await jobs.mark_interrupted(session)


async def import_job(info: Info, job_id: strawberry.ID) -> ImportReport | None:
    context = info.context
    await _sweep(context)
    key = ids.decode(job_id, "ImportJob", "id")
    async with context.sessionmaker() as session:
        job = (await session.execute(jobs.job_stmt(key, _ran_by(context)))).scalar_one_or_none()
    return ImportReport.from_row(job) if job is not None else None


async def import_jobs(info: Info, first: int | None, after: str | None) -> Connection[ImportReport]:
    context = info.context
    await _sweep(context)
    limit = page_size(first, context.settings)
    key = decode_cursor(after, [instant_key, uuid_key])
    caller = _ran_by(context)
    async with context.sessionmaker() as session:
        rows = list((await session.execute(jobs.jobs_page(caller, key, limit))).scalars())

    async def count() -> int:
        async with context.sessionmaker() as session:
            return int(await session.scalar(jobs.jobs_count(caller)) or 0)

    return build_connection(
        [ImportReport.from_row(job) for job in rows],
        [encode_cursor([job.started_at.isoformat(), job.id]) for job in rows],
        limit=limit,
        after=after,
        count=count,
    )
