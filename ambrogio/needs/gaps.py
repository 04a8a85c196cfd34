"""The gap analysis: per comune × category (and each category's parent, and every category),
the needs published for a period, the unmet referrals among them, the services that reach the
comune and their free seats, and a gap score.

Every figure of needs is a sum of whole published cells (``needs.anonymity``): a row adds the
cells of its comune whose category is the row's or below it, in the period's quarters. Cells
pooled at the province (what no comune cell could publish) make rows of their own, with
``comune`` None and no supply.

The gap score, between 0 (no gap) and 1, is the mean of two shares:

- the unmet share: unmet referrals (waiting, no local service) / needs;
- the capacity shortfall: 1 - (free seats per week in the coming weeks) / (needs per week in
  the period), floored at 0 — no free seat at all for the demand is 1, enough seats is 0.

It is None where no needs are published.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ambrogio.needs.anonymity import Cell
from ambrogio.needs.lattice import Quarter, Week
from ambrogio.taxonomy import BY_SLUG, TERMS

# Category of a row or a cell: a slug, or None for every category.
Category = str | None


@dataclass(frozen=True)
class Supply:
    services: int
    free_seats: int


@dataclass(frozen=True)
class GapRow:
    comune: str | None  # None: needs pooled at the province
    province: str
    category: Category
    needs: int
    unmet: int
    services: int | None = None
    free_seats: int | None = None
    score: float | None = None

    @property
    def pooled(self) -> bool:
        return self.comune is None


def parent_of(slug: str) -> str:
    return BY_SLUG[slug].parent or slug


def row_categories(category: Category) -> list[Category]:
    """The rows a category filter asks for: itself and its sub-categories; everything when None."""
    if category is None:
        return [None, *(term.slug for term in TERMS)]
    return [category, *(term.slug for term in TERMS if term.parent == category)]


def within(cell: Category, row: Category) -> bool:
    """Whether a cell of category ``cell`` is counted in a row of category ``row``."""
    if row is None:
        return True
    return cell is not None and (cell == row or parent_of(cell) == row)


def gap_score(
    needs: int, unmet: int, free_seats: int, weeks: int, capacity_weeks: int
) -> float | None:
    if needs == 0:
        return None
    demand = needs / weeks
    free = free_seats / capacity_weeks
    shortfall = max(0.0, 1.0 - free / demand)
    return round((unmet / needs + shortfall) / 2, 4)


def _sums(
    cells: Iterable[Cell],
    keep: set[Quarter] | None,
    weeks: set[Week] | None,
    comuni: frozenset[str] | None,
    provinces: frozenset[str] | None,
    categories: list[Category],
) -> dict[tuple[str | None, str, Category, Week | None], list[int]]:
    sums: dict[tuple[str | None, str, Category, Week | None], list[int]] = defaultdict(
        lambda: [0, 0]
    )
    for cell in cells:
        if keep is not None and cell.quarter not in keep:
            continue
        if weeks is not None and cell.week not in weeks:
            continue
        if cell.comune is None:
            if provinces is not None and cell.province not in provinces:
                continue
        elif comuni is not None and cell.comune not in comuni:
            continue
        for row in categories:
            if within(cell.category, row):
                totals = sums[(cell.comune, cell.province, row, cell.week if weeks else None)]
                totals[0] += cell.needs
                totals[1] += cell.needs if cell.unmet else 0
    return sums


def gap_rows(
    cells: Iterable[Cell],
    quarters: list[Quarter],
    comuni: frozenset[str] | None,
    provinces: frozenset[str] | None,
    category: Category,
    supply: Mapping[tuple[str, Category], Supply],
    capacity_weeks: int,
) -> list[GapRow]:
    """The rows of a gap analysis with published needs, comuni first, then pooled rows."""
    weeks = sum(quarter.weeks for quarter in quarters)
    sums = _sums(cells, set(quarters), None, comuni, provinces, row_categories(category))
    rows = []
    for (comune, province, row, _), (needs, unmet) in sums.items():
        offer = supply.get((comune, row), Supply(0, 0)) if comune is not None else None
        rows.append(
            GapRow(
                comune=comune,
                province=province,
                category=row,
                needs=needs,
                unmet=unmet,
                services=offer.services if offer else None,
                free_seats=offer.free_seats if offer else None,
                score=gap_score(needs, unmet, offer.free_seats, weeks, capacity_weeks)
                if offer
                else None,
            )
        )
    return sorted(rows, key=lambda r: (r.comune is None, r.comune or r.province, r.category or ""))


@dataclass(frozen=True)
class TrendPoint:
    week: Week
    comune: str
    province: str
    category: Category
    needs: int
    unmet: int


def trend_points(
    cells: Iterable[Cell],
    weeks: list[Week],
    comuni: frozenset[str] | None,
    category: Category,
) -> list[TrendPoint]:
    """Weekly counts per comune and category: the weekly published cells (a week's needs that
    stayed below k are published with their quarter, in the gap analysis, or not at all)."""
    sums = _sums(
        (cell for cell in cells if cell.week is not None),
        None,
        set(weeks),
        comuni,
        frozenset(),
        row_categories(category),
    )
    points = [
        TrendPoint(week, comune, province, row, needs, unmet)
        for (comune, province, row, week), (needs, unmet) in sums.items()
        if comune is not None and week is not None
    ]
    return sorted(points, key=lambda p: (p.week, p.comune, p.category or ""))
