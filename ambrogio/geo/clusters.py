"""Server-side map clusters: located providers grouped by a grid of Web Mercator cells.

The grid is the tile grid ``CELL_ZOOM`` levels deeper: at zoom z a cell is the tile
(z + 2, x, y), a quarter of a zoom-z tile on each side (64 px on a map of 256-px tiles).
It is anchored to the Mercator origin, not to the bbox, so panning never moves a cell: a cell
inside two views clusters the same points in both. The bbox only decides which points count,
so a cell cut by the bbox edge counts the points on the inside.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Numeric,
    Text,
    case,
    cast,
    distinct,
    false,
    func,
    select,
)
from sqlalchemy.orm import aliased

from ambrogio.catalogue.visibility import Stmt
from ambrogio.db.models import Location, Organization
from ambrogio.errors import BadUserInput
from ambrogio.geo.bbox import BBox
from ambrogio.geo.tiles import (
    HALF_WORLD,
    MAX_LAT,
    MERCATOR,
    provider_locations,
    srid,
    tile_size,
    tiles_covered,
)

CELL_ZOOM = 2
# A view larger than this many tiles of its zoom is a client asking for the world at street
# level: up to 16 384 cells, far beyond any screen (a 4K screen shows about 130 tiles).
MAX_TILES = 1024


def checked_view(bbox: BBox, zoom: int, field: str) -> BBox:
    covered = tiles_covered(bbox, zoom)
    if covered > MAX_TILES:
        raise BadUserInput(
            field,
            f"{bbox.west},{bbox.south},{bbox.east},{bbox.north}",
            f"covers {covered:.0f} tiles at zoom {zoom}; at most {MAX_TILES}: "
            "zoom out or ask for a smaller box",
        )
    return bbox


def cell_zoom(zoom: int) -> int:
    """The zoom of the tiles that are the cells of ``zoom``'s grid."""
    return zoom + CELL_ZOOM


def clusters_stmt(bbox: BBox, zoom: int, conditions: Sequence[ColumnElement[bool]] | None) -> Stmt:
    """One row per non-empty cell: its tile ``cx``/``cy``, the number of locations and of
    providers, their mean and extreme coordinates, and the location (provider) id when the
    cell holds exactly one (of one provider)."""
    loc, org = aliased(Location), aliased(Organization)
    cells = 1 << cell_zoom(zoom)
    cell = tile_size(cell_zoom(zoom))
    merc = func.ST_Transform(loc.geom, srid(MERCATOR))
    # least(): a point on longitude 180 (latitude -85.05) lies on the far edge of the last cell.
    cx = func.least(func.floor((func.ST_X(merc) + HALF_WORLD) / cell), cells - 1)
    cy = func.least(func.floor((HALF_WORLD - func.ST_Y(merc)) / cell), cells - 1)
    # Mercator ends at ±85.05°: points beyond it are on no map.
    view = bbox.clamped(MAX_LAT)
    points = (
        select(
            loc.id,
            loc.organization_id,
            func.ST_X(loc.geom).label("lon"),
            func.ST_Y(loc.geom).label("lat"),
            cast(cx, Integer).label("cx"),
            cast(cy, Integer).label("cy"),
        )
        .where(*provider_locations(loc, org, conditions))
        .where(view.contains(loc.geom) if view is not None else false())
        .subquery("points")
    )
    p = points.c
    count = func.count()

    def mean(column: ColumnElement[float]) -> ColumnElement[float]:
        # In numeric, exactly: a float sum depends on the row order, and the same cell must
        # give the same centroid whichever bbox brought it.
        return cast(func.avg(cast(column, Numeric)), Float)

    providers = func.count(distinct(p.organization_id))
    return (
        select(
            p.cx,
            p.cy,
            count.label("count"),
            providers.label("providers"),
            mean(p.lat).label("lat"),
            mean(p.lon).label("lon"),
            func.min(p.lon).label("west"),
            func.min(p.lat).label("south"),
            func.max(p.lon).label("east"),
            func.max(p.lat).label("north"),
            # uuid has no min(); as text it does, and with one row it is that row.
            case((count == 1, func.min(cast(p.id, Text)))).label("location_id"),
            case((providers == 1, func.min(cast(p.organization_id, Text)))).label("provider_id"),
        )
        .group_by(p.cx, p.cy)
        .order_by(p.cy, p.cx)
    )
