"""The facets statement against counts made in Python from the rows, at random points and
radii around Lecco, and again after writes in the same transaction: a service edited,
unpublished, moved to another place, a provider hidden. Whatever answers ``facets`` (the one
statement today, anything pre-aggregated tomorrow) must give these counts.

The oracle reads the catalogue's rows with its own joins, walks the taxonomy's parents in
Python and decides "within the radius" with ``pyproj.Geod``."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ambrogio.catalogue import search
from ambrogio.catalogue.facets import facet_counts
from ambrogio.catalogue.filters import ServiceFilterSpec
from ambrogio.geo.point import LatLon

GEOD = Geod(ellps="WGS84")
LECCO = (45.8566, 9.3977)
# Points closer than this to a circle's edge are not judged: ST_DWithin and Geod agree to a
# millimetre, not to the last bit.
UNDECIDED_M = 0.005

SERVICES = """
SELECT s.id, s.target_groups, s.delivery, s.service_area_comuni,
  array(SELECT sc.term_id FROM service_category sc WHERE sc.service_id = s.id),
  array(SELECT l.comune_istat FROM service_at_location sal JOIN location l
        ON l.id = sal.location_id WHERE sal.service_id = s.id AND l.status = 'published'),
  array(SELECT ARRAY[ST_X(l.geom), ST_Y(l.geom)] FROM service_at_location sal JOIN location l
        ON l.id = sal.location_id WHERE sal.service_id = s.id
        AND l.status = 'published' AND l.geom IS NOT NULL)
