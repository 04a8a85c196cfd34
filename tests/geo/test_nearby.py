"""Proximity search against an independent oracle: pyproj.Geod over every row, in Python."""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import from_global_id, record_id

GEOD = Geod(ellps="WGS84")

NEAR_PROVIDERS = """
query Near($lat: Float!, $lon: Float!, $r: Float, $first: Int, $after: String,
           $filter: ServiceFilter) {
  providers(near: {lat: $lat, lon: $lon}, radiusMeters: $r, first: $first, after: $after,
            filter: $filter) {
    totalCount
    edges { cursor distanceMeters node { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

NEAR_SERVICES = """
query Near($lat: Float!, $lon: Float!, $r: Float, $first: Int, $after: String,
           $filter: ServiceFilter) {
  services(near: {lat: $lat, lon: $lon}, radiusMeters: $r, first: $first, after: $after,
           filter: $filter) {
    totalCount
    edges { cursor distanceMeters node { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

NEAR_POINTS = """
query Near($lat: Float!, $lon: Float!, $r: Float, $first: Int, $after: String) {
  welfarePoints(near: {lat: $lat, lon: $lon}, radiusMeters: $r, first: $first, after: $after) {
    edges { cursor distanceMeters node { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@dataclass
class Catalogue:
    """Every visible located row, read plainly; distances are computed here, not in SQL."""

    provider_points: dict[uuid.UUID, list[tuple[float, float]]]
    service_points: dict[uuid.UUID, list[tuple[float, float]]]
    service_categories: dict[uuid.UUID, set[str]]
    service_delivery: dict[uuid.UUID, set[str]]
    provider_services: dict[uuid.UUID, set[uuid.UUID]]
    welfare_points: dict[uuid.UUID, tuple[float, float]]


@pytest.fixture(scope="module")
async def catalogue(engine: AsyncEngine) -> Catalogue:
    async with engine.connect() as conn:
        locations = (
            await conn.execute(
                text(
                    """
                    SELECT l.id, l.organization_id, ST_Y(l.geom), ST_X(l.geom)
                    FROM location l JOIN organization o ON o.id = l.organization_id
                    WHERE l.status = 'published' AND o.status = 'published'
                      AND o.merged_into_id IS NULL AND l.geom IS NOT NULL
                    """
                )
            )
        ).all()
        services = (
            await conn.execute(
                text(
                    """
                    SELECT s.id, s.organization_id, s.delivery,
                           array(SELECT t.slug FROM service_category sc
                                 JOIN taxonomy_term t ON t.id = sc.term_id
                                 WHERE sc.service_id = s.id) AS slugs,
                           array(SELECT p.slug FROM service_category sc
                                 JOIN taxonomy_term t ON t.id = sc.term_id
                                 JOIN taxonomy_term p ON p.id = t.parent_id
                                 WHERE sc.service_id = s.id) AS parents
                    FROM service s JOIN organization o ON o.id = s.organization_id
                    WHERE s.status = 'published' AND o.status = 'published'
                      AND o.merged_into_id IS NULL
                    """
                )
            )
        ).all()
        offered = (
            await conn.execute(text("SELECT service_id, location_id FROM service_at_location"))
        ).all()
        points = (
            await conn.execute(
                text(
                    "SELECT id, ST_Y(geom), ST_X(geom) FROM welfare_point"
                    " WHERE status = 'published' AND geom IS NOT NULL"
                )
            )
        ).all()

    location_point = {row[0]: (row[2], row[3]) for row in locations}
    provider_points: dict[uuid.UUID, list[tuple[float, float]]] = defaultdict(list)
    for _, org, lat, lon in locations:
        provider_points[org].append((lat, lon))
    visible_services = {row[0] for row in services}
    service_points: dict[uuid.UUID, list[tuple[float, float]]] = defaultdict(list)
    for service_id, location_id in offered:
        if service_id in visible_services and location_id in location_point:
            service_points[service_id].append(location_point[location_id])
    provider_services: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for service_id, org, *_ in services:
        provider_services[org].add(service_id)
    return Catalogue(
        provider_points=dict(provider_points),
        service_points=dict(service_points),
        service_categories={row[0]: set(row[3]) | set(row[4]) for row in services},
        service_delivery={row[0]: set(row[2]) for row in services},
        provider_services=dict(provider_services),
        welfare_points={row[0]: (row[1], row[2]) for row in points},
    )


def _distance(lat: float, lon: float, points: list[tuple[float, float]]) -> float:
    return min(GEOD.inv(lon, lat, plon, plat)[2] for plat, plon in points)


def _expected(
    lat: float, lon: float, radius: float | None, points: dict[uuid.UUID, list[tuple[float, float]]]
) -> list[tuple[float, uuid.UUID]]:
    ranked = sorted((_distance(lat, lon, p), key) for key, p in points.items())
    return [(d, key) for d, key in ranked if radius is None or d <= radius]


async def _all_pages(gql: Any, query: str, field: str, page: int, **variables: Any) -> list[Any]:
    edges: list[Any] = []
    after = None
    while True:
        result = await gql(query, first=page, after=after, **variables)
        assert result.errors == [], result.errors
        connection = result.data[field]
        edges += connection["edges"]
        if not connection["pageInfo"]["hasNextPage"]:
            assert connection.get("totalCount", len(edges)) == len(edges)
            return edges
        after = connection["pageInfo"]["endCursor"]


def _compare(edges: list[Any], expected: list[tuple[float, uuid.UUID]]) -> None:
    got = [
        (edge["distanceMeters"], uuid.UUID(from_global_id(edge["node"]["id"])[1])) for edge in edges
    ]
    assert len({key for _, key in got}) == len(got), "no row twice"
    assert {key for _, key in got} == {key for _, key in expected}
    want = dict((key, d) for d, key in expected)
    for d, key in got:
        assert d == pytest.approx(want[key], abs=0.01)
    distances = [d for d, _ in got]
    assert distances == sorted(distances), "sorted by the distance it reports"


def _random_points(seed: int, count: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(rng.uniform(45.68, 46.1), rng.uniform(9.25, 9.55)) for _ in range(count)]


@pytest.mark.parametrize("radius", [800.0, 3000.0, 12000.0])
async def test_providers_near_match_the_geodesic_oracle(gql, catalogue, radius) -> None:
    points = _random_points(int(radius), 4)
    oracle = [_expected(lat, lon, radius, catalogue.provider_points) for lat, lon in points]
    # A point with no provider within the radius checks that none is returned; not every one.
    assert any(oracle), "the oracle finds something to compare"
    for (lat, lon), expected in zip(points, oracle, strict=True):
        edges = await _all_pages(gql, NEAR_PROVIDERS, "providers", 7, lat=lat, lon=lon, r=radius)

        _compare(edges, expected)


async def test_services_near_with_filters_match_the_oracle(gql, catalogue) -> None:
    filters = [
        (
            {"categories": ["salute-e-benessere"]},
            lambda s: "salute-e-benessere" in catalogue.service_categories[s],
        ),
        ({"delivery": ["ON_SITE"]}, lambda s: "on_site" in catalogue.service_delivery[s]),
        (
            {"categories": ["fisioterapia", "psicologo"], "delivery": ["ON_SITE", "ONLINE"]},
            lambda s: (
                bool({"fisioterapia", "psicologo"} & catalogue.service_categories[s])
                and bool({"on_site", "online"} & catalogue.service_delivery[s])
            ),
        ),
    ]
    for (lat, lon), (given, keep) in zip(_random_points(11, 3), filters, strict=True):
        points = {s: p for s, p in catalogue.service_points.items() if keep(s)}
        expected = _expected(lat, lon, 6000.0, points)
        assert expected, "the oracle finds something to compare"

        edges = await _all_pages(
            gql, NEAR_SERVICES, "services", 5, lat=lat, lon=lon, r=6000.0, filter=given
        )

        _compare(edges, expected)


async def test_order_by_name_within_a_radius_keeps_the_distances(gql, catalogue) -> None:
    lat, lon, radius = 45.80, 9.42, 4000.0
    expected = _expected(lat, lon, radius, catalogue.service_points)
    query = NEAR_SERVICES.replace("filter: $filter)", "filter: $filter, orderBy: NAME)")

    edges = await _all_pages(gql, query, "services", 9, lat=lat, lon=lon, r=radius)

    got = {uuid.UUID(from_global_id(e["node"]["id"])[1]): e["distanceMeters"] for e in edges}
    assert set(got) == {key for _, key in expected}
    for d, key in expected:
        assert got[key] == pytest.approx(d, abs=0.01)


async def test_nearest_first_without_radius_takes_the_page_size_only(gql, catalogue) -> None:
    lat, lon = 45.8566, 9.3977
    expected = _expected(lat, lon, None, catalogue.provider_points)[:20]

    result = await gql(NEAR_PROVIDERS, lat=lat, lon=lon, first=20)

    _compare(result.data["providers"]["edges"], expected)
    assert result.data["providers"]["pageInfo"]["hasNextPage"]
    assert result.data["providers"]["totalCount"] == len(catalogue.provider_points)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (49.5, 11.5),  # may use the plane, but the nearest providers are 400 km away
        (41.9, 12.5),  # Rome: outside the plane's query area
        (45.8566, 9.3977),  # Lecco: on the plane
    ],
)
async def test_nearest_first_far_from_the_data_is_exact(gql, catalogue, lat, lon) -> None:
    expected = _expected(lat, lon, None, catalogue.provider_points)[:5]

    result = await gql(NEAR_PROVIDERS, lat=lat, lon=lon, first=5)

    assert result.errors == [], result.errors
    _compare(result.data["providers"]["edges"], expected)
    assert result.data["providers"]["pageInfo"]["hasNextPage"]


async def test_welfare_points_near(gql, catalogue) -> None:
    lat, lon = 45.70, 9.40
    points = {key: [p] for key, p in catalogue.welfare_points.items()}

    edges = await _all_pages(gql, NEAR_POINTS, "welfarePoints", 3, lat=lat, lon=lon, r=30000.0)

    _compare(edges, _expected(lat, lon, 30000.0, points))


@pytest.fixture
async def tied_providers(engine: AsyncEngine):
    """Thirty providers at one spot (a shared building), and ten more 1 m away."""
    lat, lon = 45.9001, 9.5002
    ids = []
    async with engine.begin() as conn:
        for i in range(40):
            org = record_id("test-ties", f"p{i}")
            ids.append(org)
            here = lat + (0.000009 if i >= 30 else 0.0)
            await conn.execute(
                text(
                    "INSERT INTO organization (id, source, external_id, name, kind, status)"
                    " VALUES (:id, 'test-ties', :ext, :name, 'business', 'published')"
                ),
                {"id": org, "ext": f"p{i}", "name": f"Tied {i:02d}"},
            )
            await conn.execute(
                text(
                    "INSERT INTO location (id, source, external_id, organization_id, geom,"
                    " geocode_precision, status) VALUES (:id, 'test-ties', :ext, :org,"
                    " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 'exact', 'published')"
                ),
                {
                    "id": record_id("test-ties", f"p{i}/l"),
                    "ext": f"p{i}/l",
                    "org": org,
                    "lon": lon,
                    "lat": here,
                },
            )
    yield lat, lon, ids
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM organization WHERE source = 'test-ties'"))


async def test_pages_never_repeat_or_skip_rows_that_tie_on_distance(gql, tied_providers) -> None:
    lat, lon, ids = tied_providers

    for page in (1, 4, 7, 30):
        edges = await _all_pages(gql, NEAR_PROVIDERS, "providers", page, lat=lat, lon=lon, r=50.0)
        got = [uuid.UUID(from_global_id(edge["node"]["id"])[1]) for edge in edges]
        assert sorted(got) == sorted(ids), page
        distances = [edge["distanceMeters"] for edge in edges]
        assert distances == sorted(distances)
        assert distances[:30] == [0.0] * 30 and all(0.9 < d < 1.1 for d in distances[30:])


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"lat": 91.0, "lon": 9.0}, "near.lat"),
        ({"lat": -90.5, "lon": 9.0}, "near.lat"),
        ({"lat": 45.0, "lon": 180.5}, "near.lon"),
        ({"lat": 45.0, "lon": 9.0, "r": 0.0}, "radiusMeters"),
        ({"lat": 45.0, "lon": 9.0, "r": -10.0}, "radiusMeters"),
        ({"lat": 45.0, "lon": 9.0, "r": 1e9}, "radiusMeters"),
    ],
)
async def test_out_of_range_inputs_name_the_field(gql, variables, field) -> None:
    result = await gql(NEAR_PROVIDERS, **variables)

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == field


async def test_non_finite_numbers_are_bad_input(client) -> None:
    for literal in ("NaN", "Infinity", "-Infinity"):
        # JSON has no NaN or Infinity; Python's encoder writes them, as careless clients do.
        body = json.dumps(
            {"query": NEAR_PROVIDERS, "variables": {"lat": float(literal), "lon": 9.0}}
        )
        assert literal in body
        response = await client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code < 500
        errors = response.json()["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
        assert "lat" in errors[0]["message"]


async def test_antimeridian_and_poles_are_valid_points(gql, catalogue) -> None:
    for lat, lon in ((0.0, 180.0), (0.0, -180.0), (90.0, 0.0), (-90.0, 45.0)):
        result = await gql(NEAR_PROVIDERS, lat=lat, lon=lon, first=3)
        assert result.errors == []
        edges = result.data["providers"]["edges"]
        expected = _expected(lat, lon, None, catalogue.provider_points)[:3]
        _compare(edges, expected)


async def test_radius_without_near_and_distance_order_without_near_are_errors(gql) -> None:
    no_near = await gql("{ providers(radiusMeters: 100) { totalCount } }")
    order = await gql("{ services(orderBy: DISTANCE) { totalCount } }")

    assert no_near.codes == ["BAD_USER_INPUT"] and "near" in no_near.errors[0]["message"]
    assert order.codes == ["BAD_USER_INPUT"]


NEARBY_NESTED = """
query Nested($first: Int) {
  services(near: {lat: 45.8566, lon: 9.3977}, radiusMeters: 20000, first: $first) {
    totalCount
    edges { distanceMeters node {
      name categories { slug parent { slug } } costOptions { amount unit }
      provider { name locations { lat comune { name } } }
      locations { lat lon }
    } }
  }
}
"""


async def test_nested_nearby_selection_costs_a_bounded_number_of_statements(
    gql, statements
) -> None:
    counts = {}
    for first in (5, 40):
        statements.reset()
        result = await gql(NEARBY_NESTED, first=first)
        assert result.errors == []
        assert len(result.data["services"]["edges"]) == first
        counts[first] = statements.count

    # Nearby page (widened at most a few times), rows by id, count, then loader batches.
    assert max(counts.values()) <= 14, counts


async def test_wheelchair_filter_near_a_point_matches_the_oracle(gql, catalogue, engine) -> None:
    async with engine.connect() as conn:
        accessible = set(
            (
                await conn.scalars(
                    text(
                        "SELECT DISTINCT sal.service_id FROM service_at_location sal"
                        " JOIN location l ON l.id = sal.location_id"
                        " WHERE l.status = 'published' AND l.wheelchair_accessible"
                    )
                )
            ).all()
        )
    lat, lon, radius = 45.83, 9.40, 8000.0
    points = {s: p for s, p in catalogue.service_points.items() if s in accessible}
    expected = _expected(lat, lon, radius, points)
    assert expected and len(points) < len(catalogue.service_points)

    edges = await _all_pages(
        gql,
        NEAR_SERVICES,
        "services",
        6,
        lat=lat,
        lon=lon,
        r=radius,
        filter={"wheelchairAccessible": True},
    )

    _compare(edges, expected)


@pytest.mark.parametrize("planar", [False, True])
@pytest.mark.parametrize("radius", [3000.0, None])
async def test_prebuilt_providers_statement_takes_each_search_values(
    engine, catalogue, radius, planar
) -> None:
    """The unfiltered statement is built once per shape; each execution binds its own point,
    radius, cursor and sizes, and returns what a statement built for that search returns."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from ambrogio.geo.nearby import (
        DistanceKey,
        NearbySearch,
        nearby_providers,
        nearby_providers_query,
    )
    from ambrogio.geo.point import LatLon

    async def run(stmt: Any, params: Any) -> list[tuple[Any, ...]]:
        async with AsyncSession(engine) as session:
            return [tuple(row) for row in (await session.execute(stmt, params)).all()]

    statements = set()
    for lat, lon in [(45.85, 9.39), (45.86, 9.40)]:
        expected = _expected(lat, lon, radius, catalogue.provider_points)
        after = None
        for _ in range(3):
            search = NearbySearch(LatLon(lat, lon), radius, after, 5, planar)
            stmt, params = nearby_providers_query(search, [], 64)
            statements.add(stmt)
            got = await run(stmt, params)
            assert got == await run(nearby_providers(search, [], 64), {})
            page = [(float(row[3]), row[2]) for row in got if row[2] is not None][:5]
            start = 0 if after is None else [key for _, key in expected].index(after.id) + 1
            assert [key for _, key in page] == [key for _, key in expected[start : start + 5]]
            for (d, _), (want, _) in zip(page, expected[start:], strict=False):
                assert d == pytest.approx(want, abs=0.01)
            assert len(page) == 5, "the test points have more than 15 providers in range"
            after = DistanceKey(*page[-1])
    # First page, then two cursors past the floor: two shapes, each statement reused.
    assert len(statements) == 2


@pytest.mark.parametrize("planar", [False, True])
async def test_a_narrowed_providers_statement_returns_the_full_ones_columns(
    engine, catalogue, planar
) -> None:
    """``only`` narrows the page to the columns named: the same rows, in the same order, with
    the same values as the full statement's, page after page."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from ambrogio.geo.nearby import DistanceKey, NearbySearch, nearby_providers_query
    from ambrogio.geo.point import LatLon

    async def run(stmt: Any, params: Any) -> list[Any]:
        async with AsyncSession(engine) as session:
            return list((await session.execute(stmt, params)).all())

    only = ("email", "name", "version")
    seen = 0
    for lat, lon, radius in [(45.85, 9.39, 3000.0), (45.86, 9.40, None), (45.80, 9.42, 800.0)]:
        after = None
        for _ in range(3):
            search = NearbySearch(LatLon(lat, lon), radius, after, 5, planar)
            full_stmt, params = nearby_providers_query(search, [], 64)
            narrow_stmt, narrow_params = nearby_providers_query(search, [], 64, only=only)
            # Given the statement narrowed to three columns
            keys = [c.key for c in narrow_stmt.selected_columns]
            assert keys[:4] == ["n", "s_max", "id", "d"] and sorted(keys[4:]) == sorted(only)
            # When both run on the same search
            full, narrow = await run(full_stmt, params), await run(narrow_stmt, narrow_params)
            # Then the narrow rows are the full rows' columns
            assert [tuple(getattr(r, k) for k in keys) for r in full] == [tuple(r) for r in narrow]
            page = [row for row in narrow if row.id is not None]
            seen += len(page)
            if len(page) < 6:
                break
            after = DistanceKey(float(page[4].d), page[4].id)
    # The oracle compared real pages, not empty ones
    assert seen > 20


@pytest.mark.parametrize(
    ("kind", "radius", "planar"),
    [
        ("services", 3000.0, False),
        ("services", None, False),
        ("services", 3000.0, True),
        ("services", None, True),
        ("welfare_points", 30000.0, False),
        ("welfare_points", None, False),
    ],
)
async def test_prebuilt_services_and_welfare_points_statements_take_each_search_values(
    engine, catalogue, kind, radius, planar
) -> None:
    """As for providers: the unfiltered services statement and the welfare points statement
    are built once per shape, and each execution binds its own values."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from ambrogio.geo.nearby import (
        DistanceKey,
        NearbySearch,
        nearby_services,
        nearby_services_query,
        nearby_welfare_points,
        nearby_welfare_points_query,
    )
    from ambrogio.geo.point import LatLon

    services = kind == "services"
    size = 5 if services else 3  # fewer welfare points than services
    points = (
        catalogue.service_points
        if services
        else {key: [p] for key, p in catalogue.welfare_points.items()}
    )

    def fresh(search: NearbySearch) -> Any:
        return nearby_services(search, [], 64) if services else nearby_welfare_points(search, 64)

    def prebuilt(search: NearbySearch) -> Any:
        if services:
            return nearby_services_query(search, [], 64)
        return nearby_welfare_points_query(search, 64)

    async def run(stmt: Any, params: Any) -> list[tuple[Any, ...]]:
        async with AsyncSession(engine) as session:
            return [tuple(row) for row in (await session.execute(stmt, params)).all()]

    statements = set()
    for lat, lon in [(45.85, 9.39), (45.86, 9.40)]:
        expected = _expected(lat, lon, radius, points)
        after = None
        for _ in range(3):
            search = NearbySearch(LatLon(lat, lon), radius, after, size, planar)
            stmt, params = prebuilt(search)
            statements.add(stmt)
            got = await run(stmt, params)
            assert got == await run(fresh(search), {})
            page = [(float(row[3]), row[2]) for row in got if row[2] is not None][:size]
            start = 0 if after is None else [key for _, key in expected].index(after.id) + 1
            assert [key for _, key in page] == [key for _, key in expected[start : start + size]]
            for (d, _), (want, _) in zip(page, expected[start:], strict=False):
                assert d == pytest.approx(want, abs=0.01)
            assert len(page) == size, "the test points have more than three pages in range"
            after = DistanceKey(*page[-1])
    # First page, then two cursors past the floor: two shapes, each statement reused.
    assert len(statements) == 2
