"""Root fields of the needs capability: need records (operators of their welfare point and
admins, every read audited) and the k-anonymous gap analysis and trends (planners)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from ambrogio.context import Context
from ambrogio.resolvers import needs
from ambrogio.schema.types.inputs import After, First
from ambrogio.schema.types.needs import (
    GapAnalysis,
    Need,
    NeedImport,
    NeedInput,
    NeedPage,
    NeedTrendPoint,
    QuarterPeriod,
)

Info = strawberry.Info[Context, None]

RECORDS = (
    "Need records are readable only by the operators of their welfare point (mappers tied to "
    "it) and by admins; FORBIDDEN for everyone else, planners included. Every read is audited."
)
AGGREGATE = (
    "For planners, reviewers, mappers and admins. Every figure is k-anonymous "
    "(`AMBROGIO_NEEDS_K`, 5 by default): a sum of published cells of at least k needs, the "
    "same cells whatever the filters, so no two answers differ by fewer than k needs."
)
COMUNI = "ISTAT codes; null: every comune."
CATEGORY = "One whole category (slug, label or synonym) with its sub-categories; null: all."
POINT = "An admin's choice of welfare point; operators always work on their own."
WEEK = "An ended ISO week, `2026-W05`; else `BAD_USER_INPUT`."
NeedId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The need's global id; `NOT_FOUND` if outside your scope."),
]


@strawberry.type
class NeedsQuery:
    @strawberry.field(description=f"Need records of your welfare point, newest first. {RECORDS}")
    async def needs(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        welfare_point_id: Annotated[
            strawberry.ID | None, strawberry.argument(description=POINT)
        ] = None,
    ) -> NeedPage:
        return await needs.need_page(info, first, after, welfare_point_id)

    @strawberry.field(description=f"One need record. {RECORDS}")
    async def need(self, info: Info, id: NeedId) -> Need:
        return await needs.need(info, id)

    @strawberry.field(
        description="Where local supply does not meet recorded needs: per comune × category "
        f"(and parent category, and every category), over whole quarters. {AGGREGATE}"
    )
    async def needs_gaps(
        self,
        info: Info,
        period: Annotated[
            QuarterPeriod | None,
            strawberry.argument(
                description="The quarters to analyse; null: the last four ended quarters "
                "(the defaults of `QuarterPeriod`)."
            ),
        ] = None,
        comuni: Annotated[list[str] | None, strawberry.argument(description=COMUNI)] = None,
        category: Annotated[str | None, strawberry.argument(description=CATEGORY)] = None,
    ) -> GapAnalysis:
        return await needs.needs_gaps(info, period, comuni, category)

    @strawberry.field(
        description="Weekly needs per comune × category, ISO weeks `2026-W05` (ended weeks "
        f"only). {AGGREGATE}"
    )
    async def needs_trends(
        self,
        info: Info,
        from_week: Annotated[
            str, strawberry.argument(description=f"The first week, included. {WEEK}")
        ],
        to_week: Annotated[
            str,
            strawberry.argument(
                description=f"The last week, included, not before `fromWeek`. {WEEK}"
            ),
        ],
        comuni: Annotated[list[str] | None, strawberry.argument(description=COMUNI)] = None,
        category: Annotated[str | None, strawberry.argument(description=CATEGORY)] = None,
    ) -> list[NeedTrendPoint]:
        return await needs.needs_trends(info, from_week, to_week, comuni, category)


@strawberry.type
class NeedsMutation:
    @strawberry.mutation(description=f"Record a need at your welfare point. {RECORDS}")
    async def create_need(
        self,
        info: Info,
        input: Annotated[NeedInput, strawberry.argument(description="The need, all of it.")],
        welfare_point_id: Annotated[
            strawberry.ID | None, strawberry.argument(description=POINT)
        ] = None,
    ) -> Need:
        return await needs.create_need(info, input, welfare_point_id)

    @strawberry.mutation(
        description=f"Replace a need record of your point; `version` as read (CONFLICT if stale). "
        f"{RECORDS}"
    )
    async def update_need(
        self,
        info: Info,
        id: NeedId,
        version: Annotated[
            int,
            strawberry.argument(
                description="`Need.version` as you read it; `CONFLICT` with "
                "`extensions.currentVersion` if it moved on."
            ),
        ],
        input: Annotated[
            NeedInput,
            strawberry.argument(description="The whole record anew: it replaces every field."),
        ],
    ) -> Need:
        return await needs.update_need(info, id, version, input)

    @strawberry.mutation(
        description=f"Delete a need record of your point (on request); answers its id. {RECORDS}"
    )
    async def delete_need(self, info: Info, id: NeedId) -> strawberry.ID:
        return await needs.delete_need(info, id)

    @strawberry.mutation(
        description="Import a CSV file of needs for your welfare point (columns: category, "
        "comune, age_band, household, employment, urgency, recorded_on, outcome, "
        "referred_service_id, external_id; any other column is refused). All or nothing. "
        "Needs entered more than AMBROGIO_NEEDS_LATE_ENTRY_DAYS after their week ended are kept "
        "but counted in no aggregate."
    )
    async def import_needs(
        self,
        info: Info,
        file: Annotated[
            Upload,
            strawberry.argument(
                description="The CSV file (UTF-8, comma-separated, a header row), as a part "
                "of the multipart request."
            ),
        ],
        welfare_point_id: Annotated[
            strawberry.ID | None, strawberry.argument(description=POINT)
        ] = None,
        dry_run: Annotated[
            bool,
            strawberry.argument(description="Check and count only; write nothing (false)."),
        ] = False,
    ) -> NeedImport:
        return await needs.import_needs(info, file, welfare_point_id, dry_run)
