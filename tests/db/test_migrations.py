"""Migrations upgrade an empty database, match the models, and downgrade cleanly."""

from __future__ import annotations

import asyncio
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from ambrogio.db import migrate
from ambrogio.db.migrate import include_object
from ambrogio.db.models import Base
from ambrogio.db.session import database_url, drop_database, ensure_database
from ambrogio.settings import Settings

OURS = set(Base.metadata.tables)


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def _diff(url: str) -> list[object]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync: object) -> list[object]:
                context = MigrationContext.configure(
                    sync, opts={"include_object": include_object, "compare_type": True}
                )
                return list(compare_metadata(context, Base.metadata))

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


@pytest.fixture
async def empty_db(settings: Settings):
    name = f"ambrogio_migrations_{os.getpid()}"
    await drop_database(settings, name)
    await ensure_database(settings, name)
    yield database_url(settings, name)
    await drop_database(settings, name)


async def test_upgrade_downgrade_upgrade(empty_db: str) -> None:
    await asyncio.to_thread(migrate.upgrade, empty_db)
    assert await _tables(empty_db) >= OURS
    assert await _diff(empty_db) == [], "the models and the migrations agree"

    await asyncio.to_thread(migrate.downgrade, empty_db, "base")
    assert not OURS & await _tables(empty_db)

    await asyncio.to_thread(migrate.upgrade, empty_db)
    assert await _tables(empty_db) >= OURS
