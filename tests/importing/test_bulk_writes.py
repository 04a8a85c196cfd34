"""A large import writes what the per-statement path wrote: the same catalogue, change feed,
search documents, lexeme bounds, map grid and flagged duplicates.

Two databases get the same files: one as the import runs now (the search documents refreshed
once, after the merge's statements; the map grid summed set-based, migration 0024, and
rebuilt a level at a time, 0028; the lexeme bounds' inline rank, 0028), one the way it ran
before (each statement's triggers refreshing the documents; 0020's grid sum, 0022's rebuild
and 0025's rank bound, installed again there). Everything the import writes is then compared
between them, and the grid and documents of the first with a rebuild from scratch. The files
are large enough for the duplicates' bulk plan (more than ``BULK_PROVIDERS`` providers) and
varied: providers with two places, without coordinates, renamed, moved, recategorised, new.
"""

from __future__ import annotations

import importlib.util
import os
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.enums import ImportFormat
from ambrogio.importing import upsert
from ambrogio.importing.pipeline import ImportOptions, run_import
from ambrogio.settings import Settings
from tests.catalogue.test_facet_cells import CELLS as FACET_CELLS
from tests.support.import_db import ImportDb, import_db
from tests.support.import_files import feature, geojson, service

SOURCE = "bulk"
PROVIDERS = 1_300
SLUGS = ("badante", "assistenza-domiciliare", "centro-diurno", "fisioterapia", "doposcuola")
DELIVERY = (["on_site"], ["at_home"], ["at_home", "on_site"], ["online"])
WORDS = ("Aurora", "Sereno", "Girasole", "Arcobaleno", "Solidale", "Insieme")
VERSIONS = Path(__file__).parents[2] / "migrations" / "versions"

# What is compared, each in a stable order (ids are derived from the source's keys).
TABLES = {
    "organization": "SELECT id, name, kind, tax_code, email, phone, status, version"
    " FROM organization ORDER BY id",
    "location": "SELECT id, organization_id, address, comune_istat, ST_AsText(geom), status,"
    " geocode_precision, comune_precision, version FROM location ORDER BY id",
    "service": "SELECT id, organization_id, name, delivery, service_area_comuni, status, version"
    " FROM service ORDER BY id",
    "service_category": "SELECT * FROM service_category ORDER BY service_id, term_id",
    "cost_option": "SELECT id, service_id, amount, unit FROM cost_option ORDER BY id",
    "service_at_location": "SELECT * FROM service_at_location ORDER BY id",
    # Per transaction; within a statement the order follows its plan, which may differ.
    "change_event": "SELECT dense_rank() OVER (ORDER BY txid), entity, record_id, change,"
    " survivor_id, published_before, published_after FROM change_event ORDER BY 1, 2, 3, 4, 5,"
    " 6, 7",
    "provider_search": "SELECT organization_id, document::text, names FROM provider_search"
    " ORDER BY organization_id",
    "map_grid_point": "SELECT * FROM map_grid_point ORDER BY key, location_id",
    "map_grid_cell": "SELECT key, level, y, x, locations, providers,"
    " ARRAY(SELECT s FROM unnest(shared) AS s ORDER BY s), lon_sum, lat_sum, west, south, east,"
    " north, location_id, provider_id FROM map_grid_cell ORDER BY key, level, y, x",
    "duplicate_candidate": "SELECT provider_a, provider_b, reason, score, reasons"
    " FROM duplicate_candidate ORDER BY provider_a, provider_b",
    "search_lexeme_bound": "SELECT * FROM search_lexeme_bound ORDER BY lexeme",
}


GRID_INDEXES = (
    "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
    " WHERE indrelid IN ('map_grid_point'::regclass, 'map_grid_cell'::regclass) ORDER BY 1"
)


def _provider(
    rng: random.Random, n: int, edition: int, twins: dict[int, tuple[str, float, float]]
) -> list[dict[str, Any]]:
    """The features of provider ``n`` in the file's ``edition`` (0, then 1 with changes);
    one in 25 is a likely duplicate of the one before (same name, 20 m away)."""
    changed = edition == 1 and n % 3 == 0
    name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {n % 40}"
    lat, lon = 45.70 + rng.random() * 0.3, 9.25 + rng.random() * 0.3
    if n % 25 == 1 and n - 1 in twins:
        name, lat, lon = twins[n - 1]
        lat += 0.0002
    twins[n] = (name, lat, lon)
    services = [
        service(
            f"Servizio {slug} {n % 7}{' bis' if changed and k == 0 else ''}",
            category=[slug, SLUGS[(n + 1) % len(SLUGS)]] if changed and k == 0 else slug,
            delivery=DELIVERY[(n + k + (1 if changed else 0)) % len(DELIVERY)],
            service_id=f"s{k}",
        )
        for k, slug in enumerate(rng.sample(SLUGS, 1 + n % 3))
    ]
    if changed:
        lat += 0.002
    where = {"lat": None, "lon": None} if n % 10 == 0 else {"lat": lat, "lon": lon}
    props = {
        "name": name,
        "services": services,
        "tax_code": None,
        "email": f"info{n}@p{n}.example.it",
    }
    if n % 8 == 0:
        return [
            feature(f"p{n}", location_id="a", **where, **props),
            feature(f"p{n}", location_id="b", lat=lat + 0.01, lon=lon - 0.01, **props),
        ]
    return [feature(f"p{n}", **where, **props)]


