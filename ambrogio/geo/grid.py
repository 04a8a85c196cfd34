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
  adds at the rim) and the points of the view outside the inner rectangle: the band, read
  from ``map_grid_point`` (the points under the key, as the cells are: the filter is the
  key's) in the lines of zoom-17 cells around the inner rectangle that reach within ``NEAR``
  of the view's edge (a point ``&&`` admits is closer than that), each point kept when
  ``&&`` of its very point (the location's two doubles) and the view's envelope holds, the
  test ``clusters_stmt`` makes. Each point is in exactly one of these parts.
- ``&&`` compares float4 boxes: the envelope's rounded outwards, the point's too (PostGIS's
  ``next_float_down`` and ``next_float_up``). The point's box overlaps the envelope's
  exactly when each coordinate lies strictly between the float4 below the envelope's
  rounded-down edge and the float4 above its rounded-up one (``admitted``): four double
  comparisons, made on the index tuples, with the same answer.
- Counts and sums add; extremes take their extreme; the means divide the numeric sums by the
  count, as ``avg(numeric)`` does, so they are the same numbers (a band point adds its
  stored ``lon::numeric``, migration 0026: the value ``clusters_stmt`` converts). A cell's
  least location id is the only one when the sum counts one location.
- Providers: one not in a part's ``shared`` has all its points in that part, so it is counted
  once there; the others, and the band's (its points summed per answer cell, their providers
  all in its ``shared``), are counted by ``count(DISTINCT …)`` over the parts of the answer
  cell.

Views across the antimeridian, beyond zoom 15 (cells finer than 17) or filtered otherwise
take ``clusters_stmt`` (``None`` here).

The statement is built once (``grid_clusters_statement``); a view is its parameters: the
cells as lines (a row or a column of one level), so that each line is one range of an index
whose leading columns are all equalities, whatever the plan. It reads no ``location`` row:
its cost is the lines of the view's rim, not the providers in view.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Text,
    and_,
    bindparam,
    case,
    cast,
    distinct,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from ambrogio import taxonomy
from ambrogio.catalogue.filter_input import FilterInput
from ambrogio.catalogue.filters import ServiceFilterSpec
from ambrogio.catalogue.visibility import Stmt
from ambrogio.db.models import MapGridCell, MapGridPoint
from ambrogio.folding import fold
from ambrogio.geo.bbox import BBox
from ambrogio.geo.clusters import cell_zoom
from ambrogio.geo.tiles import HALF_WORLD, MAX_LAT, tile_size

FINE_ZOOM = 17
COARSEST = 5  # the grid's levels: every zoom from COARSEST to FINE_ZOOM
EARTH_RADIUS = 6378137.0
# Of a zoom-17 cell (about 0.3 mm): the projection here and PostGIS's agree far closer.
MARGIN = 1e-6
# Degrees: more than the float4 rounding of any coordinate (1.5e-5 at longitude 180), so that
# a point farther than this from the view is one its ``&&`` refuses. The band's lines on each
# side are those within NEAR of the view's edge: one, or two when the edge passes that close
# to a line between cells.
NEAR = 1e-4


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


def _ints(name: str) -> Any:
    return bindparam(name, type_=ARRAY(Integer))


def _cells(along: str, extents: bool) -> Stmt:
    """The grid cells of the lines of ``along``, each line a row of an ``unnest``: one
    statement text for any view, so that its plan is cached. ``y``: rows of cells, each one
    range of the primary key ``(key, level, y, x)``; ``x``: columns, on ``(key, level, x, y)``.
    One line at a time, so that every column of the index before the range is an equality and
    the planner takes the index that reads the line alone."""
    cell = MapGridCell
    r = (
        func.unnest(*(_ints(f"{along}_{name}") for name in ("level", "at", "lo", "hi")))
        .table_valued("level", "at", "lo", "hi")
        .render_derived(name=f"part_{along}")
    )
    lead, other = (cell.y, cell.x) if along == "y" else (cell.x, cell.y)
    shift = r.c.level - bindparam("top", type_=Integer)
    edges = (cell.west, cell.south, cell.east, cell.north, cell.location_id, cell.provider_id)
    return (
        select(
            cell.x.op(">>")(shift).label("cx"),
            cell.y.op(">>")(shift).label("cy"),
            cell.locations,
            (cell.providers - func.cardinality(cell.shared)).label("solo"),
            cell.shared,
            cell.lon_sum,
            cell.lat_sum,
            *(edges if extents else ()),
        )
        .select_from(r)
        .join(
            cell,
            and_(
                cell.key == bindparam("key", type_=Text),
                cell.level == r.c.level,
                lead == r.c.at,
                other.between(r.c.lo, r.c.hi),
            ),
        )
    )


def _band(along: str) -> Stmt:
    """The points of the grid's zoom-17 cells in the band's lines of ``along`` (``y``: rows,
    read on ``(key, y, x)``; ``x``: columns, on ``(key, x, y)``; one line per ``unnest`` row,
    each one index range) that the view holds, as ``clusters_stmt`` tests it: ``&&`` of the
    location's very point (the same two doubles) with the view's envelope, as the bounds of
    ``admitted`` say it."""
    p = aliased(MapGridPoint)
    r = (
        func.unnest(*(_ints(f"band_{along}_{name}") for name in ("at", "lo", "hi")))
        .table_valued("at", "lo", "hi")
        .render_derived(name=f"line_{along}")
    )
    lead, other = (p.y, p.x) if along == "y" else (p.x, p.y)
    key = bindparam("key", type_=Text)
    shift = literal(FINE_ZOOM, Integer) - bindparam("top", type_=Integer)
    above_west, below_east, above_south, below_north = (
        bindparam(edge, type_=Float)
        for edge in ("above_west", "below_east", "above_south", "below_north")
    )
    return (
        select(
            p.x.op(">>")(shift).label("cx"),
            p.y.op(">>")(shift).label("cy"),
            p.lon,
            p.lat,
            p.lon_numeric,
            p.lat_numeric,
            p.location_id,
            p.provider_id,
        )
        .select_from(r)
        .join(
            p,
            and_(
                p.key == key,
                lead == r.c.at,
                other.between(r.c.lo, r.c.hi),
            ),
        )
        .where(
            p.lon > above_west,
            p.lon < below_east,
            p.lat > above_south,
            p.lat < below_north,
        )
    )


def _band_sums(extents: bool) -> Stmt:
    """The band's points summed per answer cell, as a part: its providers all in ``shared``
    (each once), to be counted with the cells' shared ones."""
    band = union_all(_band("y"), _band("x")).subquery("band")
    b = band.c
    edges = (
        func.min(b.lon).label("west"),
        func.min(b.lat).label("south"),
        func.max(b.lon).label("east"),
        func.max(b.lat).label("north"),
        func.min(cast(b.location_id, Text)).label("location_id"),
        func.min(cast(b.provider_id, Text)).label("provider_id"),
    )
    return select(
        b.cx,
        b.cy,
        cast(func.count(), Integer).label("locations"),
        literal(0, Integer).label("solo"),
        func.array_agg(distinct(b.provider_id)).label("shared"),
        # The points' own ``lon::numeric`` (migration 0026): the sums are clusters_stmt's.
        func.sum(b.lon_numeric).label("lon_sum"),
        func.sum(b.lat_numeric).label("lat_sum"),
        *(edges if extents else ()),
    ).group_by(b.cx, b.cy)


@cache
def grid_clusters_statement(extents: bool = True) -> Stmt:
    """The statement of every grid answer, built once: its parameters (``grid_clusters_query``
    gives them) say which cells and which band. Without ``extents``, the rows lack the
    clusters' boxes and single ids (``west`` … ``north``, ``location_id``, ``provider_id``):
    for an answer that reads none of them, the band's ids are not turned into text."""
    # Materialized: read once, for the sums and for the distinct providers.
    parts = (
        union_all(_cells("y", extents), _cells("x", extents), _band_sums(extents))
        .cte("parts")
        .prefix_with("MATERIALIZED")
    )
    p = parts.c
    count = func.sum(p.locations)
    edges = (
        (
            func.min(p.west).label("west"),
            func.min(p.south).label("south"),
            func.max(p.east).label("east"),
            func.max(p.north).label("north"),
            case((count == 1, func.min(p.location_id))).label("location_id"),
            func.min(p.provider_id).label("provider_id"),
        )
        if extents
        else ()
    )
    totals = (
        select(
            p.cx,
            p.cy,
            count.label("count"),
            func.sum(p.solo).label("solo"),
            cast(func.sum(p.lat_sum) / count, Float).label("lat"),
            cast(func.sum(p.lon_sum) / count, Float).label("lon"),
            *edges,
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
    own = (
        (
            t.west,
            t.south,
            t.east,
            t.north,
            t.location_id,
            case((providers == 1, t.provider_id)).label("provider_id"),
        )
        if extents
        else ()
    )
    return (
        select(
            t.cx,
            t.cy,
            t["count"],
            providers.label("providers"),
            t.lat,
            t.lon,
            *own,
        )
        .select_from(totals.outerjoin(spread, and_(spread.c.cx == t.cx, spread.c.cy == t.cy)))
        .order_by(t.cy, t.cx)
    )


def _lines(parts: Sequence[Cells], along: str) -> dict[str, list[int]]:
    """The parts as lines of cells: rows (``y``) or columns (``x``)."""
    lines = [
        (p.level, at, p.x0, p.x1) if along == "y" else (p.level, at, p.y0, p.y1)
        for p in parts
        for at in (range(p.y0, p.y1 + 1) if along == "y" else range(p.x0, p.x1 + 1))
    ]
    return {
        f"{along}_{name}": [line[i] for line in lines]
        for i, name in enumerate(("level", "at", "lo", "hi"))
    }


def _float4(value: float) -> float:
    """``value`` rounded to the nearest float4, as a C cast rounds it."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _float4_step(single: float, up: bool) -> float:
    """The float4 next to ``single`` (a float4) upwards or downwards."""
    if single == 0.0:
        bits = 0x00000001 if up else 0x80000001
    else:
        (bits,) = struct.unpack("<I", struct.pack("<f", single))
        bits += 1 if (single > 0) == up else -1
    return float(struct.unpack("<f", struct.pack("<I", bits))[0])


def _float_down(value: float) -> float:
    """PostGIS's ``next_float_down``: the largest float4 not above ``value``."""
    single = _float4(value)
    return single if single <= value else _float4_step(single, up=False)


def _float_up(value: float) -> float:
    """PostGIS's ``next_float_up``: the least float4 not below ``value``."""
    single = _float4(value)
    return single if single >= value else _float4_step(single, up=True)


def admitted(view: BBox) -> dict[str, float]:
    """The open bounds of the coordinates whose point ``&&`` the view's envelope admits.

    The envelope's box is ``next_float_down(west)`` .. ``next_float_up(east)`` (and so for the
    latitudes), the point's ``next_float_down(lon)`` .. ``next_float_up(lon)``; they overlap
    when ``next_float_up(lon) >= next_float_down(west)``, that is when no float4 lies in
    ``[lon, next_float_down(west))``: when ``lon`` is above the float4 below that edge. The
    same on the other three sides."""
    return {
        "above_west": _float4_step(_float_down(view.west), up=False),
        "below_east": _float4_step(_float_up(view.east), up=True),
        "above_south": _float4_step(_float_down(view.south), up=False),
        "below_north": _float4_step(_float_up(view.north), up=True),
    }


def band_lines(view: BBox, inner: Cells) -> dict[str, list[int]]:
    """The zoom-17 lines of the band: the rows above and below ``inner`` that reach within
    ``NEAR`` of the view (across the band's whole width) and the columns each side of it
    (``inner``'s height), as ``at`` (the row or column) and ``lo``..``hi`` (the cells along
    it)."""
    x0 = min(math.floor(_x(view.west - NEAR)), inner.x0 - 1)
    x1 = max(math.floor(_x(view.east + NEAR)), inner.x1 + 1)
    # Rows run southwards. Beyond the Mercator latitudes a line holds no point; at them, a
    # point's cell (PostGIS's) may be the row just outside the world, which this reaches.
    y0 = min(math.floor(_y(view.north + NEAR)), inner.y0 - 1)
    y1 = max(math.floor(_y(view.south - NEAR)), inner.y1 + 1)
    rows = [*range(y0, inner.y0), *range(inner.y1 + 1, y1 + 1)]
    columns = [*range(x0, inner.x0), *range(inner.x1 + 1, x1 + 1)]
    return {
        "band_y_at": rows,
        "band_y_lo": [x0] * len(rows),
        "band_y_hi": [x1] * len(rows),
        "band_x_at": columns,
        "band_x_lo": [inner.y0] * len(columns),
        "band_x_hi": [inner.y1] * len(columns),
    }


def grid_clusters_query(
    bbox: BBox, zoom: int, key: str, extents: bool = True
) -> tuple[Stmt, dict[str, Any]] | None:
    """``clusters_stmt(bbox, zoom, conditions)``'s rows from the grid of ``key`` (the key of
    ``conditions``): the statement and its parameters, or None where the grid cannot answer.
    Without ``extents``, rows without the boxes and single ids (``grid_clusters_statement``)."""
    view = bbox.clamped(MAX_LAT)
    if view is None or view.crosses_antimeridian or cell_zoom(zoom) > FINE_ZOOM:
        return None
    inner = inner_cells(view)
    if inner is None:
        return None
    pieces = grid_parts(inner, zoom)
    params: dict[str, Any] = {
        "key": key,
        "top": cell_zoom(zoom),
        **admitted(view),
        **_lines([p for p in pieces if p.x1 - p.x0 >= p.y1 - p.y0], "y"),
        **_lines([p for p in pieces if p.x1 - p.x0 < p.y1 - p.y0], "x"),
        **band_lines(view, inner),
    }
    return grid_clusters_statement(extents), params
