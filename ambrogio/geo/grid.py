"""``mapClusters`` from the map grid (migration 0020): the same rows as ``clusters_stmt``,
summed from cells counted at write time instead of from every point of the view.

The grid holds, per key (``''`` for no filter, ``c:<slug>`` for one category, ``d:<mode>`` for
one delivery mode: the filters maps send most) and per cell of every zoom from 17 to 5, the
counts, exact numeric sums, extremes and least ids of the points inside, and ``shared``: the
cell's providers with points in other cells of its level. Why the answer is exactly
``clusters_stmt``'s:

- Cells nest: a point's cell at zoom ``c`` is its zoom-17 cell shifted right by ``17 - c``
  (the cell sides are powers of two times each other, so the float division that places the
  point is the same division, scaled). Every cell of zoom ``c`` is a union of grid cells.
- A point counts when the view holds it. The view's *inner* zoom-17 cells are those wholly
  inside it, with a margin far above the rounding of the projection: every point in them is
  inside the view. The answer sums, for each answer cell, the largest grid cells inside the
  inner rectangle (the rectangle at the answer's own zoom, then the ring each finer level
  adds at the rim) and, read from ``location`` with the filter as ``clusters_stmt`` applies it, the
  points of the view outside the inner rectangle (a band one zoom-17 cell wide at most,
  found on the GiST index by four thin envelopes). Each point is in exactly one of these
  parts.
- Counts and sums add; extremes take their extreme; the means divide the numeric sums by the
  count, as ``avg(numeric)`` does, so they are the same numbers. A cell's least location id
  is the only one when the sum counts one location.
- Providers: one not in a part's ``shared`` has all its points in that part, so it is counted
  once there; the others, and the band's, are counted by ``count(DISTINCT …)`` over the parts
  of the answer cell.

Views across the antimeridian, beyond zoom 15 (cells finer than 17) or filtered otherwise
take ``clusters_stmt`` (``None`` here).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Numeric,
    Text,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    not_,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import aliased

from ambrogio import taxonomy
from ambrogio.catalogue.filter_input import FilterInput
from ambrogio.catalogue.filters import ServiceFilterSpec
from ambrogio.catalogue.visibility import Stmt
from ambrogio.db.models import SRID, Location, MapGridCell, Organization
from ambrogio.folding import fold
from ambrogio.geo.bbox import BBox
from ambrogio.geo.clusters import cell_zoom
from ambrogio.geo.tiles import HALF_WORLD, MAX_LAT, MERCATOR, provider_locations, srid, tile_size

FINE_ZOOM = 17
COARSEST = 5  # the grid's levels: every zoom from COARSEST to FINE_ZOOM
EARTH_RADIUS = 6378137.0
# Of a zoom-17 cell (about 0.3 mm): the projection here and PostGIS's agree far closer.
MARGIN = 1e-6
# Degrees added to the band's envelopes, for the same reason (about 0.1 m).
SLACK = 1e-6


def grid_key(given: FilterInput | None, spec: ServiceFilterSpec) -> str | None:
    """The grid key of a map filter, or None when the grid does not hold it."""
    if given is None:
        return ""
    one_mode = spec.delivery is not None and len(spec.delivery) == 1
    if one_mode and spec == ServiceFilterSpec(delivery=spec.delivery):
        return f"d:{spec.delivery[0]}"  # type: ignore[index]
    one_category = given.categories is not None and len(given.categories) == 1
    if one_category and spec == ServiceFilterSpec(category_ids=spec.category_ids):
        name = given.categories[0]  # type: ignore[index]
        return f"c:{taxonomy.NAMES.get(fold(name), name)}"
    return None


@dataclass(frozen=True)
class Cells:
    """The cells ``x0..x1`` × ``y0..y1`` (inclusive) of one zoom."""

    level: int
    x0: int
    x1: int
    y0: int
    y1: int

    def coarser(self, level: int) -> Cells | None:
        """The cells of ``level`` whose zoom-``self.level`` children are all in ``self``."""
        shift = self.level - level
        x0, y0 = -(-self.x0 >> shift), -(-self.y0 >> shift)
        x1, y1 = ((self.x1 + 1) >> shift) - 1, ((self.y1 + 1) >> shift) - 1
        return Cells(level, x0, x1, y0, y1) if x0 <= x1 and y0 <= y1 else None

    def finer(self, level: int) -> Cells:
        shift = level - self.level
        return Cells(
            level,
            self.x0 << shift,
            ((self.x1 + 1) << shift) - 1,
            self.y0 << shift,
            ((self.y1 + 1) << shift) - 1,
        )

    def minus(self, inner: Cells) -> list[Cells]:
        """``self`` without ``inner`` (which it contains): up to four rectangles."""
        parts = [
            Cells(self.level, self.x0, self.x1, self.y0, inner.y0 - 1),
            Cells(self.level, self.x0, self.x1, inner.y1 + 1, self.y1),
            Cells(self.level, self.x0, inner.x0 - 1, inner.y0, inner.y1),
            Cells(self.level, inner.x1 + 1, self.x1, inner.y0, inner.y1),
        ]
        return [p for p in parts if p.x0 <= p.x1 and p.y0 <= p.y1]


def _x(lon: float) -> float:
    return (math.radians(lon) * EARTH_RADIUS + HALF_WORLD) / tile_size(FINE_ZOOM)


def _y(lat: float) -> float:
    merc = EARTH_RADIUS * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (HALF_WORLD - merc) / tile_size(FINE_ZOOM)


def _lon(x: int) -> float:
    return math.degrees((x * tile_size(FINE_ZOOM) - HALF_WORLD) / EARTH_RADIUS)


def _lat(y: int) -> float:
    return math.degrees(
        math.atan(math.sinh((HALF_WORLD - y * tile_size(FINE_ZOOM)) / EARTH_RADIUS))
    )


def inner_cells(view: BBox) -> Cells | None:
    """The zoom-17 cells wholly inside ``view`` (a box within the Mercator latitudes)."""
    x0, x1 = math.ceil(_x(view.west) + MARGIN), math.floor(_x(view.east) - MARGIN) - 1
    y0, y1 = math.ceil(_y(view.north) + MARGIN), math.floor(_y(view.south) - MARGIN) - 1
    return Cells(FINE_ZOOM, x0, x1, y0, y1) if x0 <= x1 and y0 <= y1 else None


def grid_parts(inner: Cells, zoom: int) -> list[Cells]:
    """Disjoint rectangles of grid cells covering ``inner``: the cells of ``zoom``'s answer
    (or of the coarsest level) wholly inside first, then the rim each finer level adds."""
    parts: list[Cells] = []
    covered: Cells | None = None
    for level in range(max(cell_zoom(zoom), COARSEST), FINE_ZOOM + 1):
        here = inner.coarser(level)
        if here is None:
            continue
        parts.extend([here] if covered is None else here.minus(covered.finer(level)))
        covered = here
    return parts


def _fine(value: ColumnElement[float], cells: int, size: float) -> ColumnElement[int]:
    # As clusters_stmt places a point: least() keeps longitude 180 in the last cell.
    return cast(func.least(func.floor(value / size), cells - 1), Integer)


def _band(
    view: BBox, inner: Cells, zoom: int, conditions: Sequence[ColumnElement[bool]] | None
) -> Stmt:
    """The view's points outside the inner cells, one part each."""
    loc, org = aliased(Location), aliased(Organization)
    merc = func.ST_Transform(loc.geom, srid(MERCATOR))
    east, north = func.ST_X(merc) + HALF_WORLD, HALF_WORLD - func.ST_Y(merc)
    top = cell_zoom(zoom)
    fx = _fine(east, 1 << FINE_ZOOM, tile_size(FINE_ZOOM))
    fy = _fine(north, 1 << FINE_ZOOM, tile_size(FINE_ZOOM))
    west_in, east_in = _lon(inner.x0) + SLACK, _lon(inner.x1 + 1) - SLACK
    north_in, south_in = _lat(inner.y0) - SLACK, _lat(inner.y1 + 1) + SLACK
    strips = (
        (view.west, view.south, west_in, view.north),
        (east_in, view.south, view.east, view.north),
        (view.west, north_in, view.east, view.north),
        (view.west, view.south, view.east, south_in),
    )
    lon, lat = func.ST_X(loc.geom), func.ST_Y(loc.geom)
    return select(
        _fine(east, 1 << top, tile_size(top)).label("cx"),
        _fine(north, 1 << top, tile_size(top)).label("cy"),
        literal(1, Integer).label("locations"),
        literal(0, Integer).label("solo"),
        array([org.id]).label("shared"),
        cast(lon, Numeric).label("lon_sum"),
        cast(lat, Numeric).label("lat_sum"),
        lon.label("west"),
        lat.label("south"),
        lon.label("east"),
        lat.label("north"),
        cast(loc.id, Text).label("location_id"),
        cast(org.id, Text).label("provider_id"),
    ).where(
        *provider_locations(loc, org, conditions),
        view.contains(loc.geom),
        or_(
            *(
                loc.geom.bool_op("&&")(
                    func.ST_MakeEnvelope(
                        literal(w, Float),
                        literal(s, Float),
                        literal(e, Float),
                        literal(n, Float),
                        SRID,
                    )
                )
                for w, s, e, n in strips
            )
        ),
        not_(and_(fx.between(inner.x0, inner.x1), fy.between(inner.y0, inner.y1))),
    )


