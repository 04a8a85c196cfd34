"""Resolvers of the bulk import: read the upload within the size limit, run, list the jobs.

The upload limit (``AMBROGIO_IMPORT_MAX_BYTES``) is enforced twice: the HTTP layer refuses a
request whose body is larger before reading it (``ambrogio.app``), and the file is read here in
chunks, counting, so that a body sent without ``Content-Length`` cannot get past it either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, func, select, true, tuple_

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
from ambrogio.db.models import ImportJob
from ambrogio.enums import ImportFormat
from ambrogio.errors import BadUserInput
from ambrogio.importing import jobs as jobs_module
from ambrogio.importing import pipeline

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
) -> ImportJob:
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
    return await pipeline.run_import(context.sessionmaker, context.settings, data, options)


async def approve_import(info: Info, job_id: strawberry.ID) -> ImportJob:
    context = info.context
    return await pipeline.approve_import(
        context.sessionmaker,
        context.settings,
        ids.decode(job_id, "ImportJob", "jobId"),
        context.caller.actor,
        context.request_id,
    )


async def reject_import(info: Info, job_id: strawberry.ID, reason: str) -> ImportJob:
    context = info.context
    return await pipeline.reject_import(
        context.sessionmaker,
        ids.decode(job_id, "ImportJob", "jobId"),
        context.caller.actor,
        reason,
        context.request_id,
    )


def _visible(context: Context) -> ColumnElement[bool]:
    """Reviewers see every job; other importers their own."""
    return true() if reviews_directly(context.caller) else ImportJob.caller == context.caller.actor


async def _sweep(context: Context) -> None:
    """Jobs whose process died show as failed (interrupted), not as running forever."""
    async with context.sessionmaker() as session, session.begin():
        await jobs_module.mark_interrupted(session)


async def import_job(info: Info, job_id: strawberry.ID) -> ImportJob | None:
    context = info.context
    await _sweep(context)
    async with context.sessionmaker() as session:
        return (
            await session.execute(
                select(ImportJob).where(
                    ImportJob.id == ids.decode(job_id, "ImportJob", "id"), _visible(context)
                )
            )
        ).scalar_one_or_none()


async def import_jobs(
    info: Info, first: int | None, after: str | None
) -> tuple[list[ImportJob], list[str], int, Callable[[], Any]]:
    context = info.context
    await _sweep(context)
    limit = page_size(first, context.settings)
    key = decode_cursor(after, [instant_key, uuid_key])
    stmt = select(ImportJob).where(_visible(context))
    if key is not None:
        started, job_id = key
        stmt = stmt.where(tuple_(ImportJob.started_at, ImportJob.id) < tuple_(started, job_id))
    stmt = stmt.order_by(ImportJob.started_at.desc(), ImportJob.id.desc()).limit(limit + 1)
    async with context.sessionmaker() as session:
        jobs = list((await session.execute(stmt)).scalars())
    cursors = [encode_cursor([job.started_at.isoformat(), job.id]) for job in jobs]

    async def count() -> int:
        async with context.sessionmaker() as session:
            total = await session.scalar(
                select(func.count()).select_from(ImportJob).where(_visible(context))
            )
            return int(total or 0)

    return jobs, cursors, limit, count