FROM service s JOIN organization o ON o.id = s.organization_id
WHERE s.status = 'published' AND o.status = 'published' AND o.merged_into_id IS NULL
"""


async def _oracle_rows(conn: AsyncConnection) -> list[dict[str, Any]]:
    parents = dict((await conn.execute(text("SELECT id, parent_id FROM taxonomy_term"))).all())

    def lineage(term: Any) -> set[str]:
        found = set()
        while term is not None:
            found.add(str(term))
            term = parents[term]
        return found

    rows = (await conn.execute(text(SERVICES))).all()
    return [
        {
            "category": set().union(*(lineage(t) for t in r[4])),
            "comune": {c for c in [*r[3], *r[5]] if c is not None},
            "target_group": list(r[1]),
            "delivery": list(r[2]),
            "points": [tuple(p) for p in r[6]],
        }
        for r in rows
    ]


def _expected(services: list[dict[str, Any]], lat: float, lon: float, radius: float) -> Any:
    distances = [[GEOD.inv(lon, lat, p[0], p[1])[2] for p in s["points"]] for s in services]
    if any(abs(d - radius) < UNDECIDED_M for ds in distances for d in ds):
        return None
    chosen = [s for s, ds in zip(services, distances, strict=True) if any(d <= radius for d in ds)]
    counts: dict[tuple[str, str], int] = dict(
        Counter((facet, value) for s in chosen for facet in FACETS for value in s[facet])
    )
    counts["total", ""] = len(chosen)
    return counts


FACETS = ("category", "comune", "target_group", "delivery")


async def _got(conn: AsyncConnection, lat: float, lon: float, radius: float) -> dict[Any, int]:
    conditions = search.service_search(ServiceFilterSpec(), None, LatLon(lat, lon), radius)
    rows = (await conn.execute(facet_counts(conditions))).all()
    return {(facet, key): int(count) for facet, key, count in rows}


def _circles(seed: int, n: int) -> list[tuple[float, float, float]]:
    rng = random.Random(seed)
    circles = []
    for _ in range(n):
        lon, lat, _ = GEOD.fwd(LECCO[1], LECCO[0], rng.uniform(-180, 180), rng.uniform(0, 8000))
        circles.append((lat, lon, rng.choice([150.0, 600.0, 1500.0, 3000.0, 6000.0])))
    return circles


async def _check(conn: AsyncConnection, circles: list[tuple[float, float, float]]) -> int:
    """Compares every circle; returns how many found something (the oracle's guard)."""
    services = await _oracle_rows(conn)
    found = 0
    for lat, lon, radius in circles:
        expected = _expected(services, lat, lon, radius)
        if expected is None:
            continue
        assert await _got(conn, lat, lon, radius) == expected, (lat, lon, radius)
        found += expected["total", ""] > 0
    return found


async def test_facets_at_random_circles_are_the_oracles(engine: AsyncEngine) -> None:
    circles = _circles(seed=10, n=40)

    async with engine.connect() as conn:
        found = await _check(conn, circles)

    assert found >= 20


# Writes that change what a circle around Lecco counts, each on rows found by their role.
A_LOCATED_SERVICE = """(SELECT sal.service_id FROM service_at_location sal
  JOIN location l ON l.id = sal.location_id JOIN service s ON s.id = sal.service_id
  WHERE l.status = 'published' AND s.status = 'published' AND l.geom IS NOT NULL
  AND ST_DWithin(l.geom::geography, ST_MakePoint(9.3977, 45.8566)::geography, 3000)
  ORDER BY sal.service_id OFFSET {n} LIMIT 1)"""
# Published places in comuni other than Lecco's, each in a comune of its own.
FAR_PLACE = """(SELECT DISTINCT ON (comune_istat) id FROM location
  WHERE status = 'published' AND comune_istat <> '097042' ORDER BY comune_istat, id
  OFFSET {n} LIMIT 1)"""
WRITES = {
    "service edited": [
        "UPDATE service SET target_groups = ARRAY['elderly','families'],"
        " delivery = ARRAY['online'], service_area_comuni = ARRAY['001001'] WHERE id = "
        + A_LOCATED_SERVICE.format(n=0),
        "DELETE FROM service_category WHERE service_id = " + A_LOCATED_SERVICE.format(n=1),
        "INSERT INTO service_category (service_id, term_id) SELECT "
        + A_LOCATED_SERVICE.format(n=2)
        + ", id FROM taxonomy_term WHERE parent_id IS NOT NULL ORDER BY id LIMIT 2"
        " ON CONFLICT DO NOTHING",
    ],
    "service unpublished": [
        "UPDATE service SET status = 'draft' WHERE id IN ("
        + A_LOCATED_SERVICE.format(n=3)
        + ", "
        + A_LOCATED_SERVICE.format(n=4)
        + ")"
    ],
    "location moved": [
        "UPDATE location SET geom = ST_Translate(geom, 0.05, 0.02) WHERE id IN ("
        "SELECT location_id FROM service_at_location WHERE service_id = "
        + A_LOCATED_SERVICE.format(n=5)
        + ")"
    ],
    "location unpublished": [
        "UPDATE location SET status = 'draft' WHERE id IN ("
        "SELECT location_id FROM service_at_location WHERE service_id = "
        + A_LOCATED_SERVICE.format(n=6)
        + ")"
    ],
    "service at a second place": [
        "INSERT INTO service_at_location (id, service_id, location_id) SELECT gen_random_uuid(), "
        + A_LOCATED_SERVICE.format(n=7)
        + ", l.id FROM location l WHERE l.status = 'published' AND l.geom IS NOT NULL"
        " AND NOT ST_DWithin(l.geom::geography, ST_MakePoint(9.3977, 45.8566)::geography, 3000)"
        " ORDER BY l.id LIMIT 1"
    ],
    # The service gains two places: the one still published counts its comune, the other not.
    "second places, one unpublished": [
        "INSERT INTO service_at_location (id, service_id, location_id) SELECT gen_random_uuid(), "
        + A_LOCATED_SERVICE.format(n=9)
        + ", l.id FROM location l WHERE l.id IN ("
        + FAR_PLACE.format(n=0)
        + ", "
        + FAR_PLACE.format(n=1)
        + ")",
        "UPDATE location SET status = 'draft' WHERE id = " + FAR_PLACE.format(n=1),
    ],
    "provider hidden": [
        "UPDATE organization SET status = 'draft' WHERE id = (SELECT organization_id FROM service"
        " WHERE id = " + A_LOCATED_SERVICE.format(n=8) + ")"
    ],
}


@pytest.mark.parametrize("write", list(WRITES))
async def test_facets_after_a_write_are_the_oracles(engine: AsyncEngine, write: str) -> None:
    circles = [(LECCO[0], LECCO[1], 3000.0), *_circles(seed=11, n=8)]

    async with engine.connect() as conn:
        before = await _got(conn, LECCO[0], LECCO[1], 3000.0)
        for statement in WRITES[write]:
            result = await conn.execute(text(statement))
            assert result.rowcount > 0, statement
        found = await _check(conn, circles)
        after = await _got(conn, LECCO[0], LECCO[1], 3000.0)
        await conn.rollback()

    assert found >= 4
    assert after != before, "the write changed what the circle counts"
