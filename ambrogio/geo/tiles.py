"""The Web Mercator tile grid (EPSG:3857) and the vector tile statement of each map layer.

Tiles follow the XYZ scheme of OpenStreetMap and MapLibre: zoom z splits the square world
into 2^z × 2^z tiles, x eastward from longitude -180, y southward from latitude 85.0511.
A tile statement returns one row holding the tile's bytes (empty when nothing is inside).

Features name records by their uuid (``id``, ``location_id``, ``provider_id``): the GraphQL
global id of one is ``base64url("Provider:" + id)`` without padding (``ambrogio.ids``), for
``Provider``, ``Location``, ``Service`` or ``WelfarePoint`` as the attribute says. Uuids are
12 bytes shorter than global ids, and cost the database nothing to write.

Up to zoom ``CLUSTER_MAX_ZOOM``, where a tile over a town holds tens of thousands of
locations, the providers and services layers are clustered: the tile is cut into
``CLUSTER_CELLS`` × ``CLUSTER_CELLS`` cells (on the tile grid, so a cell never straddles two
tiles) and each cell with a feature in it becomes one point, at the mean of its features,
with ``count`` (how many). A cell of one feature keeps that feature's attributes too. Only
the features inside the tile count (not its buffer): each feature is counted by one tile.
Above that zoom a tile is clustered the same way when it would hold more than
``MAX_FEATURES`` features (``dense``, counted first by ``feature_count``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    Integer,
    Text,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased

from ambrogio.catalogue.visibility import PUBLISHED, Stmt
from ambrogio.db.models import (
    SRID,
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    ServiceCategory,
    TaxonomyTerm,
    WelfarePoint,
)
from ambrogio.errors import BadUserInput
from ambrogio.geo.bbox import BBox

MERCATOR = 3857
HALF_WORLD = math.pi * 6378137.0  # the Mercator x of longitude 180
MAX_LAT = math.degrees(math.atan(math.sinh(math.pi)))  # 85.0511…: where Mercator y = HALF_WORLD
MAX_ZOOM = 22
EXTENT = 4096  # tile coordinates per side, the MVT default
# Points this far outside the tile (in tile coordinates) are written too, so that a marker on
# a tile edge is drawn whole rather than cut by the neighbouring tile's clip.
BUFFER = 64
CLUSTER_MAX_ZOOM = 12
CLUSTER_CELLS = 32  # per side: a cell is 8 px of a 256-px tile; at most 1,024 features
# Above CLUSTER_MAX_ZOOM, a tile with more features than this is clustered too (a town centre
# at a million providers): ~4,000 features are ~300 kB gzipped.
MAX_FEATURES = 4000


class Layer(StrEnum):
    PROVIDERS = "providers"
    SERVICES = "services"
    WELFARE_POINTS = "welfare_points"


def checked_zoom(zoom: int, field: str) -> int:
    if not 0 <= zoom <= MAX_ZOOM:
        raise BadUserInput(field, zoom, f"must be a zoom level between 0 and {MAX_ZOOM}")
    return zoom


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int

    @classmethod
    def checked(cls, z: int, x: int, y: int) -> Tile:
        checked_zoom(z, "z")
        last = (1 << z) - 1
        for name, value in (("x", x), ("y", y)):
            if not 0 <= value <= last:
                raise BadUserInput(name, value, f"must be between 0 and {last} at zoom {z}")
        return cls(z, x, y)


def tile_size(zoom: int) -> float:
    """The side of a tile in Mercator metres."""
    return 2 * HALF_WORLD / (1 << zoom)


def _row(lat: float) -> float:
    """The fractional tile row at zoom 0: 0 at the north edge of the map, 1 at the south."""
    lat = math.radians(max(-MAX_LAT, min(MAX_LAT, lat)))
    return (1 - math.asinh(math.tan(lat)) / math.pi) / 2


def tiles_covered(bbox: BBox, zoom: int) -> float:
    """How many tiles of ``zoom`` the box covers, by area (a cap on the work it may ask)."""
    across = bbox.width_degrees() / 360 * (1 << zoom)
    down = (_row(bbox.south) - _row(bbox.north)) * (1 << zoom)
    return across * down


def srid(code: int) -> Any:
    # Inline, not a bind parameter: ST_Transform is overloaded on (geometry, integer | text).
    return literal_column(str(code))


def _uuid(key: Any) -> ColumnElement[str]:
    return cast(key, Text)


def provider_locations(
    loc: Any, org: Any, conditions: Sequence[ColumnElement[bool]] | None
) -> list[ColumnElement[bool]]:
    """Published located locations of visible providers (``org`` joined to ``loc``). With
    ``conditions`` (a ``ServiceFilter`` on ``Service``), only providers with a published service
    that meets them: the match of the ``providers`` query, so that an at-home service, which
    has no location, still puts its provider's office on the map."""
    clauses: list[ColumnElement[bool]] = [
        org.id == loc.organization_id,
        org.status == PUBLISHED,
        org.merged_into_id.is_(None),
        loc.status == PUBLISHED,
        loc.geom.is_not(None),
    ]
    if conditions is not None:
        clauses.append(
            exists().where(
                Service.organization_id == org.id, Service.status == PUBLISHED, *conditions
            )
        )
    return clauses


