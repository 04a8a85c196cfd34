"""The map grid answers ``mapClusters`` exactly as the statement over every point does.

20,000 synthetic providers (``scaled_url``); each view is a 1280 × 800 map, as a browser
asks for it, around a town and across the province's edge, at zooms 6 to 15, under the three
kinds of grid key. The oracle is ``clusters_stmt``, value for value: counts, distinct
providers, the numeric means, extremes and single ids.
"""

from __future__ import annotations

import math
import random
import struct
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ambrogio.catalogue.filter_input import FilterInput, resolve_filter
from ambrogio.catalogue.filters import service_conditions
from ambrogio.db.session import create_sessionmaker
from ambrogio.enums import Delivery
from ambrogio.geo.bbox import BBox
from ambrogio.geo.clusters import clusters_stmt
from ambrogio.geo.grid import admitted, grid_clusters_query, grid_key
from ambrogio.settings import Settings
from tests.support.plans import generic_plan

# (lon, lat) at the centre of the map: Lecco; the province's south-west edge (its band of
# points is cut by the view's edges at every zoom).
CENTRES = ((9.3932, 45.8566), (9.27, 45.70))
FILTERS = (
    None,
    FilterInput(categories=["assistenza-e-cura"]),  # a category with sub-categories
    FilterInput(categories=["badante"]),  # a leaf
    FilterInput(delivery=[Delivery.AT_HOME]),
)


def map_view(lon: float, lat: float, zoom: int, width: int = 1280, height: int = 800) -> BBox:
    """The box a ``width`` × ``height`` map of 256-pixel tiles shows around (lon, lat)."""
    world = 256 * 2**zoom
    px = (lon + 180) / 360 * world
    py = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * world

    def lon_at(x: float) -> float:
        return x / world * 360 - 180

    def lat_at(y: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / world))))

    return BBox(
        lon_at(px - width / 2),
        lat_at(py + height / 2),
        lon_at(px + width / 2),
        lat_at(py - height / 2),
    )


async def _filtered(conn: AsyncConnection, given: FilterInput | None) -> tuple[str, Any]:
    async with create_sessionmaker(conn.engine)() as session:
        spec = await resolve_filter(session, given)
    key = grid_key(given, spec)
    assert key is not None
    return key, service_conditions(spec) if given is not None else None


# A second location for one provider in seven, up to a few kilometres from its first: in
# another zoom-17 cell, often in the same cell of the answer (one provider, counted once).
SECOND_LOCATIONS = """
INSERT INTO location (id, organization_id, geom, geocode_precision, status)
SELECT gen_random_uuid(), organization_id,
       ST_SetSRID(ST_MakePoint(ST_X(geom) + (random() - 0.5) * 0.05,
                               ST_Y(geom) + (random() - 0.5) * 0.03), 4326),
       geocode_precision, status
FROM location WHERE geom IS NOT NULL AND abs(hashtext(id::text)) % 7 = 0
"""


async def from_grid(
    conn: AsyncConnection, view: BBox, zoom: int, key: str, extents: bool = True
) -> list[Any]:
    """The grid's answer for the view, run as the server runs it (its statement, its
    parameters)."""
    query = grid_clusters_query(view, zoom, key, extents)
    assert query is not None
    stmt, params = query
    return list((await conn.execute(stmt, params)).all())


