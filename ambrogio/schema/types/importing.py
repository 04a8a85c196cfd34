"""Bulk import: the ``importProviders`` upload, import jobs, and their review."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from ambrogio.context import Context
from ambrogio.db.models import ImportJob
from ambrogio.enums import ImportFormat
from ambrogio.ids import to_global_id
from ambrogio.resolvers import importing
from ambrogio.schema.permissions import CanImport, CanReview
from ambrogio.schema.types.node import Connection, build_connection

Info = strawberry.Info[Context, None]

strawberry.enum(
    ImportFormat,
    description="GEOJSON and CSV: Ambrogio's import profile; HSDS_JSON and HSDS_CSV: Open "
    "Referral HSDS 3.0 (JSON, or the tabular data package as a zip of CSV files).",
)


@strawberry.enum(description="Where an import job stands.")
class ImportStatus(Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING_REVIEW = "pending_review"
    REJECTED = "rejected"


@strawberry.type(description="A row error or warning of an import.")
class ImportIssue:
    row: int = strawberry.field(
        description="The row, counted as a person counts them: the Feature's position from 1 "
        "(GeoJSON), the spreadsheet row with the header as row 1 (CSV); 0 for the whole file."
    )
    field: str = strawberry.field(description="The profile field, e.g. `services[0].category`.")
    value: JSON | None = strawberry.field(description="The value as read from the file.")
    reason: str

    @classmethod
    def of(cls, item: dict[str, Any]) -> ImportIssue:
        return cls(row=item["row"], field=item["field"], value=item["value"], reason=item["reason"])


@strawberry.type(
    description="What an import did (or, for a dry run or a pending review, would do). Counts "
    "are of providers: created, updated (it or any of its locations, services or prices "
    "changed), unchanged."
)
class ImportReport:
    id: strawberry.ID = strawberry.field(description="The import job's global id.")
    status: ImportStatus
    dry_run: bool
    skip_bad_rows: bool
    source: str
    format: ImportFormat
    filename: str | None
    caller: str = strawberry.field(description="Who ran the import.")
    rows: int = strawberry.field(description="Rows read: provider locations.")
    created: int
    updated: int
    unchanged: int
    skipped: int = strawberry.field(description="Rows with errors left out (skipBadRows).")
    errors: list[ImportIssue]
    warnings: list[ImportIssue]
    duplicates_flagged: int = strawberry.field(
        description="New pairs of likely duplicate providers flagged for review."
    )
    failure: str | None = strawberry.field(description="Why the import as a whole failed.")
    started_at: datetime
    finished_at: datetime | None
    decided_by: str | None = strawberry.field(description="The reviewer who approved or rejected.")
    decided_at: datetime | None
    reason: str | None = strawberry.field(description="Why the reviewer rejected it.")

    @classmethod
    def from_row(cls, job: ImportJob) -> ImportReport:
        return cls(
            id=strawberry.ID(to_global_id("ImportJob", job.id)),
            status=ImportStatus(job.status),
            dry_run=job.dry_run,
            skip_bad_rows=job.skip_bad_rows,
            source=job.source,
            format=ImportFormat(job.format),
            filename=job.filename,
            caller=job.caller,
            rows=job.rows,
            created=job.created,
            updated=job.updated,
            unchanged=job.unchanged,
            skipped=job.skipped,
            errors=[ImportIssue.of(item) for item in job.errors],
            warnings=[ImportIssue.of(item) for item in job.warnings],
            duplicates_flagged=job.duplicates_flagged,
            failure=job.failure,
            started_at=job.started_at,
            finished_at=job.finished_at,
            decided_by=job.decided_by,
            decided_at=job.decided_at,
            reason=job.reason,
        )


@strawberry.type
class ImportQuery:
    @strawberry.field(
        permission_classes=[CanImport],
        description="Import jobs, newest first: your own; reviewers see everyone's.",
    )
    async def import_jobs(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[ImportReport]:
        jobs, cursors, limit, count = await importing.import_jobs(info, first, after)
        return build_connection(
            [ImportReport.from_row(job) for job in jobs],
            cursors,
            limit=limit,
            after=after,
            count=count,
        )

    @strawberry.field(
        permission_classes=[CanImport],
        description="One import job: yours, or anyone's for reviewers; null otherwise.",
    )
    async def import_job(self, info: Info, id: strawberry.ID) -> ImportReport | None:
        job = await importing.import_job(info, id)
        return ImportReport.from_row(job) if job is not None else None


DRY_RUN = "Report what would be created, updated and unchanged, and every row error; write nothing."
SKIP = "Write the good rows and report the bad ones, instead of writing nothing on any error."


@strawberry.type
class ImportMutation:
    @strawberry.mutation(
        permission_classes=[CanImport],
        description="Import providers from a file (GraphQL multipart request): upsert on "
        "(source, external_id). Reviewers' imports are published at once; mappers' and API "
        "keys' wait as PENDING_REVIEW for `approveImport`. Row errors come back in the report; "
        "a file that cannot be read (empty, not UTF-8, over the size limit) is BAD_USER_INPUT "
        "on `file`.",
    )
    async def import_providers(
        self,
        info: Info,
        file: Upload,
        format: ImportFormat,
        # Not ``source``: strawberry's permission extension passes an argument of that name.
        source_name: Annotated[
            str,
            strawberry.argument(
                name="source", description="The source's name; records match on it."
            ),
        ],
        dry_run: Annotated[bool, strawberry.argument(description=DRY_RUN)] = False,
        skip_bad_rows: Annotated[bool, strawberry.argument(description=SKIP)] = False,
    ) -> ImportReport:
        job = await importing.import_providers(
            info, file, format, source_name, dry_run, skip_bad_rows
        )
        return ImportReport.from_row(job)

    @strawberry.mutation(
        permission_classes=[CanReview],
        description="Run an import waiting for review, for real: its records are published.",
    )
    async def approve_import(self, info: Info, job_id: strawberry.ID) -> ImportReport:
        return ImportReport.from_row(await importing.approve_import(info, job_id))

    @strawberry.mutation(
        permission_classes=[CanReview],
        description="Refuse an import waiting for review; nothing of it is written.",
    )
    async def reject_import(self, info: Info, job_id: strawberry.ID, reason: str) -> ImportReport:
        return ImportReport.from_row(await importing.reject_import(info, job_id, reason))