def in_tile(geom: Any, tile: Tile) -> tuple[Any, ColumnElement[bool]]:
    """The feature geometry in tile coordinates, and the GiST-indexed test for the tile and
    its buffer (the 3857 envelope turned into 4326 is still a lon/lat rectangle)."""
    envelope = func.ST_TileEnvelope(tile.z, tile.x, tile.y)
    reach = func.ST_Transform(
        func.ST_Expand(envelope, tile_size(tile.z) * BUFFER / EXTENT), srid(SRID)
    )
    mvt = func.ST_AsMVTGeom(
        func.ST_Transform(geom, srid(MERCATOR)), envelope, EXTENT, BUFFER, True
    ).label("geom")
    return mvt, geom.bool_op("&&")(reach)


def _providers(tile: Tile, conditions: Sequence[ColumnElement[bool]] | None) -> Stmt:
    loc, org = aliased(Location), aliased(Organization)
    geom, inside = in_tile(loc.geom, tile)
    return (
        select(
            geom,
            _uuid(org.id).label("id"),
            _uuid(loc.id).label("location_id"),
            org.name.label("name"),
            org.kind.label("kind"),
            loc.geocode_precision.label("geocode_precision"),
            loc.comune_istat.label("comune"),
        )
        .where(*provider_locations(loc, org, conditions), inside)
        .order_by(loc.id)
    )


def _category_slugs() -> Any:
    term, link = aliased(TaxonomyTerm), aliased(ServiceCategory)
    slugs = (
        select(func.string_agg(term.slug, aggregate_order_by(literal(","), term.slug)))
        .select_from(link)
        .join(term, term.id == link.term_id)
        .where(link.service_id == Service.id, term.status == PUBLISHED)
        .scalar_subquery()
    )
    return func.coalesce(slugs, "")


def _services(tile: Tile, conditions: Sequence[ColumnElement[bool]] | None) -> Stmt:
    """One feature per service and location where it is offered. The filter applies to
    ``Service``; the aliases keep its ``EXISTS`` on locations from correlating with ours."""
    loc, org, at, owner = (
        aliased(Location),
        aliased(Organization),
        aliased(ServiceAtLocation),
        aliased(Organization),
    )
    geom, inside = in_tile(loc.geom, tile)
    return (
        select(
            geom,
            _uuid(Service.id).label("id"),
            _uuid(loc.id).label("location_id"),
            _uuid(Service.organization_id).label("provider_id"),
            Service.name.label("name"),
            _category_slugs().label("categories"),
            func.array_to_string(Service.delivery, ",").label("delivery"),
            Service.welfare_eligible.label("welfare_eligible"),
            loc.geocode_precision.label("geocode_precision"),
        )
        .where(*provider_locations(loc, org, None), inside)
        .where(at.location_id == loc.id, Service.id == at.service_id)
        .where(Service.status == PUBLISHED)
        .where(
            exists().where(
                owner.id == Service.organization_id,
                owner.status == PUBLISHED,
                owner.merged_into_id.is_(None),
            )
        )
        .where(*(conditions or ()))
        .order_by(Service.id, loc.id)
    )


