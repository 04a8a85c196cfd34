"""Gap analysis and trends, end to end: the published cells of every kept need, the supply
of the comuni in the answer, and the rows. Used by GraphQL, the HTTP routes and the command
line alike, so that they publish the same figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio import taxonomy, validation
from ambrogio.db.known import load_known
from ambrogio.db.models import Comune
from ambrogio.errors import BadUserInput
from ambrogio.hours.calendar import TIMEZONE
from ambrogio.needs import records
from ambrogio.needs.anonymity import Cell, Fact, Window, publish
from ambrogio.needs.gaps import Category, GapRow, Supply, TrendPoint, gap_rows, trend_points
from ambrogio.needs.lattice import Quarter, Week, quarter_span, week_span
from ambrogio.needs.supply import supply
from ambrogio.needs.vocabulary import UNMET
from ambrogio.settings import Settings

# Need categories are the welfare taxonomy's (not terms kept from other vocabularies).
CATEGORIES = validation.Known(categories=frozenset(taxonomy.BY_SLUG))
UNMET_VALUES = frozenset(outcome.value for outcome in UNMET)


async def known_values(session: AsyncSession) -> validation.Known:
    """What a need record may name: the gazetteer's comuni and the taxonomy's categories."""
    comuni = (await load_known(session)).comuni
    return validation.Known(comuni=comuni, categories=CATEGORIES.categories)


@dataclass(frozen=True)
class Scope:
    """What an aggregate covers: comuni (None: all) and one whole category (None: all)."""

    comuni: frozenset[str] | None
    provinces: frozenset[str] | None
    category: Category


async def checked_scope(
    session: AsyncSession, comuni: list[str] | None, category: str | None
) -> Scope:
    slug = validation.category("category", category, CATEGORIES) if category else None
    if comuni is None:
        return Scope(None, None, slug)
    codes = [validation.istat_code(f"comuni[{index}]", code) for index, code in enumerate(comuni)]
    query = select(Comune.istat_code, Comune.province_code).where(Comune.istat_code.in_(codes))
    found: dict[str, str] = dict((await session.execute(query)).all())
    for index, code in enumerate(codes):
        if code not in found:
            raise BadUserInput(f"comuni[{index}]", code, "is not a known comune")
    return Scope(frozenset(codes), frozenset(found.values()), slug)


def today_in_rome(now: datetime) -> date:
    return validation.aware("now", now).astimezone(TIMEZONE).date()


# The last partition made, by what it was made of: a planner's map asks for many tiles of the
# same cells, and the records change far less often than they are read.
_LAST: dict[tuple[Any, ...], list[Cell]] = {}


def published_until(settings: Settings, today: date) -> date:
    """The day periods count as ended by: today, less the days a late entry is accepted."""
    return today - timedelta(days=settings.needs_late_entry_days)


async def published_cells(session: AsyncSession, settings: Settings, today: date) -> list[Cell]:
    """The published cells of every need kept (within the retention period)."""
    earliest = records.retention_start(today, settings.needs_retention_months)
    version = (await session.execute(records.data_version())).one()
    key = (*version, today, earliest, settings.needs_k, settings.needs_late_entry_days)
    if key in _LAST:
        return _LAST[key]
    rows = (await session.execute(records.facts(earliest))).all()
    weeks: dict[date, Week] = {}
    facts = [
        Fact(
            comune,
            province,
            slug,
            parent,
            weeks.get(day) or weeks.setdefault(day, Week.of(day)),
            outcome in UNMET_VALUES,
            entered.astimezone(TIMEZONE).date(),
        )
        for comune, province, slug, parent, day, outcome, entered in rows
    ]
    window = Window(today, earliest, settings.needs_late_entry_days)
    cells = publish(facts, settings.needs_k, window)
    _LAST.clear()
    _LAST[key] = cells
    return cells


@dataclass(frozen=True)
class GapAnalysis:
    quarters: list[Quarter]
    rows: list[GapRow]


async def gap_analysis(
    session: AsyncSession,
    settings: Settings,
    scope: Scope,
    period_from: str | None,
    period_to: str | None,
    now: datetime,
) -> GapAnalysis:
    today = today_in_rome(now)
    quarters = quarter_span(period_from, period_to, published_until(settings, today))
    cells = await published_cells(session, settings, today)

    def rows(offer: dict[tuple[str, Category], Supply]) -> list[GapRow]:
        return gap_rows(
            cells,
            quarters,
            scope.comuni,
            scope.provinces,
            scope.category,
            offer,
            settings.needs_capacity_weeks,
        )

    comuni = sorted({row.comune for row in rows({}) if row.comune is not None})
    end = now + timedelta(weeks=settings.needs_capacity_weeks)
    offered = await session.execute(
        supply(comuni, settings.needs_onsite_radius_m, now.astimezone(UTC), end.astimezone(UTC))
    )
    offer = {
        (code, category): Supply(int(services), int(free))
        for code, category, services, free in offered
    }
    return GapAnalysis(quarters, rows(offer))


async def trends(
    session: AsyncSession,
    settings: Settings,
    scope: Scope,
    from_week: str,
    to_week: str,
    now: datetime,
) -> list[TrendPoint]:
    today = today_in_rome(now)
    weeks = week_span(from_week, to_week, published_until(settings, today))
    cells = await published_cells(session, settings, today)
    return trend_points(cells, weeks, scope.comuni, scope.category)
