"""A logical backup restores whole: ``pg_dump -Fc`` of a loaded database, ``pg_restore`` into
an empty one, and every table holds the same rows (PostGIS geometries included), at the same
migration. The commands are the ones docs/deploy.md gives."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from ambrogio.db.session import database_url, drop_database
from ambrogio.settings import Settings

TABLES = """
SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename
"""
# A digest of each table's rows, in a stable order: the same digest is the same rows.
DIGEST = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} AS t"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _libpq(url: str) -> list[str]:
    parsed = make_url(url)
    return ["-h", str(parsed.host), "-p", str(parsed.port), "-U", str(parsed.username)]


async def _digests(url: str) -> dict[str, str]:
    connection = await asyncpg.connect(_dsn(url))
    try:
        names = [row["tablename"] for row in await connection.fetch(TABLES)]
        return {name: await connection.fetchval(DIGEST.format(f'"{name}"')) for name in names}
    finally:
        await connection.close()


async def test_pg_dump_restores_every_row_into_an_empty_database(
    settings: Settings, db_url: str, tmp_path: Path
) -> None:
    source = make_url(db_url)
    restored = f"ambrogio_restore_{os.getpid()}"
    restored_url = database_url(settings.model_copy(update={"database_url": db_url}), restored)
    dump = tmp_path / "ambrogio.dump"
    pg = settings.pg_bin_dir
    await asyncio.to_thread(
        subprocess.run,
        [str(pg / "pg_dump"), "-Fc", "-f", str(dump), *_libpq(db_url), str(source.database)],
        check=True,
    )
    admin = await asyncpg.connect(_dsn(database_url(settings, "postgres")))
    try:
        await admin.execute(f'CREATE DATABASE "{restored}" TEMPLATE template0')
    finally:
        await admin.close()
    try:
        await asyncio.to_thread(
            subprocess.run,
            [
                str(pg / "pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "-d",
                restored,
                *_libpq(db_url),
                str(dump),
            ],
            check=True,
        )
        before, after = await _digests(db_url), await _digests(restored_url)
        assert len(before) > 20 and "location" in before  # guard: the catalogue's tables
        assert before == after
    finally:
        await drop_database(settings, restored)