@pytest.fixture
async def conn(scaled_url: str) -> Any:
    """A transaction on the scaled database, with the second locations, rolled back."""
    engine = create_async_engine(scaled_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT setseed(0.25)"))
            await connection.execute(text(SECOND_LOCATIONS))
            # The grid's refresh, which would run at commit, now.
            await connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
            yield connection
            await connection.rollback()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("given", FILTERS, ids=["all", "category", "leaf", "delivery"])
async def test_the_grid_gives_the_rows_of_every_point(
    conn: AsyncConnection, given: FilterInput | None
) -> None:
    # given: the grid the triggers kept while the providers were loaded and given second
    # locations
    key, conditions = await _filtered(conn, given)
    merged = shared = 0
    for zoom in range(6, 16):
        for lon, lat in CENTRES:
            view = map_view(lon, lat, zoom)
            # when
            got = [tuple(row) for row in await from_grid(conn, view, zoom, key)]
            # then
            expected = [
                tuple(row)
                for row in (await conn.execute(clusters_stmt(view, zoom, conditions))).all()
            ]
            assert got == expected, (zoom, lon, lat)
            # and without the boxes and single ids, the same cells, counts and centroids
            narrow = [tuple(row) for row in await from_grid(conn, view, zoom, key, False)]
            assert narrow == [row[:6] for row in expected], (zoom, lon, lat)
            merged += sum(1 for row in got if row[2] > 1)
            shared += sum(1 for row in got if 1 < row[3] < row[2])
    # the comparison saw clusters of many points, and of providers with several of them
    assert merged > 50
    assert shared > 0


def test_a_filter_the_grid_does_not_hold_has_no_key() -> None:
    from ambrogio.catalogue.filters import ServiceFilterSpec

    two = FilterInput(delivery=[Delivery.AT_HOME, Delivery.ONLINE])
    assert grid_key(two, ServiceFilterSpec(delivery=["at_home", "online"])) is None
    aged = FilterInput(categories=["badante"], age=70)
    assert grid_key(aged, ServiceFilterSpec(category_ids=[], age=70)) is None
    # an empty filter still asks for a published service: not the unfiltered key
    assert grid_key(FilterInput(), ServiceFilterSpec()) is None


async def test_views_the_grid_cannot_sum_fall_back(conn: AsyncConnection) -> None:
    across = BBox(179.0, -20.0, -179.0, -10.0)
    assert grid_clusters_query(across, 8, "") is None
    assert grid_clusters_query(map_view(9.39, 45.85, 16), 16, "") is None
    assert grid_clusters_query(BBox(9.0, 86.0, 10.0, 89.0), 8, "") is None


async def test_the_sum_reads_the_grid_index(settings: Settings, scaled_url: str) -> None:
    view = map_view(9.3932, 45.8566, 10)
    query = grid_clusters_query(view, 10, "c:assistenza-e-cura")
    assert query is not None
    plan = await generic_plan(settings, scaled_url, *query)
    assert "pk_map_grid_cell" in plan or "ix_map_grid_cell_key_level_x_y" in plan, plan
    assert "Seq Scan on map_grid_cell" not in plan, plan
    assert "Seq Scan on location" not in plan, plan
    # the band: lines of zoom-17 cells, each a range of one of the points' indexes
    assert "ix_map_grid_point_key_y_x" in plan and "ix_map_grid_point_key_x_y" in plan, plan
    assert "Seq Scan on map_grid_point" not in plan, plan


async def test_the_grid_is_what_a_rebuild_makes(conn: AsyncConnection) -> None:
    # the maintained grid, then one rebuilt from scratch in the same transaction
    kept = await grid_rows(conn)
    await conn.execute(text("SELECT ambrogio_map_grid_rebuild()"))
    assert await grid_rows(conn) == kept


async def grid_rows(conn: AsyncConnection) -> tuple[list[Any], list[Any]]:
    points = await conn.execute(text("SELECT * FROM map_grid_point ORDER BY key, location_id"))
    cells = await conn.execute(
        text(
            "SELECT key, level, y, x, locations, providers,"
            " ARRAY(SELECT s FROM unnest(shared) AS s ORDER BY s), lon_sum, lat_sum,"
            " west, south, east, north, location_id, provider_id"
            " FROM map_grid_cell ORDER BY key, level, y, x"
        )
    )
    return [tuple(r) for r in points.all()], [tuple(r) for r in cells.all()]


@pytest.mark.parametrize("zoom", [9, 12, 14])
async def test_points_on_the_edges_of_the_view_count_as_the_plain_statement_counts_them(
    conn: AsyncConnection, zoom: int
) -> None:
    # given: a published provider's new locations on each edge of the view, exactly and
    # within a few float4 roundings either side (where ``&&`` decides, not the cells)
    view = map_view(9.3932, 45.8566, zoom)
    offsets = (0.0, 1e-7, -1e-7, 2e-6, -2e-6, 1e-5, -1e-5)
    mid_lon, mid_lat = (view.west + view.east) / 2, (view.south + view.north) / 2
    spots = [
        *((view.west + d, mid_lat) for d in offsets),
        *((view.east + d, mid_lat + 0.001) for d in offsets),
        *((mid_lon, view.south + d) for d in offsets),
        *((mid_lon + 0.001, view.north + d) for d in offsets),
        (view.west, view.south),
        (view.east, view.north),
    ]
    provider = (
        await conn.execute(
            text(
                "SELECT organization_id FROM location WHERE status = 'published'"
                " AND geom IS NOT NULL ORDER BY id LIMIT 1"
            )
        )
    ).scalar()
    before = sum(row.count for row in await from_grid(conn, view, zoom, ""))
    for lon, lat in spots:
        await conn.execute(
            text(
                "INSERT INTO location (id, organization_id, geom, geocode_precision, status)"
                " VALUES (gen_random_uuid(), :p, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),"
                " 'exact', 'published')"
            ),
            {"p": provider, "lon": lon, "lat": lat},
        )
    # when
    got = [tuple(row) for row in await from_grid(conn, view, zoom, "")]
    # then: the rows of the statement over every point, and the edge points among them
    expected = [tuple(row) for row in (await conn.execute(clusters_stmt(view, zoom, None))).all()]
    assert got == expected
    inside = sum(row[2] for row in got) - before
    assert len(spots) // 2 < inside < len(spots)


def _float4_neighbours(value: float) -> list[float]:
    """Doubles around the float4 values next to ``value``: where ``&&`` rounds."""
    (bits,) = struct.unpack("<I", struct.pack("<f", value))
    out = [value, math.nextafter(value, -math.inf), math.nextafter(value, math.inf)]
    # Stepping the bits of a float4 walks away from zero; below zero are the negative ones.
    steps = [bits + step for step in (-2, -1, 0, 1, 2)]
    for word in [w for w in steps if w >= 0] + [0x80000000 - w for w in steps if w < 0]:
        (single,) = struct.unpack("<f", struct.pack("<I", word))
        out += [single, math.nextafter(single, -math.inf), math.nextafter(single, math.inf)]
    return out


async def test_the_bands_bounds_admit_exactly_what_the_envelope_admits(engine: AsyncEngine) -> None:
    # given: views with edges at round and arbitrary values, both hemispheres, the
    # antimeridian and the Mercator limits, and points on the doubles around their float4s
    rng = random.Random(7)
    views = [
        BBox(9.351822, 45.831676, 9.461686, 45.879499),
        BBox(-180.0, -85.0511287798066, 180.0, 85.0511287798066),
        BBox(-0.5, -0.25, 0.0, 0.0),
        *(
            BBox(w, s, w + rng.uniform(1e-6, 30.0), s + rng.uniform(1e-6, 20.0))
            for w, s in ((rng.uniform(-180, 150), rng.uniform(-85, 60)) for _ in range(30))
        ),
    ]
    got = expected = naive = inside = 0
    async with engine.connect() as conn:
        for view in views:
            lons = [x for edge in (view.west, view.east) for x in _float4_neighbours(edge)]
            lats = [y for edge in (view.south, view.north) for y in _float4_neighbours(edge)]
            mid_lon, mid_lat = (view.west + view.east) / 2, (view.south + view.north) / 2
            points = [(x, mid_lat) for x in lons] + [(mid_lon, y) for y in lats]
            # when: PostGIS decides, and the bounds do
            rows = await conn.execute(
                text(
                    "SELECT ST_SetSRID(ST_MakePoint(lon, lat), 4326)"
                    " && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"
                    " FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) AS p(lon, lat)"
                ),
                {
                    "w": view.west,
                    "s": view.south,
                    "e": view.east,
                    "n": view.north,
                    "lons": [x for x, _ in points],
                    "lats": [y for _, y in points],
                },
            )
            bounds = admitted(view)
            for (x, y), (overlaps,) in zip(points, rows.all(), strict=True):
                kept = (
                    bounds["above_west"] < x < bounds["below_east"]
                    and bounds["above_south"] < y < bounds["below_north"]
                )
                # then: the same answer for every point
                assert kept == overlaps, (view, x, y)
                got += kept
                expected += overlaps
                naive += (view.west <= x <= view.east and view.south <= y <= view.north) != kept
                inside += view.west <= x <= view.east and view.south <= y <= view.north
    # the points were where it matters: some in, some out, and some that plain comparisons
    # with the edges would have decided otherwise (the float4 rounding)
    assert 0 < got < len(views) * 66
    assert naive > 50 and inside > 0
