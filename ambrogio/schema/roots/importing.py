"""Root fields of the bulk import: the ``importProviders`` upload, import jobs, and their review."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from ambrogio.context import Context
from ambrogio.enums import ImportFormat
from ambrogio.resolvers import importing
from ambrogio.schema.permissions import CanImport, CanReview
from ambrogio.schema.types.importing import ImportReport
from ambrogio.schema.types.inputs import After, First
from ambrogio.schema.types.node import Connection

Info = strawberry.Info[Context, None]

ROLES = (
    " Mappers, reviewers, admins and API keys with the IMPORT scope; `UNAUTHENTICATED` "
    "without credentials, `FORBIDDEN` without the permission."
)
REVIEWERS = " Reviewers and admins only (`FORBIDDEN` for others)."
JobId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The import job's global id (`ImportReport.id`)."),
]


@strawberry.type
class ImportQuery:
    @strawberry.field(
        permission_classes=[CanImport],
        description="Import jobs, newest first: your own; reviewers see everyone's." + ROLES,
    )
    async def import_jobs(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[ImportReport]:
        return await importing.import_jobs(info, first, after)

    @strawberry.field(
        permission_classes=[CanImport],
        description="One import job: yours, or anyone's for reviewers; null otherwise." + ROLES,
    )
    async def import_job(self, info: Info, id: JobId) -> ImportReport | None:
        return await importing.import_job(info, id)


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
        "on `file`." + ROLES,
    )
    async def import_providers(
        self,
        info: Info,
        file: Annotated[
            Upload,
            strawberry.argument(
                description="The file, as a part of the multipart request (the `map` names "
                "`variables.file`); at most `AMBROGIO_IMPORT_MAX_BYTES` (HTTP 413 beyond)."
            ),
        ],
        format: Annotated[
            ImportFormat, strawberry.argument(description="How the file is written.")
        ],
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
        return await importing.import_providers(
            info, file, format, source_name, dry_run, skip_bad_rows
        )

    @strawberry.mutation(
        permission_classes=[CanReview],
        description="Run an import waiting for review, for real: its records are published. "
        "`CONFLICT` unless it is PENDING_REVIEW." + REVIEWERS,
    )
    async def approve_import(self, info: Info, job_id: JobId) -> ImportReport:
        return await importing.approve_import(info, job_id)

    @strawberry.mutation(
        permission_classes=[CanReview],
        description="Refuse an import waiting for review; nothing of it is written. "
        "`CONFLICT` unless it is PENDING_REVIEW." + REVIEWERS,
    )
    async def reject_import(
        self,
        info: Info,
        job_id: JobId,
        reason: Annotated[
            str,
            strawberry.argument(description="Why, for whoever ran the import (required)."),
        ],
    ) -> ImportReport:
        return await importing.reject_import(info, job_id, reason)
