"""The demo network is deterministic and realistic; the scale generator is set-based and exact."""

from __future__ import annotations

import os

import pytest
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ambrogio.db.session import drop_database
from ambrogio.ids import record_id
from ambrogio.settings import Settings
from tests.support.database import create_test_database

GEOD = Geod(ellps="WGS84")

FINGERPRINT = text(
    """
    SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM organization t),
           (SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM location t),
           (SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM service t),
           (SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM cost_option t),
           (SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM welfare_point t)
    """
)


async def _fingerprint(url: str) -> tuple[str, ...]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return tuple((await conn.execute(FINGERPRINT)).one())
    finally:
        await engine.dispose()


@pytest.fixture
async def spare_db(settings: Settings, template_db: str):
    name = f"ambrogio_demo_{os.getpid()}"
    await drop_database(settings, name)
    url = await create_test_database(settings, name, template_db)
    yield settings.model_copy(update={"database_url": url}), url
    await drop_database(settings, name)


async def test_same_seed_same_rows_other_seed_other_rows(settings, db_url, spare_db) -> None:
    from ambrogio.demo import load_demo

    spare_settings, spare_url = spare_db
    await load_demo(spare_settings, seed=settings.demo_seed)
    same = await _fingerprint(spare_url)
    await load_demo(spare_settings, seed=settings.demo_seed + 1, force=True)
    other = await _fingerprint(spare_url)

    assert same == await _fingerprint(db_url)
    assert all(a != b for a, b in zip(same, other, strict=True))


async def test_demo_network_is_clustered_around_real_comuni(engine) -> None:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    """
                    SELECT ST_Y(l.geom), ST_X(l.geom), ST_Y(c.centroid), ST_X(c.centroid), c.name
                    FROM location l JOIN comune c ON c.istat_code = l.comune_istat
                    WHERE l.source = 'demo' AND c.centroid IS NOT NULL
                    """
                )
            )
        ).all()
        providers = await conn.scalar(text("SELECT count(*) FROM organization WHERE source='demo'"))
        points = await conn.scalar(text("SELECT count(*) FROM welfare_point WHERE source='demo'"))

    assert 200 <= providers <= 600
    assert points >= 5
    distances = [GEOD.inv(lon, lat, clon, clat)[2] for lat, lon, clat, clon, _ in rows]
    assert len(rows) >= providers
    # Locations sit near the comune they are recorded in, as real addresses do.
    assert sorted(distances)[len(distances) // 2] < 2500
    assert max(distances) < 10000
    in_lecco = sum(1 for row in rows if row[4] == "Lecco")
    assert in_lecco > len(rows) / 10, "denser where the towns are bigger"


async def test_demo_ids_are_deterministic_uuid5(engine) -> None:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT id, source, external_id FROM organization LIMIT 50"))
        ).all()

    assert rows
    for id_, source, external_id in rows:
        assert id_ == record_id(source, external_id)


async def test_scale_generates_exactly_n_providers(spare_db) -> None:
    from ambrogio.demo import load_scale

    spare_settings, spare_url = spare_db
    count = await load_scale(spare_settings, 2000, seed=7)
    first = await _fingerprint(spare_url)
    engine = create_async_engine(spare_url)
    try:
        async with engine.connect() as conn:
            providers = await conn.scalar(
                text("SELECT count(*) FROM organization WHERE source = 'scale'")
            )
            located = await conn.scalar(
                text(
                    "SELECT count(*) FROM location l"
                    " JOIN organization o ON o.id = l.organization_id"
                    " WHERE o.source = 'scale' AND l.geom IS NOT NULL"
                )
            )
            sample = (
                await conn.execute(
                    text("SELECT id, external_id FROM organization WHERE source='scale' LIMIT 20")
                )
            ).all()
    finally:
        await engine.dispose()

    assert count == providers == 2000
    assert located >= 2000
    assert all(id_ == record_id("scale", external_id) for id_, external_id in sample)
    engine = create_async_engine(spare_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM organization WHERE source = 'scale'"))
    finally:
        await engine.dispose()
    await load_scale(spare_settings, 2000, seed=7)
    assert await _fingerprint(spare_url) == first


async def test_demo_slots_fill_the_coming_weekdays_in_rome_time(engine) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    rome = ZoneInfo("Europe/Rome")
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT starts_at, capacity, taken FROM slot WHERE source='demo'")
            )
        ).all()

    today = datetime.now(rome).date()
    local = [start.astimezone(rome) for start, _, _ in rows]
    assert len(rows) > 500
    assert {t.hour for t in local} <= {9, 10, 11, 15, 16, 17}
    assert all(t.weekday() < 5 for t in local)
    assert min(t.date() for t in local) > today
    assert max(t.date() for t in local) <= today + timedelta(days=21)
    assert any(taken == capacity for _, capacity, taken in rows), "some are booked out"
    assert sum(1 for _, capacity, taken in rows if taken < capacity) > len(rows) / 2
