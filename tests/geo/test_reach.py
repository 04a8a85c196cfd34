"""servicesReaching: at-home services whose area covers a point, against a geodesic oracle."""

from __future__ import annotations

import random
import uuid
from functools import cache
from typing import Any

import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, Polygon
from shapely.prepared import prep as prepared
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.geo.gazetteer import italy_comuni
from ambrogio.geo.reach import COMUNE_RADIUS_M
from ambrogio.ids import from_global_id, record_id

GEOD = Geod(ellps="WGS84")

REACHING = """
query Reach($lat: Float!, $lon: Float!, $filter: ServiceFilter, $after: String) {
  servicesReaching(point: {lat: $lat, lon: $lon}, filter: $filter, first: 100, after: $after) {
    totalCount
    edges { node { id delivery } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def _reaching(gql: Any, **variables: Any) -> set[uuid.UUID]:
    found: list[uuid.UUID] = []
    after = None
    while True:
        result = await gql(REACHING, after=after, **variables)
        assert result.errors == [], result.errors
        page = result.data["servicesReaching"]
        found += [uuid.UUID(from_global_id(e["node"]["id"])[1]) for e in page["edges"]]
        assert all("AT_HOME" in e["node"]["delivery"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            assert len(found) == len(set(found)) == page["totalCount"]
            return set(found)
        after = page["pageInfo"]["endCursor"]


@pytest.fixture(scope="module")
async def at_home(engine: AsyncEngine) -> tuple[dict[uuid.UUID, list[str]], dict[str, Any]]:
    async with engine.connect() as conn:
        services = (
            await conn.execute(
                text(
                    "SELECT s.id, s.service_area_comuni FROM service s"
                    " JOIN organization o ON o.id = s.organization_id"
                    " WHERE 'at_home' = ANY(s.delivery) AND s.status = 'published'"
                    " AND o.status = 'published' AND o.merged_into_id IS NULL"
                    " AND s.service_area IS NULL"
                )
            )
        ).all()
        centroids = (
            await conn.execute(
                text(
                    "SELECT istat_code, ST_Y(centroid), ST_X(centroid) FROM comune"
                    " WHERE centroid IS NOT NULL"
                )
            )
        ).all()
    return {row[0]: list(row[1]) for row in services}, {c: (lat, lon) for c, lat, lon in centroids}


@cache
def _boundaries() -> dict[str, Any]:
    """The bundled boundaries, read with shapely (not from the database)."""
    return {
        comune.istat_code: prepared(shapely.from_wkt(comune.boundary_wkt))
        for comune in italy_comuni()
        if comune.boundary_wkt
    }


def _covered(lat: float, lon: float, codes: list[str], centroids: dict[str, Any]) -> bool:
    """A comune's boundary covers the point; one without a boundary, its centroid's circle."""
    for code in codes:
        if code in _boundaries():
            if _boundaries()[code].covers(Point(lon, lat)):
                return True
        elif code in centroids:
            clat, clon = centroids[code]
            if GEOD.inv(lon, lat, clon, clat)[2] <= COMUNE_RADIUS_M:
                return True
    return False


async def test_reaching_matches_the_comune_area_oracle(gql, at_home) -> None:
    services, centroids = at_home
    rng = random.Random(5)
    for _ in range(4):
        lat, lon = rng.uniform(45.7, 46.05), rng.uniform(9.3, 9.5)
        expected = {s for s, codes in services.items() if _covered(lat, lon, codes, centroids)}

        assert await _reaching(gql, lat=lat, lon=lon) == expected


async def test_reaching_combines_with_filters(gql, at_home) -> None:
    lat, lon = 45.8566, 9.3977
    everything = await _reaching(gql, lat=lat, lon=lon)
    elderly = await _reaching(gql, lat=lat, lon=lon, filter={"targetGroups": ["ELDERLY"]})

    assert elderly and elderly < everything


@pytest.fixture
async def polygon_service(engine: AsyncEngine):
    """A home service with an explicit area: a square around Esino Lario, no comuni list."""
    square = Polygon([(9.32, 46.0), (9.36, 46.0), (9.36, 46.03), (9.32, 46.03)])
    org, service = record_id("test-reach", "p"), record_id("test-reach", "s")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO organization (id, source, external_id, name, kind, status)"
                " VALUES (:id, 'test-reach', 'p', 'Area Test', 'business', 'published')"
            ),
            {"id": org},
        )
        await conn.execute(
            text(
                "INSERT INTO service (id, source, external_id, organization_id, name, delivery,"
                " service_area, status) VALUES (:id, 'test-reach', 's', :org, 'Spesa a casa',"
                " ARRAY['at_home'], ST_Multi(ST_GeomFromText(:wkt, 4326)), 'published')"
            ),
            {"id": service, "org": org, "wkt": square.wkt},
        )
    yield service, square
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM organization WHERE source = 'test-reach'"))


async def test_an_explicit_area_reaches_the_points_inside_it(gql, polygon_service) -> None:
    service, square = polygon_service
    inside, outside = Point(9.34, 46.015), Point(9.37, 46.015)
    assert square.contains(inside) and not square.contains(outside)

    assert service in await _reaching(gql, lat=inside.y, lon=inside.x)
    assert service not in await _reaching(gql, lat=outside.y, lon=outside.x)


async def test_a_bad_point_is_bad_input(gql) -> None:
    result = await gql(REACHING, lat=95.0, lon=9.0)

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == "point.lat"
