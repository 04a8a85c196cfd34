"""After every kind of write the map grid is the one a rebuild from scratch makes.

Each write is committed on a database of its own (1,500 synthetic providers), so that the
refresh runs where it runs in production: at commit. Then, in a transaction rolled back,
the grid is compared row for row with ``ambrogio_map_grid_rebuild()``'s. A write that the
triggers missed leaves the kept grid behind the rebuilt one.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.db.session import create_engine, drop_database
from ambrogio.geo.clusters import clusters_stmt
from ambrogio.settings import Settings
from tests.geo.test_grid import from_grid, grid_rows, map_view
from tests.support.database import create_test_database
from tests.support.import_db import ImportDb, import_db
from tests.support.import_files import feature, geojson, service


@pytest.fixture(scope="module")
async def grid_db(settings: Settings, template_db: str) -> AsyncIterator[AsyncEngine]:
    from ambrogio.demo import load_scale

    name = f"ambrogio_grid_{os.getpid()}"
    await drop_database(settings, name)
    url = await create_test_database(settings, name, template_db)
    await load_scale(settings.model_copy(update={"database_url": url}), 1_500, seed=11)
    engine = create_engine(settings, url)
    yield engine
    await engine.dispose()
    await drop_database(settings, name)


def nth(table: str, n: int, where: str = "status = 'published'") -> str:
    return f"(SELECT id FROM {table} WHERE {where} ORDER BY id OFFSET {n} LIMIT 1)"


LOCATED = "status = 'published' AND geom IS NOT NULL"
PROVIDER_OF = f"(SELECT organization_id FROM location WHERE id = {nth('location', 3, LOCATED)})"
A_SERVICE = (
    "(SELECT s.id FROM service AS s JOIN organization AS o ON o.id = s.organization_id"
    " WHERE s.status = 'published' AND o.status = 'published'"
    " AND EXISTS (SELECT 1 FROM location AS l"
    "   WHERE l.organization_id = o.id AND l.geom IS NOT NULL)"
    " ORDER BY s.id OFFSET {n} LIMIT 1)"
)


def copy_location(n: int, dlon: float, dlat: float) -> str:
    return (
        "INSERT INTO location (id, organization_id, geom, geocode_precision, status)"
        f" SELECT gen_random_uuid(), organization_id, ST_Translate(geom, {dlon}, {dlat}),"
        f" geocode_precision, 'published' FROM location WHERE id = {nth('location', n, LOCATED)}"
    )


# (what, statements of one transaction)
WRITES: list[tuple[str, list[str]]] = [
    ("create a location far away", [copy_location(1, 0.05, -0.04)]),
    # another zoom-17 cell, the same cell of a zoom-10 answer: the provider counts once there
    ("create a second location nearby", [copy_location(2, 0.004, 0.003)]),
    (
        "move a location",
        [
            "UPDATE location SET geom = ST_Translate(geom, 0.003, -0.002)"
            f" WHERE id = {nth('location', 5, LOCATED)}"
        ],
    ),
    (
        "move many locations in one statement",
        [
            "UPDATE location SET geom = ST_Translate(geom, 0.0004, 0.0) "
            "WHERE geom IS NOT NULL AND abs(hashtext(id::text)) % 9 = 0"
        ],
    ),
    # past the bulk threshold (1,000 notes here): the flush rebuilds the grid
    (
        "move every location in one statement",
        ["UPDATE location SET geom = ST_Translate(geom, -0.0006, 0.0002) WHERE geom IS NOT NULL"],
    ),
    (
        "archive a location",
        [f"UPDATE location SET status = 'archived' WHERE id = {nth('location', 7, LOCATED)}"],
    ),
    (
        "archive a provider",
        [f"UPDATE organization SET status = 'archived' WHERE id = {PROVIDER_OF}"],
    ),
    (
        "publish a provider again and a draft location",
        [
            "UPDATE organization SET status = 'published' WHERE status = 'archived'",
            f"UPDATE location SET status = 'draft' WHERE id = {nth('location', 8, LOCATED)}",
            "UPDATE location SET status = 'published' WHERE status = 'draft' AND geom IS NOT NULL",
        ],
    ),
    (
        "merge a provider into another",
        [
            f"UPDATE organization SET merged_into_id = {nth('organization', 20)}"
            f" WHERE id = {nth('organization', 21)}",
            f"UPDATE location SET organization_id = {nth('organization', 22)}"
            f" WHERE organization_id = {nth('organization', 23)}",
        ],
    ),
    (
        "change a service's category",
        [
            "UPDATE service_category"
            " SET term_id = (SELECT id FROM taxonomy_term WHERE slug = 'badante')"
            f" WHERE service_id = {A_SERVICE.format(n=4)}"
            " AND NOT EXISTS (SELECT 1 FROM service_category AS o"
            "   WHERE o.service_id = service_category.service_id"
            "   AND o.term_id = (SELECT id FROM taxonomy_term WHERE slug = 'badante'))",
            "INSERT INTO service_category (service_id, term_id)"
            f" SELECT {A_SERVICE.format(n=5)}, id FROM taxonomy_term WHERE slug = 'centro-diurno'"
            " ON CONFLICT DO NOTHING",
        ],
    ),
    (
        "remove a service's categories",
        [f"DELETE FROM service_category WHERE service_id = {A_SERVICE.format(n=6)}"],
    ),
    (
        "change a service's delivery",
        [f"UPDATE service SET delivery = ARRAY['online'] WHERE id = {A_SERVICE.format(n=7)}"],
    ),
    (
        "archive a service",
        [f"UPDATE service SET status = 'archived' WHERE id = {A_SERVICE.format(n=8)}"],
    ),
    ("delete a service", [f"DELETE FROM service WHERE id = {A_SERVICE.format(n=9)}"]),
    ("delete a location", [f"DELETE FROM location WHERE id = {nth('location', 11, LOCATED)}"]),
    ("delete a provider", [f"DELETE FROM organization WHERE id = {nth('organization', 30)}"]),
    (
        "move a category under another",
        [
            "UPDATE taxonomy_term"
            " SET parent_id = (SELECT id FROM taxonomy_term WHERE slug = 'salute-e-benessere')"
            " WHERE slug = 'badante'"
        ],
    ),
]


async def assert_grid_is_rebuilt(engine: AsyncEngine) -> tuple[Any, Any]:
    async with engine.connect() as conn:
        kept = await grid_rows(conn)
        assert (await conn.execute(text("SELECT count(*) FROM map_grid_dirty"))).scalar() == 0
        await conn.execute(text("SELECT ambrogio_map_grid_rebuild()"))
        rebuilt = await grid_rows(conn)
        await conn.rollback()
    assert kept[0] == rebuilt[0], "points"
    assert kept[1] == rebuilt[1], "cells"
    return kept


async def assert_answers_agree(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        for zoom in (8, 10, 13):
            view = map_view(9.3932, 45.8566, zoom)
            got = await from_grid(conn, view, zoom, "")
            assert got == (await conn.execute(clusters_stmt(view, zoom, None))).all()


@pytest.mark.parametrize("statements", [w for _, w in WRITES], ids=[what for what, _ in WRITES])
async def test_after_a_write_the_grid_is_a_rebuild(
    grid_db: AsyncEngine, statements: list[str]
) -> None:
    # given
    before = await assert_grid_is_rebuilt(grid_db)
    # when: one committed transaction
    async with grid_db.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))
    # then: the grid moved, as a rebuild would have moved it
    after = await assert_grid_is_rebuilt(grid_db)
    assert after != before
    await assert_answers_agree(grid_db)


async def test_a_write_the_grid_does_not_read_notes_nothing(grid_db: AsyncEngine) -> None:
    async with grid_db.begin() as conn:
        await conn.execute(
            text(f"UPDATE location SET name = 'Sede' WHERE id = {nth('location', 12, LOCATED)}")
        )
        await conn.execute(
            text(f"UPDATE organization SET phone = '0341 1' WHERE id = {PROVIDER_OF}")
        )
        await conn.execute(
            text(f"UPDATE service SET name = 'Altro' WHERE id = {A_SERVICE.format(n=10)}")
        )
        assert (await conn.execute(text("SELECT count(*) FROM map_grid_flush"))).scalar() == 0


async def test_a_provider_in_two_cells_of_one_cluster_counts_once(grid_db: AsyncEngine) -> None:
    # given: a provider with three locations a few hundred metres apart (three zoom-17 cells)
    async with grid_db.begin() as conn:
        provider = (await conn.execute(text(PROVIDER_OF))).scalar()
        for dlon, dlat in ((0.0, 0.0), (0.004, 0.0), (0.0, 0.004)):
            await conn.execute(
                text(
                    "INSERT INTO location (id, organization_id, geom, geocode_precision, status)"
                    " VALUES (gen_random_uuid(), :p,"
                    " ST_SetSRID(ST_MakePoint(9.5001 + :x, 45.9001 + :y), 4326),"
                    " 'exact', 'published')"
                ),
                {"p": provider, "x": dlon, "y": dlat},
            )
    # when: the zoom-10 view, whose zoom-12 cell holds all three
    async with grid_db.connect() as conn:
        view = map_view(9.5, 45.9, 10)
        rows = await from_grid(conn, view, 10, "")
        # then
        assert rows == (await conn.execute(clusters_stmt(view, 10, None))).all()
        [cluster] = [
            r for r in rows if r.west <= 9.5001 <= r.east and r.south <= 45.9001 <= r.north
        ]
        assert cluster.count >= 3
        single = await conn.execute(
            text(
                "SELECT count(*), count(DISTINCT organization_id) FROM location"
                " WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326) AND status = 'published'"
                " AND organization_id IN (SELECT id FROM organization WHERE status = 'published'"
                "   AND merged_into_id IS NULL)"
            ),
            {"w": cluster.west, "s": cluster.south, "e": cluster.east, "n": cluster.north},
        )
        locations, providers = single.one()
        assert (cluster.count, cluster.providers) == (locations, providers)
        assert cluster.providers < cluster.count


IMPORTED = [
    feature("g1"),
    feature("g2", lat=45.70, lon=9.41, services=[service("Badante", category="badante")]),
    feature("g3", location_id="north", lat=45.95, lon=9.38),
    feature(
        "g3", location_id="south", lat=45.951, lon=9.381, services=[service(delivery=["online"])]
    ),
]


@pytest.fixture(scope="module")
async def imp(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_grid_imp_{os.getpid()}", template_db):
        yield db


async def test_an_import_fills_the_grid_and_an_unchanged_one_touches_no_row(imp: ImportDb) -> None:
    reviewer = await imp.login("grid-reviewer", "reviewer")
    # when: a first import
    first = await imp.upload(geojson(*IMPORTED), source="grid", headers=reviewer)
    assert first.errors == []
    assert first.data["importProviders"]["created"] == 3
    # then
    kept = await assert_grid_is_rebuilt(imp.engine)
    assert len(kept[0]) > 4
    versions = "SELECT xmin::text, * FROM {} ORDER BY 2, 3, 4, 5"
    points = await imp.rows(versions.format("map_grid_point"))
    cells = await imp.rows(versions.format("map_grid_cell"))
    # when: the same file again
    again = await imp.upload(geojson(*IMPORTED), source="grid", headers=reviewer)
    assert again.data["importProviders"]["unchanged"] == 3
    # then: not a row of the grid was written (xmin is the transaction that wrote a row)
    assert await imp.rows(versions.format("map_grid_point")) == points
    assert await imp.rows(versions.format("map_grid_cell")) == cells
    # when: the file with one location moved
    moved = [*IMPORTED[:3], feature("g3", location_id="south", lat=45.90, lon=9.30)]
    report = await imp.upload(geojson(*moved), source="grid", headers=reviewer)
    assert report.data["importProviders"]["updated"] == 1
    # then
    assert (await assert_grid_is_rebuilt(imp.engine)) != kept


@pytest.mark.parametrize(
    ("statement", "rebuilds"),
    [
        ("UPDATE location SET geom = ST_Translate(geom, 0.0002, 0.0) WHERE geom IS NOT NULL", 1),
        (
            "UPDATE location SET geom = ST_Translate(geom, 0.0002, 0.0)"
            f" WHERE id = {nth('location', 9, LOCATED)}",
            0,
        ),
    ],
    ids=["bulk", "one"],
)
async def test_a_bulk_write_rebuilds_the_grid_and_a_small_one_refreshes_it(
    grid_db: AsyncEngine, statement: str, rebuilds: int
) -> None:
    # when: the write, its deferred flush run before the commit to count what it called
    async with grid_db.begin() as conn:
        await conn.execute(text("SET LOCAL track_functions = 'pl'"))
        await conn.execute(text(statement))
        await conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        calls = (
            await conn.execute(
                text(
                    "SELECT coalesce(pg_stat_get_xact_function_calls(oid), 0) FROM pg_proc"
                    " WHERE proname = :name"
                ),
                {"name": "ambrogio_map_grid_rebuild"},
            )
        ).scalar()
    # then
    assert calls == rebuilds
    await assert_grid_is_rebuilt(grid_db)
