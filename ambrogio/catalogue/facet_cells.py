"""``facets`` within a radius from the facet cells (migration 0027): the same rows as
``facet_counts`` of the search, summed from counts kept at commit instead of from every
service in the circle.

The cells are squares of the UTM 32N plane (``geo/planar.py``), ``SIDE`` metres at level 0
and twice as wide at each level up to ``TOP``. ``facet_cell`` holds the facet counts of the
*simple* services of each cell: visible, with every published located place in that one
level-0 cell (and on the plane). The others, *spread*, have their planar places in
``facet_spread_point``. Why the answer is exactly ``facet_counts``'s, for a query point ``q``
and radius ``r`` where the plane applies:

- A cell is *inner* when its farthest corner is within ``K0 · r − MARGIN`` of ``q`` on the
  plane: every point of it is then within ``r`` on the ellipsoid (planar fact 1, ``d ≤ p /
  K0``). A simple service of an inner cell has all its places in the circle: it matches.
- A cell *touches* when its nearest point is within ``K_MAX · r + MARGIN``: a place within
  ``r`` has ``p ≤ K_MAX · r``, so it lies in a touching cell (the margins are far above the
  rounding of the projection and of the floor that files a point in its cell).
- The answer sums the inner cells, each once at the coarsest level whose cell is inner
  (``cell_lines``). The other matching simple services are those with a place within ``r``
  in a touching level-0 cell that no summed cell covers (the *rim*): ``facet_cell_place``
  files each place of a simple service under its cell, the rim's are read by cell and tested
  with ``planar.within`` as the search tests them, and each service found adds once what
  ``facet_cell_service`` says it adds to its cell. The spread services with a planar place
  within ``r`` are counted by the facets statement itself. A simple service is in one cell,
  so in exactly one of the parts; a spread one is in none of the sums. Every service the
  statement matches is in one of them: its place within ``r`` is in a touching cell, inner
  (the service is simple and summed, or spread) or in the rim.
- Facet counts add: a category, a comune, the total count a service once wherever it is
  counted, target groups and delivery modes as often as its arrays hold them.

The cells are exact at commit: a writing transaction reads them as they were before it (the
facets of its own uncommitted writes take ``facet_counts``). Filters other than none, a text,
no radius or a point off the plane take ``facet_counts``: ``applies`` says which.

Its parameters are the cells as lines (a row of one level: one range of the primary key
``(level, cy, cx)``) and the rim as runs of level-0 cells (one range of ``facet_cell_place``'s
``(cy, cx, …)``): the plan reads by key whatever the circle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Executable,
    Integer,
    and_,
    bindparam,
    cast,
    func,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from ambrogio.catalogue.facets import facet_counts
from ambrogio.catalogue.visibility import service_visible
from ambrogio.db.models import (
    FacetCell,
    FacetCellPlace,
    FacetCellService,
    FacetSpreadPoint,
    Service,
)
from ambrogio.geo import planar
from ambrogio.geo.point import LatLon

SIDE = 100  # metres: a level-0 cell (as migration 0027)
TOP = 5  # the coarsest level: cells of SIDE · 2^TOP
MARGIN = 0.01  # metres, on the plane
# Below this radius the facets statement reads few services and the cells save little
# (bench/results-2026-12-04-facetgrid.md); above the plane's bound the plane does not apply.
MIN_RADIUS = 1000.0

Interval = tuple[int, int]


def applies(point: LatLon | None, radius: float | None, plain: bool) -> bool:
    """The cells answer ``facets`` of an unfiltered search (``plain``: no filter, no text)
    within ``radius`` of ``point``."""
    return (
        plain
        and point is not None
        and radius is not None
        and radius >= MIN_RADIUS
        and planar.applies(point, radius, None)
    )


@dataclass(frozen=True)
class Lines:
    """The cells to sum, as rows of one level (``level``, ``at`` = cy, ``lo``..``hi`` of cx),
    and the rim, as runs of level-0 cells (``at``, ``lo``..``hi``)."""

    cells: list[tuple[int, int, int, int]]
    rim: list[tuple[int, int, int]]

    def params(self) -> dict[str, list[int]]:
        return {
            **{
                f"c_{n}": [c[i] for c in self.cells]
                for i, n in enumerate(("level", "at", "lo", "hi"))
            },
            **{f"r_{n}": [r[i] for r in self.rim] for i, n in enumerate(("at", "lo", "hi"))},
        }


def _minus(interval: Interval, taken: Sequence[Interval]) -> list[Interval]:
    """``interval`` without the (sorted, disjoint) intervals ``taken``."""
    lo, hi = interval
    left: list[Interval] = []
    for a, b in taken:
        if b < lo or a > hi:
            continue
        if a > lo:
            left.append((lo, a - 1))
        lo = max(lo, b + 1)
    if lo <= hi:
        left.append((lo, hi))
    return left


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _inner(qx: float, qy: float, rho: float, side: int, row: int) -> Interval | None:
    """The cells of ``row`` whose farthest corner is within ``rho`` of (qx, qy)."""
    dy = max(abs(row * side - qy), abs((row + 1) * side - qy))
    if dy >= rho:
        return None
    a = math.sqrt(rho * rho - dy * dy)
    lo, hi = math.ceil((qx - a) / side), math.floor((qx + a) / side) - 1
    return (lo, hi) if lo <= hi else None


def cell_lines(qx: float, qy: float, radius: float) -> Lines:
    """The lines of cells and of rim for the circle of ``radius`` around the planar point
    (``qx``, ``qy``): each inner cell once, at the coarsest level where it is inner; the
    touching level-0 cells no summed cell covers as the rim."""
    rho = planar.K0 * radius - MARGIN
    covered: dict[int, list[Interval]] = {}  # per row of the level below the current one
    cells: list[tuple[int, int, int, int]] = []
    for level in range(TOP, -1, -1):
        side = SIDE << level
        here: dict[int, list[Interval]] = {}
        for row in range(math.floor((qy - rho) / side), math.floor((qy + rho) / side) + 1):
            above = [(2 * a, 2 * b + 1) for a, b in covered.get(row >> 1, [])]
            inner = _inner(qx, qy, rho, side, row)
            used = _minus(inner, above) if inner is not None else []
            cells.extend((level, row, lo, hi) for lo, hi in used)
            if above or used:
                here[row] = _merge(above + used)
        # Rows of this level that no inner cell reaches keep what the coarser levels cover.
        for row, intervals in covered.items():
            for child in (2 * row, 2 * row + 1):
                here.setdefault(child, [(2 * a, 2 * b + 1) for a, b in intervals])
        covered = here
    reach = planar.K_MAX * radius + MARGIN
    rim: list[tuple[int, int, int]] = []
    for row in range(math.floor((qy - reach) / SIDE), math.floor((qy + reach) / SIDE) + 1):
        dy = max(row * SIDE - qy, qy - (row + 1) * SIDE, 0.0)
        if dy > reach:
            continue
        b = math.sqrt(reach * reach - dy * dy)
        touching = (math.floor((qx - b) / SIDE), math.floor((qx + b) / SIDE))
        rim.extend((row, lo, hi) for lo, hi in _minus(touching, covered.get(row, [])))
    return Lines(cells, rim)


def _ints(name: str) -> Any:
    return bindparam(name, type_=ARRAY(Integer))


def _pairs(owner: Any, name: str) -> Any:
    """The (facet, key, n) of an aggregate row's arrays, one row each."""
    return (
        func.unnest(owner.facets, owner.keys, owner.counts)
        .table_valued("facet", "key", "n")
        .render_derived(name=name)
        .lateral()
    )


