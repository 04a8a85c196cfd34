"""Need records (readable by their welfare point's operators and admins only) and the
k-anonymous aggregates planners read: gap analysis rows and weekly trend points."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry

from ambrogio.context import Context
from ambrogio.db import models
from ambrogio.ids import to_global_id
from ambrogio.needs.gaps import GapRow, TrendPoint
from ambrogio.needs.vocabulary import AgeBand, Employment, Household, Outcome, Urgency
from ambrogio.schema.types.catalogue import Service
from ambrogio.schema.types.category import Category
from ambrogio.schema.types.comune import Comune
from ambrogio.schema.types.welfare_point import WelfarePoint
from ambrogio.taxonomy import term_id

Info = strawberry.Info[Context, None]

strawberry.enum(AgeBand, description="An age band (never a date of birth).")
strawberry.enum(Household, description="The kind of household the need comes from.")
strawberry.enum(Employment, description="The employment situation, as a kind.")
strawberry.enum(Urgency, description="How urgent the need is.")
strawberry.enum(
    Outcome,
    description="What became of the need: REFERRED to a service, WAITING, NO_LOCAL_SERVICE, "
    "DECLINED. WAITING and NO_LOCAL_SERVICE are the unmet referrals of the gap analysis.",
)

NO_PERSONAL_DATA = (
    "A need record keeps no name, contact, free text, exact address or date of birth: it has "
    "no field for them, and an input naming any other field is refused."
)


@strawberry.input(description=f"A need as an operator records it. {NO_PERSONAL_DATA}")
class NeedInput:
    category: str = strawberry.field(
        description="A category of the welfare taxonomy: slug, label or synonym."
    )
    comune: str = strawberry.field(description="The ISTAT code of the comune the need is in.")
    urgency: Urgency
    recorded_on: date = strawberry.field(description="When the need was met at the desk.")
    outcome: Outcome
    age_band: AgeBand | None = None
    household: Household | None = None
    employment: Employment | None = None
    referred_service_id: strawberry.ID | None = strawberry.field(
        default=None, description="The Service the need was referred to (outcome REFERRED)."
    )


@strawberry.type(description=f"A need recorded at a welfare point. {NO_PERSONAL_DATA}")
class Need:
    id: strawberry.ID
    pk: strawberry.Private[uuid.UUID]
    point_pk: strawberry.Private[uuid.UUID]
    category_pk: strawberry.Private[uuid.UUID]
    comune_istat: strawberry.Private[str]
    service_pk: strawberry.Private[uuid.UUID | None]
    age_band: AgeBand | None
    household: Household | None
    employment: Employment | None
    urgency: Urgency
    recorded_on: date
    outcome: Outcome
    version: int = strawberry.field(description="Give it back to `updateNeed`.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: models.Need) -> Need:
        return cls(
            id=strawberry.ID(to_global_id("Need", row.id)),
            pk=row.id,
            point_pk=row.welfare_point_id,
            category_pk=row.category_id,
            comune_istat=row.comune_istat,
            service_pk=row.referred_service_id,
            age_band=AgeBand(row.age_band) if row.age_band else None,
            household=Household(row.household) if row.household else None,
            employment=Employment(row.employment) if row.employment else None,
            urgency=Urgency(row.urgency),
            recorded_on=row.recorded_on,
            outcome=Outcome(row.outcome),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field
    async def category(self, info: Info) -> Category | None:
        row = await info.context.loaders.category.load(self.category_pk)
        return Category.from_row(row) if row else None

    @strawberry.field
    async def comune(self, info: Info) -> Comune | None:
        row = await info.context.loaders.comune.load(self.comune_istat)
        return Comune.from_row(row) if row else None

    @strawberry.field
    async def welfare_point(self, info: Info) -> WelfarePoint | None:
        row = await info.context.loaders.welfare_point.load(self.point_pk)
        return WelfarePoint.from_row(row) if row else None

    @strawberry.field(description="The service the need was referred to, while it is published.")
    async def referred_service(self, info: Info) -> Service | None:
        if self.service_pk is None:
            return None
        row = await info.context.loaders.service.load(self.service_pk)
        return Service.from_row(row) if row else None


@strawberry.type(description="A page of need records, newest first.")
class NeedPage:
    nodes: list[Need]
    end_cursor: str | None
    has_next_page: bool
    total_count: int = strawberry.field(description="The records in your scope.")


@strawberry.type(description="What `importNeeds` did, or would do (`dryRun`).")
class NeedImport:
    rows: int
    created: int
    updated: int
    errors: list[NeedRowError] = strawberry.field(
        description="Every bad row and field; nothing is written when there is one."
    )


@strawberry.type(description="A bad value in a row of a needs file.")
class NeedRowError:
    row: int = strawberry.field(description="As a spreadsheet numbers it: the header is row 1.")
    field: str
    value: str | None
    reason: str


@strawberry.input(
    description="Whole 13-week quarters of ISO weeks, `2026-Q1` (weeks 1-13) "
    "to `2026-Q4` (weeks 40-52 or 53); only ended quarters."
)
class QuarterPeriod:
    from_: str | None = strawberry.field(
        default=None, name="from", description="Default: three quarters before `to`."
    )
    to: str | None = strawberry.field(default=None, description="Default: the last ended quarter.")


GAP_SCORE = (
    "Between 0 (no gap) and 1: the mean of the unmet share (unmetReferrals / needs) and the "
    "capacity shortfall, 1 - (freeSeats per coming week) / (needs per week of the period), "
    "floored at 0. Null where no needs are published."
)


@strawberry.type(
    description="A comune × category of the gap analysis (a category's row counts its "
    "sub-categories; a null category is every category). Every figure of needs is a sum of "
    "published cells of at least k needs; cells below k are merged upward (the parent "
    "category, then the province: rows with a null comune) or published nowhere."
)
class GapCell:
    comune_istat: strawberry.Private[str | None]
    category_slug: strawberry.Private[str | None]
    province_code: str
    pooled: bool = strawberry.field(
        description="Needs pooled at the province: no comune, no supply."
    )
    needs: int
    unmet_referrals: int = strawberry.field(description="Outcome WAITING or NO_LOCAL_SERVICE.")
    services_reaching: int | None = strawberry.field(
        description="Published services reaching the comune: at home with an area covering "
        "it, or on site within `onSiteRadiusMeters` of its centroid."
    )
    free_seats: int | None = strawberry.field(
        description="Free seats of their open slots in the next `capacityWeeks` weeks."
    )
    gap_score: float | None = strawberry.field(description=GAP_SCORE)

    @classmethod
    def from_row(cls, row: GapRow) -> GapCell:
        return cls(
            comune_istat=row.comune,
            category_slug=row.category,
            province_code=row.province,
            pooled=row.pooled,
            needs=row.needs,
            unmet_referrals=row.unmet,
            services_reaching=row.services,
            free_seats=row.free_seats,
            gap_score=row.score,
        )

    @strawberry.field
    async def comune(self, info: Info) -> Comune | None:
        if self.comune_istat is None:
            return None
        row = await info.context.loaders.comune.load(self.comune_istat)
        return Comune.from_row(row) if row else None

    @strawberry.field(description="Null: every category.")
    async def category(self, info: Info) -> Category | None:
        if self.category_slug is None:
            return None
        row = await info.context.loaders.category.load(term_id(self.category_slug))
        return Category.from_row(row) if row else None


@strawberry.type(description="The gap analysis of a period.")
class GapAnalysis:
    k: int = strawberry.field(description="The fewest needs a published cell holds.")
    quarters: list[str]
    weeks: int
    capacity_weeks: int
    on_site_radius_meters: float
    cells: list[GapCell]


@strawberry.type(
    description="Needs of a comune × category in one ISO week, where the week's cell holds "
    "at least k needs (a week below k is published with its quarter, in needsGaps, or not)."
)
class NeedTrendPoint:
    week: str
    comune_istat: str
    province_code: str
    category_slug: str | None = strawberry.field(description="Null: every category.")
    needs: int
    unmet_referrals: int

    @classmethod
    def from_point(cls, point: TrendPoint) -> NeedTrendPoint:
        return cls(
            week=str(point.week),
            comune_istat=point.comune,
            province_code=point.province,
            category_slug=point.category,
            needs=point.needs,
            unmet_referrals=point.unmet,
        )
