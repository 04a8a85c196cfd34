"""``facets`` within a radius from the facet cells (migration 0027) against the Python oracle
of ``test_facets_oracle``, at random circles and after every kind of committed write; and the
cells kept at commit against a rebuild from scratch.

Each write is committed on a database of its own (the Lecco demo network), so that the
refresh runs where it runs in production: at commit. The cells answer what committed; a
write that the triggers missed leaves them behind the oracle and behind a rebuild.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ambrogio.catalogue import facet_cells
from ambrogio.catalogue.facet_cells import applies, cell_lines
from ambrogio.db.session import create_engine, drop_database
from ambrogio.geo.point import LatLon
from ambrogio.settings import Settings
from tests.catalogue.test_facets_oracle import (
    A_LOCATED_SERVICE,
    LECCO,
    WRITES,
    _circles,
    _expected,
    _got,
    _oracle_rows,
)
from tests.support.database import create_test_database


@pytest.fixture(scope="module")
async def cells_db(settings: Settings, template_db: str) -> AsyncIterator[AsyncEngine]:
    from ambrogio.demo import load_demo

    name = f"ambrogio_facet_cells_{os.getpid()}"
    await drop_database(settings, name)
    url = await create_test_database(settings, name, template_db)
    await load_demo(settings.model_copy(update={"database_url": url}), seed=settings.demo_seed)
    engine = create_engine(settings, url)
    yield engine
    await engine.dispose()
    await drop_database(settings, name)


async def _from_cells(conn: AsyncConnection, lat: float, lon: float, radius: float) -> Any:
    point = LatLon(lat, lon)
    qx, qy = (await conn.execute(facet_cells.planar_point(point))).one()
    lines = cell_lines(qx, qy, radius)
    stmt = facet_cells.facet_cells_statement(point, radius)
    rows = (await conn.execute(stmt, lines.params())).all()
    return {(facet, key): int(count) for facet, key, count in rows}


async def _check(conn: AsyncConnection, circles: list[tuple[float, float, float]]) -> int:
    """The cells' answer, the oracle's and the facets statement's at every circle; returns
    how many found something (the oracle's guard)."""
    services = await _oracle_rows(conn)
    found = 0
    for lat, lon, radius in circles:
        expected = _expected(services, lat, lon, radius)
        if expected is None:
            continue
        got = await _from_cells(conn, lat, lon, radius)
        assert got == expected, (lat, lon, radius)
        assert await _got(conn, lat, lon, radius) == expected, (lat, lon, radius)
        found += expected["total", ""] > 0
    return found


CELLS = """
SELECT 'cell', c.level, c.cy, c.cx, u.facet, u.key, u.n::text
FROM facet_cell AS c, unnest(c.facets, c.keys, c.counts) AS u(facet, key, n)
UNION ALL SELECT 'simple', s.cx, s.cy, 0, s.service_id::text, u.facet || ' ' || u.key, u.n::text
FROM facet_cell_service AS s, unnest(s.facets, s.keys, s.counts) AS u(facet, key, n)
UNION ALL SELECT 'place', cx, cy, 0, service_id::text, location_id::text, ST_AsText(geom)
FROM facet_cell_place
UNION ALL SELECT 'spread', 0, 0, 0, service_id::text, location_id::text, ST_AsText(geom_utm)
FROM facet_spread_point
ORDER BY 1, 2, 3, 4, 5, 6, 7
"""


async def _kept_is_rebuilt(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        kept = (await conn.execute(text(CELLS))).all()
        assert (await conn.execute(text("SELECT count(*) FROM facet_dirty"))).scalar() == 0
        await conn.execute(text("SELECT ambrogio_facet_rebuild()"))
        rebuilt = (await conn.execute(text(CELLS))).all()
        await conn.rollback()
    assert kept == rebuilt
    return kept


def test_the_cells_apply_to_a_plain_search_within_a_radius_on_the_plane() -> None:
    lecco = LatLon(*LECCO)
    assert applies(lecco, 3000.0, plain=True)
    assert applies(lecco, facet_cells.MIN_RADIUS, plain=True)
    assert not applies(lecco, facet_cells.MIN_RADIUS - 1, plain=True)
    assert not applies(lecco, 3000.0, plain=False)  # a filter or a text
    assert not applies(lecco, None, plain=True)
    assert not applies(None, None, plain=True)
    assert not applies(LatLon(52.52, 13.40), 3000.0, plain=True)  # off the plane's query area


@pytest.mark.parametrize("radius", [150.0, 1000.0, 3000.0, 20_000.0])
def test_the_lines_cover_each_cell_of_the_circle_once(radius: float) -> None:
    qx, qy = 527_654.321, 5_078_123.456
    lines = cell_lines(qx, qy, radius)
    seen: dict[tuple[int, int], str] = {}

    def mark(x: int, y: int, what: str) -> None:
        assert (x, y) not in seen, (x, y, what, seen.get((x, y)))
        seen[x, y] = what

    for level, row, lo, hi in lines.cells:
        side = facet_cells.SIDE << level
        for column in range(lo, hi + 1):
            far = max(
                abs(x - qx) ** 2 + abs(y - qy) ** 2
                for x in (column * side, (column + 1) * side)
                for y in (row * side, (row + 1) * side)
            )
            assert far**0.5 <= 0.9996 * radius - 0.01
            for dy in range(1 << level):
                for dx in range(1 << level):
                    mark(column * (1 << level) + dx, row * (1 << level) + dy, "cell")
    for row, lo, hi in lines.rim:
        for column in range(lo, hi + 1):
            mark(column, row, "rim")
    side = facet_cells.SIDE
    reach = 1.0035 * radius
    for row in range(int((qy - reach) // side) - 1, int((qy + reach) // side) + 2):
        for column in range(int((qx - reach) // side) - 1, int((qx + reach) // side) + 2):
            nx = min(max(qx, column * side), (column + 1) * side)
            ny = min(max(qy, row * side), (row + 1) * side)
            if ((nx - qx) ** 2 + (ny - qy) ** 2) ** 0.5 <= reach:
                assert (column, row) in seen, (column, row)
    assert lines.rim and (lines.cells or radius < 1000.0)


async def test_facets_from_the_cells_at_random_circles_are_the_oracles(
    cells_db: AsyncEngine,
) -> None:
    circles = _circles(seed=10, n=40)

    async with cells_db.connect() as conn:
        found = await _check(conn, circles)
        simple = (await conn.execute(text("SELECT count(*) FROM facet_cell_service"))).scalar()
        spread = (await conn.execute(text("SELECT count(*) FROM facet_spread_point"))).scalar()

    assert found >= 20
    assert simple and spread, "the demo network has services of both kinds"


# A service of the circle whose places all lie in one cell: moved by ~150 m, into another.
A_SIMPLE = "(SELECT service_id FROM facet_cell_service ORDER BY service_id OFFSET {n} LIMIT 1)"
A_SPREAD = "(SELECT service_id FROM facet_spread_point ORDER BY service_id OFFSET {n} LIMIT 1)"
CELL_WRITES = {
    "a place moved into the next cell": [
        "UPDATE location SET geom = ST_Translate(geom, 0.002, 0.0) WHERE id IN ("
        "SELECT location_id FROM service_at_location WHERE service_id = "
        + A_LOCATED_SERVICE.format(n=12)
        + ")"
    ],
    # a second place ~300 m away: the service becomes spread
    "a simple service at a second place nearby": [
        "INSERT INTO service_at_location (id, service_id, location_id)"
        " SELECT gen_random_uuid(), m.service_id, l.id FROM facet_cell_service AS m"
        " JOIN location AS l ON l.status = 'published' AND l.geom_utm IS NOT NULL"
        " AND floor(ST_X(l.geom_utm) / 100) NOT BETWEEN m.cx - 1 AND m.cx + 1"
        " AND ST_DWithin(l.geom_utm, ST_SetSRID(ST_MakePoint(m.cx * 100, m.cy * 100), 32632),"
        " 2000)"
        " WHERE m.service_id = " + A_SIMPLE.format(n=5) + " ORDER BY l.id LIMIT 1"
    ],
    # a spread service loses all its places but one: it becomes simple
    "a spread service left with one place": [
        "DELETE FROM service_at_location AS sal WHERE sal.service_id = "
        + A_SPREAD.format(n=0)
        + " AND sal.location_id <> (SELECT min(p.location_id::text)::uuid"
        " FROM facet_spread_point AS p WHERE p.service_id = sal.service_id)"
    ],
    "a place's comune changed": [
        "UPDATE location SET comune_istat = '097001' WHERE id IN ("
        "SELECT location_id FROM service_at_location WHERE service_id = "
        + A_LOCATED_SERVICE.format(n=13)
        + ") AND comune_istat IS DISTINCT FROM '097001'"
    ],
    "a service deleted": ["DELETE FROM service WHERE id = " + A_LOCATED_SERVICE.format(n=14)],
    "a new service at a place of the circle": [
        "INSERT INTO service (id, organization_id, name, status, target_groups, delivery)"
        " SELECT gen_random_uuid(), s.organization_id, 'Sportello', 'published',"
        " ARRAY['elderly'], ARRAY['on_site'] FROM service AS s WHERE s.id = "
        + A_LOCATED_SERVICE.format(n=15),
        "INSERT INTO service_at_location (id, service_id, location_id)"
        " SELECT gen_random_uuid(), s.id, sal.location_id FROM service AS s, service_at_location"
        " AS sal WHERE s.name = 'Sportello' AND sal.service_id = "
        + A_LOCATED_SERVICE.format(n=16)
        + " LIMIT 1",
    ],
    "a provider merged into another": [
        "UPDATE organization SET merged_into_id = (SELECT id FROM organization WHERE id <> "
        "(SELECT organization_id FROM service WHERE id = "
        + A_LOCATED_SERVICE.format(n=17)
        + ") ORDER BY id LIMIT 1) WHERE id = (SELECT organization_id FROM service WHERE id = "
        + A_LOCATED_SERVICE.format(n=17)
        + ")"
    ],
    "a place published again": [
        "UPDATE location SET status = 'published' WHERE status = 'draft' AND geom IS NOT NULL"
        " AND id IN (SELECT location_id FROM service_at_location)"
    ],
    # every cell may change: the flush rebuilds
    "a category moved under another": [
        "UPDATE taxonomy_term SET parent_id = (SELECT id FROM taxonomy_term WHERE parent_id IS"
        " NULL ORDER BY id LIMIT 1) WHERE id = (SELECT term_id FROM service_category"
        " WHERE service_id = " + A_LOCATED_SERVICE.format(n=18) + " LIMIT 1)"
        " AND parent_id IS DISTINCT FROM (SELECT id FROM taxonomy_term WHERE parent_id IS NULL"
        " ORDER BY id LIMIT 1)"
    ],
}
ALL_WRITES = {**WRITES, **CELL_WRITES}


@pytest.mark.parametrize("write", list(ALL_WRITES))
async def test_facets_from_the_cells_after_a_committed_write_are_the_oracles(
    cells_db: AsyncEngine, write: str
) -> None:
    circles = [(LECCO[0], LECCO[1], 3000.0), *_circles(seed=11, n=8)]
    # given
    before = await _kept_is_rebuilt(cells_db)
    async with cells_db.connect() as conn:
        answer = await _from_cells(conn, LECCO[0], LECCO[1], 3000.0)
    # when: one committed transaction
    async with cells_db.begin() as conn:
        for statement in ALL_WRITES[write]:
            result = await conn.execute(text(statement))
            assert result.rowcount > 0, statement
    # then: the cells are a rebuild's, and answer as the oracle
    after = await _kept_is_rebuilt(cells_db)
    async with cells_db.connect() as conn:
        found = await _check(conn, circles)
        moved = await _from_cells(conn, LECCO[0], LECCO[1], 3000.0)
    assert found >= 4
    assert after != before, "the write changed the cells"
    # (the oracle's writes each change the circle; a move to the next cell need not)
    assert moved != answer or write in CELL_WRITES, "the write changed what the circle counts"


async def test_a_write_the_facets_do_not_read_notes_nothing(cells_db: AsyncEngine) -> None:
    async with cells_db.begin() as conn:
        await conn.execute(
            text("UPDATE service SET name = name || ' ' WHERE id = " + A_SIMPLE.format(n=1))
        )
        await conn.execute(
            text(
                "UPDATE location SET name = 'Sede' WHERE id IN (SELECT location_id FROM"
                " service_at_location WHERE service_id = " + A_SIMPLE.format(n=2) + ")"
            )
        )
        notes = (await conn.execute(text("SELECT count(*) FROM facet_dirty"))).scalar()

    assert notes == 0