def _welfare_points(tile: Tile, conditions: Sequence[ColumnElement[bool]] | None) -> Stmt:
    if conditions is not None:
        raise ValueError("welfare points take no service filter")
    geom, inside = in_tile(WelfarePoint.geom, tile)
    return (
        select(
            geom,
            _uuid(WelfarePoint.id).label("id"),
            WelfarePoint.name.label("name"),
            WelfarePoint.kind.label("kind"),
            WelfarePoint.geocode_precision.label("geocode_precision"),
            WelfarePoint.comune_istat.label("comune"),
        )
        .where(WelfarePoint.status == PUBLISHED, WelfarePoint.geom.is_not(None), inside)
        .order_by(WelfarePoint.id)
    )


LAYERS: dict[Layer, Callable[[Tile, Sequence[ColumnElement[bool]] | None], Stmt]] = {
    Layer.PROVIDERS: _providers,
    Layer.SERVICES: _services,
    Layer.WELFARE_POINTS: _welfare_points,
}


CLUSTERED = frozenset({Layer.PROVIDERS, Layer.SERVICES})


def clustered(layer: Layer, tile: Tile) -> bool:
    """Clustered whatever it holds (a dense tile above is clustered too: ``feature_count``)."""
    return layer in CLUSTERED and tile.z <= CLUSTER_MAX_ZOOM


def feature_count(
    layer: Layer, tile: Tile, conditions: Sequence[ColumnElement[bool]] | None = None
) -> Stmt:
    """How many features the tile would hold, counted up to ``MAX_FEATURES + 1``."""
    features = LAYERS[layer](tile, conditions).order_by(None).limit(MAX_FEATURES + 1)
    return select(func.count()).select_from(features.subquery("features"))


def _clusters(features: Any) -> Stmt:
    """One point per cell of the tile with features in it: at their mean position (tile
    coordinates, rounded), with ``count``; a cell of one feature keeps its attributes."""
    cell = EXTENT // CLUSTER_CELLS
    px, py = func.ST_X(features.c.geom), func.ST_Y(features.c.geom)
    column, row = func.floor(px / cell), func.floor(py / cell)
    count = func.count()
    single = [
        case((count == 1, func.array_agg(c)[1]), else_=None).label(c.name)
        for c in features.c
        if c.name != "geom"
    ]
    return (
        select(
            func.ST_MakePoint(func.round(func.avg(px)), func.round(func.avg(py))).label("geom"),
            count.label("count"),
            *single,
        )
        .where(px >= 0, px < EXTENT, py >= 0, py < EXTENT)
        .group_by(column, row)
        .order_by(column, row)
    )


def tile_stmt(
    layer: Layer,
    tile: Tile,
    conditions: Sequence[ColumnElement[bool]] | None = None,
    dense: bool = False,
) -> Stmt:
    """One row, one ``bytea``: the layer's features in ``tile`` as a Mapbox Vector Tile
    (clustered at low zoom, or when ``dense``: see the module docstring). The rows are ordered
    so that the same data always gives the same bytes (and ETag)."""
    layer_rows = LAYERS[layer](tile, conditions)
    if clustered(layer, tile) or (dense and layer in CLUSTERED):
        # Materialized: each feature's tile geometry computed once, not once per use in
        # the cell, the mean and the bounds (PostgreSQL would inline the expression).
        points = layer_rows.cte("features").prefix_with("MATERIALIZED")
        features = _clusters(points).subquery("clusters")
    else:
        features = layer_rows.subquery("features")
    return select(
        func.ST_AsMVT(features.table_valued(), literal(layer.value, Text), EXTENT, "geom")
    )


def layer_fields(layer: Layer) -> dict[str, str]:
    """The attributes of the layer's features with their TileJSON types (``String``,
    ``Number``, ``Boolean``), read from the statement that makes the tiles, so the two agree
    (``count`` on the clustered layers)."""
    tile = Tile(CLUSTER_MAX_ZOOM + 1, 0, 0)
    columns = list(LAYERS[layer](tile, None).selected_columns)
    if layer in CLUSTERED:
        columns.append(literal(1, Integer).label("count"))
    kinds = {Boolean: "Boolean", Integer: "Number", Float: "Number"}
    return {
        column.name: next(
            (kind for t, kind in kinds.items() if isinstance(column.type, t)), "String"
        )
        for column in columns
        if column.name != "geom"
    }