def _file(edition: int) -> bytes:
    rng = random.Random(7)
    count = PROVIDERS + (100 if edition else 0)
    twins: dict[int, tuple[str, float, float]] = {}
    features = [f for n in range(count) for f in _provider(rng, n, edition, twins)]
    return geojson(*features)


async def _run(db: ImportDb, data: bytes) -> None:
    job = await run_import(
        db.sessionmaker,
        db.settings,
        data,
        ImportOptions(source=SOURCE, format=ImportFormat.GEOJSON, filename="bulk.geojson"),
    )
    assert job.status == "succeeded", job.failure


async def _snapshot(engine: AsyncEngine) -> dict[str, list[Any]]:
    async with engine.connect() as conn:
        return {name: list((await conn.execute(text(sql))).all()) for name, sql in TABLES.items()}


def _migration(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"migration_{name[:4]}", VERSIONS / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
async def fast(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_bulk_fast_{os.getpid()}", template_db):
        yield db


@pytest.fixture(scope="module")
async def slow(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_bulk_slow_{os.getpid()}", template_db):
        before = _migration("0028_import_bulk_maintenance.py")
        async with db.engine.begin() as conn:
            await conn.execute(text(_migration("0024_import_bulk_writes.py").SUM_0020))
            await conn.execute(text(before.REBUILD_0022))
            await conn.execute(text(before.RANK_BOUND_0025))
        yield db


async def test_a_large_import_writes_what_the_per_statement_path_wrote(
    fast: ImportDb, slow: ImportDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    for edition in (0, 1):
        # given the same file, when both databases import it, each its own way
        data = _file(edition)
        await _run(fast, data)
        monkeypatch.setattr(upsert, "DEFER_SEARCH", False)
        await _run(slow, data)
        monkeypatch.setattr(upsert, "DEFER_SEARCH", True)
        # then they hold the same rows
        got, want = await _snapshot(fast.engine), await _snapshot(slow.engine)
        for name in TABLES:
            assert got[name] == want[name], name
    # and the comparison compared something
    assert len(got["provider_search"]) > PROVIDERS
    assert len(got["map_grid_point"]) > PROVIDERS
    assert any(row[6] for row in got["map_grid_cell"]), "no cell with providers elsewhere"
    assert any(row[3] == "update" for row in got["change_event"])
    assert got["duplicate_candidate"], "no duplicate flagged"
    assert len(got["search_lexeme_bound"]) > 100


async def test_after_the_imports_grid_and_documents_are_those_built_from_scratch(
    fast: ImportDb,
) -> None:
    # given the imports above (or these, when run alone)
    if not await fast.scalar("SELECT count(*) FROM organization WHERE source = :s", s=SOURCE):
        await _run(fast, _file(0))
        await _run(fast, _file(1))
    async with fast.engine.connect() as conn:
        indexes = list((await conn.execute(text(GRID_INDEXES))).all())
        kept = {
            name: list((await conn.execute(text(TABLES[name]))).all())
            for name in ("provider_search", "map_grid_point", "map_grid_cell")
        }
        kept["facet_cells"] = list((await conn.execute(text(FACET_CELLS))).all())
        # when everything is built again from scratch
        await conn.execute(text("SELECT ambrogio_map_grid_rebuild()"))
        await conn.execute(text("SELECT ambrogio_facet_rebuild()"))
        await conn.execute(text("DELETE FROM provider_search"))
        await conn.execute(
            text("SELECT ambrogio_refresh_provider_search(ARRAY(SELECT id FROM organization))")
        )
        rebuilt = {
            name: list((await conn.execute(text(TABLES.get(name, FACET_CELLS)))).all())
            for name in kept
        }
        indexes_after = list((await conn.execute(text(GRID_INDEXES))).all())
        # and by 0022's rebuild, point by point and cell by cell
        await conn.execute(text(_migration("0028_import_bulk_maintenance.py").REBUILD_0022))
        await conn.execute(text("SELECT ambrogio_map_grid_rebuild()"))
        before = {
            name: list((await conn.execute(text(TABLES[name]))).all())
            for name in ("map_grid_point", "map_grid_cell")
        }
        await conn.rollback()
    # then nothing differs
    assert kept["provider_search"]
    assert kept["facet_cells"]
    for name, rows in kept.items():
        assert rows == rebuilt[name], name
    for name, rows in before.items():
        assert rows == kept[name], name
    # and the rebuild, which sets the grid's indexes aside while it fills the tables, left them
    # as they were
    assert indexes_after == indexes
    assert [name for name, _ in indexes] == [
        "ix_map_grid_cell_key_level_x_y",
        "ix_map_grid_point_key_x_y",
        "ix_map_grid_point_key_y_x",
        "ix_map_grid_point_location_id",
        "ix_map_grid_point_provider_id_key",
        "pk_map_grid_cell",
        "pk_map_grid_point",
    ]