def _cells(parts: Sequence[Cells], key: str, zoom: int, along: str) -> Stmt:
    """The grid cells of ``parts``, each part a row of an ``unnest``: one statement text for
    any view, so that its plan is cached. ``along`` names the index: ``y`` (rows first, the
    primary key) for parts wider than tall, ``x`` (columns first) for the others; the row
    comparison on the index's leading columns is what makes the planner take it."""
    cell = MapGridCell

    def ints(values: list[int]) -> Any:
        return cast(literal(values, ARRAY(Integer)), ARRAY(Integer))

    r = (
        func.unnest(
            ints([p.level for p in parts]),
            ints([p.x0 for p in parts]),
            ints([p.x1 for p in parts]),
            ints([p.y0 for p in parts]),
            ints([p.y1 for p in parts]),
        )
        .table_valued("level", "x0", "x1", "y0", "y1")
        .render_derived(name="part")
    )
    lead, other = (cell.y, cell.x) if along == "y" else (cell.x, cell.y)
    lead0, lead1, other0, other1 = (
        (r.c.y0, r.c.y1, r.c.x0, r.c.x1) if along == "y" else (r.c.x0, r.c.x1, r.c.y0, r.c.y1)
    )
    shift = r.c.level - literal(cell_zoom(zoom), Integer)
    return (
        select(
            cell.x.op(">>")(shift).label("cx"),
            cell.y.op(">>")(shift).label("cy"),
            cell.locations,
            (cell.providers - func.cardinality(cell.shared)).label("solo"),
            cell.shared,
            cell.lon_sum,
            cell.lat_sum,
            cell.west,
            cell.south,
            cell.east,
            cell.north,
            cell.location_id,
            cell.provider_id,
        )
        .select_from(r)
        .join(
            cell,
            and_(
                tuple_(cell.key, cell.level, lead) >= tuple_(literal(key), r.c.level, lead0),
                tuple_(cell.key, cell.level, lead) <= tuple_(literal(key), r.c.level, lead1),
                cell.key == key,
                cell.level == r.c.level,
                other.between(other0, other1),
            ),
        )
    )


