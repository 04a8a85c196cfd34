"""Test databases on the project's cluster (or DATABASE_URL), copied from one migrated template.

A session migrates once, into ``TEMPLATE``; every database a test needs (the session's, the
import tests', the planner's) is then ``CREATE DATABASE ... TEMPLATE``, a file copy that takes
a fraction of a migration. PostgreSQL copies a template only while no one is connected to it:
``create_template`` closes every connection it opened (alembic disposes its engine) and then
forbids connections to the template, so that a stray one fails loudly instead of the copy.
"""

from __future__ import annotations

import asyncio
import os

import asyncpg
from sqlalchemy.engine import make_url

from ambrogio.db import migrate
from ambrogio.db.session import database_url, drop_database, ensure_database
from ambrogio.settings import Settings

TEMPLATE = f"ambrogio_tmpl_{os.getpid()}"


def _admin_dsn(settings: Settings) -> str:
    """asyncpg's DSN of the server's ``postgres`` database, where databases are made."""
    url = make_url(database_url(settings, "postgres")).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def create_template(settings: Settings, name: str = TEMPLATE) -> str:
    """A fresh, migrated database (schema and reference data) no one may connect to; its name."""
    await drop_database(settings, name)
    await ensure_database(settings, name)
    await asyncio.to_thread(migrate.upgrade, database_url(settings, name))
    conn = await asyncpg.connect(_admin_dsn(settings))
    try:
        await conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    finally:
        await conn.close()
    return name


async def create_test_database(settings: Settings, name: str, template: str) -> str:
    """A copy of the migrated template, under ``name`` (which must not exist); returns its URL."""
    conn = await asyncpg.connect(_admin_dsn(settings))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return database_url(settings, name)
