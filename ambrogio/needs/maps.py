"""The gap analysis on a map: one feature per comune, its boundary where the gazetteer has
one and its centroid otherwise, carrying the row of the chosen category (GeoJSON, vector tiles
and the CSV's names).

The figures are the gap analysis's (already k-anonymous); the geometry is the gazetteer's.
Rows pooled at the province have no place of their own and are left off the map.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, Float, Integer, String, TextClause, bindparam, text

from ambrogio.geo.tiles import BUFFER, EXTENT, Tile, tile_size
from ambrogio.needs.gaps import Category, GapRow

LAYER = "needs_gaps"
# The features' attributes and their TileJSON types (also the CSV's columns, with the rest).
FIELDS = {
    "comune": "String",
    "name": "String",
    "province": "String",
    "category": "String",
    "needs": "Number",
    "unmet": "Number",
    "services": "Number",
    "free_seats": "Number",
    "gap_score": "Number",
    "polygon": "Boolean",
}

_ARRAYS = (
    bindparam("codes", type_=ARRAY(String)),
    bindparam("needs", type_=ARRAY(Integer)),
    bindparam("unmet", type_=ARRAY(Integer)),
    bindparam("services", type_=ARRAY(Integer)),
    bindparam("free_seats", type_=ARRAY(Integer)),
    bindparam("score", type_=ARRAY(Float)),
)
_VALUES = """
    unnest(:codes, :needs, :unmet, :services, :free_seats, :score)
        AS v(code, needs, unmet, services, free_seats, score)
    JOIN comune c ON c.istat_code = v.code
"""
_SELECTED = """
    c.istat_code AS comune, c.name, c.province_code AS province,
    CAST(:category AS text) AS category,
    v.needs, v.unmet, v.services, v.free_seats, v.score AS gap_score,
    c.boundary IS NOT NULL AS polygon
"""

FEATURES = text(
    f"""
SELECT {_SELECTED}, ST_AsGeoJSON(coalesce(c.boundary, c.centroid), 6) AS geometry
FROM {_VALUES}
WHERE coalesce(c.boundary, c.centroid) IS NOT NULL
ORDER BY c.istat_code
"""
).bindparams(*_ARRAYS, bindparam("category", type_=String))

TILE = text(
    f"""
SELECT ST_AsMVT(f, '{LAYER}', {EXTENT}, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_Transform(coalesce(c.boundary, c.centroid), 3857),
                        ST_TileEnvelope(:z, :x, :y), {EXTENT}, {BUFFER}, true) AS geom,
           {_SELECTED}
    FROM {_VALUES}
    WHERE coalesce(c.boundary, c.centroid)
        && ST_Transform(ST_Expand(ST_TileEnvelope(:z, :x, :y), :margin), 4326)
    ORDER BY c.istat_code
) f
"""
).bindparams(
    *_ARRAYS,
    bindparam("category", type_=String),
    bindparam("z", type_=Integer),
    bindparam("x", type_=Integer),
    bindparam("y", type_=Integer),
    bindparam("margin", type_=Float),
)


def map_rows(rows: list[GapRow], category: Category) -> list[GapRow]:
    """One row per comune: the row of the chosen category (every category when None)."""
    return [row for row in rows if row.comune is not None and row.category == category]


def _arrays(rows: list[GapRow], category: Category) -> dict[str, Any]:
    chosen = map_rows(rows, category)
    return {
        "codes": [row.comune for row in chosen],
        "needs": [row.needs for row in chosen],
        "unmet": [row.unmet for row in chosen],
        "services": [row.services for row in chosen],
        "free_seats": [row.free_seats for row in chosen],
        "score": [row.score for row in chosen],
        "category": category,
    }


def features(rows: list[GapRow], category: Category) -> TextClause:
    """Rows of (the ``FIELDS``..., geometry as GeoJSON text), one per comune on the map."""
    return FEATURES.bindparams(**_arrays(rows, category))


def tile(rows: list[GapRow], category: Category, where: Tile) -> TextClause:
    """One row, one ``bytea``: the comuni of the tile as a Mapbox Vector Tile."""
    margin = tile_size(where.z) * BUFFER / EXTENT
    return TILE.bindparams(
        **_arrays(rows, category), z=where.z, x=where.x, y=where.y, margin=margin
    )


NAMES = text("SELECT istat_code, name FROM comune WHERE istat_code = ANY(:codes)").bindparams(
    bindparam("codes", type_=ARRAY(String))
)


def names(rows: list[GapRow]) -> TextClause:
    """(istat_code, name) of the rows' comuni."""
    return NAMES.bindparams(codes=sorted({row.comune for row in rows if row.comune}))