def grid_clusters_stmt(
    bbox: BBox, zoom: int, key: str, conditions: Sequence[ColumnElement[bool]] | None
) -> Stmt | None:
    """``clusters_stmt(bbox, zoom, conditions)``'s rows from the grid of ``key`` (the key of
    ``conditions``), or None where the grid cannot answer."""
    view = bbox.clamped(MAX_LAT)
    if view is None or view.crosses_antimeridian or cell_zoom(zoom) > FINE_ZOOM:
        return None
    inner = inner_cells(view)
    if inner is None:
        return None
    pieces = grid_parts(inner, zoom)
    # Materialized: read once, for the sums and for the distinct providers.
    parts = (
        union_all(
            _cells([p for p in pieces if p.x1 - p.x0 >= p.y1 - p.y0], key, zoom, "y"),
            _cells([p for p in pieces if p.x1 - p.x0 < p.y1 - p.y0], key, zoom, "x"),
            _band(view, inner, zoom, conditions),
        )
        .cte("parts")
        .prefix_with("MATERIALIZED")
    )
    p = parts.c
    count = func.sum(p.locations)
    totals = (
        select(
            p.cx,
            p.cy,
            count.label("count"),
            func.sum(p.solo).label("solo"),
            cast(func.sum(p.lat_sum) / count, Float).label("lat"),
            cast(func.sum(p.lon_sum) / count, Float).label("lon"),
            func.min(p.west).label("west"),
            func.min(p.south).label("south"),
            func.max(p.east).label("east"),
            func.max(p.north).label("north"),
            case((count == 1, func.min(p.location_id))).label("location_id"),
            func.min(p.provider_id).label("provider_id"),
        )
        .group_by(p.cx, p.cy)
        .subquery("totals")
    )
    members = select(p.cx, p.cy, func.unnest(p.shared).label("id")).subquery("members")
    spread = (
        select(members.c.cx, members.c.cy, func.count(distinct(members.c.id)).label("n"))
        .group_by(members.c.cx, members.c.cy)
        .subquery("spread")
    )
    t = totals.c
    providers = t.solo + func.coalesce(spread.c.n, 0)
    return (
        select(
            t.cx,
            t.cy,
            t["count"],
            providers.label("providers"),
            t.lat,
            t.lon,
            t.west,
            t.south,
            t.east,
            t.north,
            t.location_id,
            case((providers == 1, t.provider_id)).label("provider_id"),
        )
        .select_from(totals.outerjoin(spread, and_(spread.c.cx == t.cx, spread.c.cy == t.cy)))
        .order_by(t.cy, t.cx)
    )