def facet_cells_statement(point: LatLon, radius: float) -> Executable:
    """Rows of (facet, key, count), as ``facet_counts``'s, for the circle; its parameters are
    ``cell_lines(...).params()`` (the point's planar coordinates from the database)."""
    # The rim: the simple services with a place within the radius in the rim's cells, each
    # once, and what each adds to the sums.
    run = (
        func.unnest(_ints("r_at"), _ints("r_lo"), _ints("r_hi"))
        .table_valued("at", "lo", "hi")
        .render_derived(name="run")
    )
    place = FacetCellPlace
    rim = (
        select(place.service_id)
        .select_from(run)
        .join(place, and_(place.cy == run.c.at, place.cx.between(run.c.lo, run.c.hi)))
        .where(planar.within(place, point, radius))
        .distinct()
        .cte("rim")
        .prefix_with("MATERIALIZED")
    )
    simple = FacetCellService
    own = _pairs(simple, "own")
    rim_sums = (
        select(own.c.facet, own.c.key, own.c.n)
        .select_from(rim)
        .join(simple, simple.service_id == rim.c.service_id)
        .join(own, true())
    )
    # The spread services within the radius, counted by the facets statement itself.
    spread = (
        select(FacetSpreadPoint.service_id)
        .where(planar.within(FacetSpreadPoint, point, radius))
        .cte("spread")
        .prefix_with("MATERIALIZED")
    )
    counted = facet_counts([service_visible(), Service.id.in_(select(spread.c.service_id))])
    assert isinstance(counted, CompoundSelect)
    exact = counted.subquery("exact")
    # The cells wholly inside, by line.
    part = (
        func.unnest(_ints("c_level"), _ints("c_at"), _ints("c_lo"), _ints("c_hi"))
        .table_valued("level", "at", "lo", "hi")
        .render_derived(name="part")
    )
    cell = FacetCell
    pairs = _pairs(cell, "pairs")
    summed = (
        select(pairs.c.facet, pairs.c.key, pairs.c.n)
        .select_from(part)
        .join(
            cell,
            and_(
                cell.level == part.c.level,
                cell.cy == part.c.at,
                cell.cx.between(part.c.lo, part.c.hi),
            ),
        )
        .join(pairs, true())
    )
    rows = union_all(
        select(exact.c.facet, exact.c.key, exact.c[2].label("n")), rim_sums, summed
    ).subquery("rows")
    return select(rows.c.facet, rows.c.key, cast(func.sum(rows.c.n), BigInteger)).group_by(
        rows.c.facet, rows.c.key
    )


def planar_point(point: LatLon) -> Executable:
    """(x, y) of ``point`` on the plane, as PostGIS projects it (the rim's cells follow)."""
    plane = func.ST_Transform(point.geometry(), planar.PLANAR_SRID)
    return select(func.ST_X(plane), func.ST_Y(plane))
