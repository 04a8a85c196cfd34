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
from ambrogio.schema.types.enums import described
from ambrogio.schema.types.welfare_point import WelfarePoint
from ambrogio.taxonomy import term_id

Info = strawberry.Info[Context, None]

described(
    AgeBand,
    "An age band (never a date of birth).",
    {
        "UNDER_18": "Younger than 18 years.",
        "FROM_18_TO_29": "18 to 29 years old, both included.",
        "FROM_30_TO_39": "30 to 39 years old, both included.",
        "FROM_40_TO_49": "40 to 49 years old, both included.",
        "FROM_50_TO_64": "50 to 64 years old, both included.",
        "FROM_65_TO_79": "65 to 79 years old, both included.",
        "OVER_80": "80 years old or more.",
    },
)
described(
    Household,
    "The kind of household the need comes from.",
    {
        "LIVING_ALONE": "One person on their own.",
        "SINGLE_PARENT": "One parent with one or more children.",
        "COUPLE_WITH_CHILDREN": "Two partners and one or more children.",
        "COUPLE_WITHOUT_CHILDREN": "Two partners, no children at home.",
        "WITH_PARENTS": "An adult still living in their parents' home.",
        "EXTENDED_FAMILY": "Several generations or relatives beyond parents and children.",
        "OTHER": "Any other arrangement (shared flat, community, care home).",
    },
)
described(
    Employment,
    "The employment situation, as a kind.",
    {
        "EMPLOYED": "In work: employee or self-employed.",
        "UNEMPLOYED": "Out of work and looking for it.",
        "RETIRED": "On a pension.",
        "STUDENT": "In school, university or training.",
        "HOMEMAKER": "Caring for the home or family without pay.",
        "UNABLE_TO_WORK": "Cannot work, for illness or disability.",
        "OTHER": "None of these.",
    },
)
described(
    Urgency,
    "How urgent the need is.",
    {
        "LOW": "Can wait weeks.",
        "MEDIUM": "Should be met within days.",
        "HIGH": "Needs an answer now: a person at risk without help.",
    },
)
described(
    Outcome,
    "What became of the need: REFERRED to a service, WAITING, NO_LOCAL_SERVICE, "
    "DECLINED. WAITING and NO_LOCAL_SERVICE are the unmet referrals of the gap analysis.",
    {
        "REFERRED": "Sent to a service (`referredServiceId` when known): met.",
        "WAITING": "On a waiting list: unmet for now.",
        "NO_LOCAL_SERVICE": "No service in the area meets it: unmet.",
        "DECLINED": "The person declined what was offered; not counted as unmet.",
    },
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
    urgency: Urgency = strawberry.field(description="How urgent it is.")
    recorded_on: date = strawberry.field(description="When the need was met at the desk.")
    outcome: Outcome = strawberry.field(description="What became of it (so far).")
    age_band: AgeBand | None = strawberry.field(
        default=None, description="The person's age band; null: not asked."
    )
    household: Household | None = strawberry.field(
        default=None, description="The person's household; null: not asked."
    )
    employment: Employment | None = strawberry.field(
        default=None, description="The person's employment; null: not asked."
    )
    referred_service_id: strawberry.ID | None = strawberry.field(
        default=None, description="The Service the need was referred to (outcome REFERRED)."
    )


@strawberry.type(description=f"A need recorded at a welfare point. {NO_PERSONAL_DATA}")
class Need:
    id: strawberry.ID = strawberry.field(description="Global id of the record (`Need:uuid`).")
    pk: strawberry.Private[uuid.UUID]
    point_pk: strawberry.Private[uuid.UUID]
    category_pk: strawberry.Private[uuid.UUID]
    comune_istat: strawberry.Private[str]
    service_pk: strawberry.Private[uuid.UUID | None]
    age_band: AgeBand | None = strawberry.field(description="The age band; null: not asked.")
    household: Household | None = strawberry.field(description="The household; null: not asked.")
    employment: Employment | None = strawberry.field(
        description="The employment situation; null: not asked."
    )
    urgency: Urgency = strawberry.field(description="How urgent it was.")
    recorded_on: date = strawberry.field(
        description="The day it was met at the desk (a date, no time: Europe/Rome)."
    )
    outcome: Outcome = strawberry.field(description="What became of it.")
    version: int = strawberry.field(description="Give it back to `updateNeed`.")
    created_at: datetime = strawberry.field(description="When it was recorded (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")

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

    @strawberry.field(description="The taxonomy category the need falls under.")
    async def category(self, info: Info) -> Category | None:
        row = await info.context.loaders.category.load(self.category_pk)
        return Category.from_row(row) if row else None

    @strawberry.field(description="The comune the need is in.")
    async def comune(self, info: Info) -> Comune | None:
        row = await info.context.loaders.comune.load(self.comune_istat)
        return Comune.from_row(row) if row else None

    @strawberry.field(description="The welfare point that recorded it.")
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
    nodes: list[Need] = strawberry.field(description="The page's records, newest first.")
    end_cursor: str | None = strawberry.field(
        description="Pass it as `after` for the next page; null on an empty page."
    )
    has_next_page: bool = strawberry.field(description="Whether a page follows this one.")
    total_count: int = strawberry.field(description="The records in your scope.")


@strawberry.type(description="What `importNeeds` did, or would do (`dryRun`).")
class NeedImport:
    rows: int = strawberry.field(description="Data rows read (the header not counted).")
    created: int = strawberry.field(description="Records new (or that would be, on a dry run).")
    updated: int = strawberry.field(
        description="Records already imported from the same source and row id, now updated "
        "(or that would be)."
    )
    errors: list[NeedRowError] = strawberry.field(
        description="Every bad row and field; nothing is written when there is one."
    )


@strawberry.type(description="A bad value in a row of a needs file.")
class NeedRowError:
    row: int = strawberry.field(description="As a spreadsheet numbers it: the header is row 1.")
    field: str = strawberry.field(description="The column, e.g. `outcome`.")
    value: str | None = strawberry.field(description="The value as read; null when empty.")
    reason: str = strawberry.field(description="What is wrong with it (English).")


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
    province_code: str = strawberry.field(description="Two-letter province code, e.g. LC.")
    pooled: bool = strawberry.field(
        description="Needs pooled at the province: no comune, no supply."
    )
    needs: int = strawberry.field(description="Needs recorded in the period (k or more).")
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

    @strawberry.field(description="The comune; null for a row pooled at the province.")
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
    quarters: list[str] = strawberry.field(
        description="The quarters analysed, oldest first (`2026-Q1`)."
    )
    weeks: int = strawberry.field(description="ISO weeks in those quarters (13 a quarter).")
    capacity_weeks: int = strawberry.field(
        description="The coming weeks whose free seats count as supply (`freeSeats`)."
    )
    on_site_radius_meters: float = strawberry.field(
        description="Metres from a comune's centroid within which an on-site service counts "
        "as reaching it."
    )
    cells: list[GapCell] = strawberry.field(
        description="The rows, comune by category; only cells of at least `k` needs."
    )


@strawberry.type(
    description="Needs of a comune × category in one ISO week, where the week's cell holds "
    "at least k needs (a week below k is published with its quarter, in needsGaps, or not)."
)
class NeedTrendPoint:
    week: str = strawberry.field(description="The ISO week, `2026-W07`.")
    comune_istat: str = strawberry.field(description="6-digit ISTAT code of the comune.")
    province_code: str = strawberry.field(description="Two-letter province code, e.g. LC.")
    category_slug: str | None = strawberry.field(description="Null: every category.")
    needs: int = strawberry.field(description="Needs recorded that week (k or more).")
    unmet_referrals: int = strawberry.field(
        description="Of those, outcome WAITING or NO_LOCAL_SERVICE."
    )

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
