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
    reason: str = strawberry.field(
        description="What is wrong with the value, for a person to fix it (English)."
    )

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
    status: ImportStatus = strawberry.field(description="Where the job stands.")
    dry_run: bool = strawberry.field(
        description="Validated and counted only, nothing written (`importProviders(dryRun:)`)."
    )
    skip_bad_rows: bool = strawberry.field(
        description="Whether rows with errors were left out (and the rest imported) instead "
        "of failing the whole file."
    )
    source: str = strawberry.field(
        description="The source name the records carry (`Provider.source`); an upsert key "
        "with each record's external id."
    )
    format: ImportFormat = strawberry.field(description="The file's format.")
    filename: str | None = strawberry.field(
        description="The uploaded file's name; null when the client sent none."
    )
    caller: str = strawberry.field(description="Who ran the import.")
    rows: int = strawberry.field(description="Rows read: provider locations.")
    rows_done: int = strawberry.field(
        description="Rows validated so far: with `rowsTotal`, how far a running import has got."
    )
    rows_total: int | None = strawberry.field(
        description="Rows of the file, once it is read (null before)."
    )
    created: int = strawberry.field(description="Providers new in the catalogue.")
    updated: int = strawberry.field(
        description="Providers of which something changed: the provider, a location, a service "
        "or a price."
    )
    unchanged: int = strawberry.field(description="Providers already as the file has them.")
    skipped: int = strawberry.field(description="Rows with errors left out (skipBadRows).")
    errors: list[ImportIssue] = strawberry.field(
        description="Problems that keep a row out (or, without `skipBadRows`, the whole file)."
    )
    warnings: list[ImportIssue] = strawberry.field(
        description="Problems that let the row in, e.g. an address geocoded to the comune only."
    )
    duplicates_flagged: int = strawberry.field(
        description="New pairs of likely duplicate providers flagged for review."
    )
    failure: str | None = strawberry.field(description="Why the import as a whole failed.")
    started_at: datetime = strawberry.field(description="When the job began (UTC).")
    finished_at: datetime | None = strawberry.field(
        description="When reading and validating ended (UTC); null while RUNNING."
    )
    decided_by: str | None = strawberry.field(description="The reviewer who approved or rejected.")
    decided_at: datetime | None = strawberry.field(
        description="When the reviewer decided (UTC); null until then or without review."
    )
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
