"""Types of the bulk import: import jobs as reports, their row issues and statuses."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from ambrogio.db.models import ImportJob
from ambrogio.enums import ImportFormat
from ambrogio.ids import to_global_id
from ambrogio.schema.types.enums import describe_values, described

described(
    ImportFormat,
    "GEOJSON and CSV: Ambrogio's import profile; HSDS_JSON and HSDS_CSV: Open "
    "Referral HSDS 3.0 (JSON, or the tabular data package as a zip of CSV files).",
    {
        "GEOJSON": "A GeoJSON FeatureCollection in Ambrogio's import profile.",
        "CSV": "A CSV file in Ambrogio's import profile.",
        "HSDS_JSON": "Open Referral HSDS 3.0 as JSON.",
        "HSDS_CSV": "HSDS 3.0's tabular data package: a zip of its CSV files.",
    },
)


@strawberry.enum(description="Where an import job stands.")
class ImportStatus(Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING_REVIEW = "pending_review"
    REJECTED = "rejected"


describe_values(
    ImportStatus,
    {
        "RUNNING": "Being read and validated.",
        "SUCCEEDED": "Imported.",
        "FAILED": "Not imported: see its errors.",
        "PENDING_REVIEW": "Validated, waiting for a reviewer to approve it.",
        "REJECTED": "Refused by a reviewer.",
    },
)


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
    rows_done: int = strawberry.field(
        description="Rows validated so far: with `rowsTotal`, how far a running import has got."
    )
    rows_total: int | None = strawberry.field(
        description="Rows of the file, once it is read (null before)."
    )
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
            rows_done=job.rows_done,
            rows_total=job.rows_total,
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
