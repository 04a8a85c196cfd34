"""Engine and sessions. Nothing here connects until a caller asks for a connection."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from ambrogio.db.cluster import LocalCluster
from ambrogio.db.tagging import tag_statements
from ambrogio.settings import Settings

EXTENSIONS = ("postgis", "pg_trgm", "unaccent", "uuid-ossp")

# Per connection. JIT compilation costs more than it saves on short catalogue queries. The
# trigram threshold is what the index-backed ``%>`` operator of text search uses.
SERVER_SETTINGS = {
    "application_name": "ambrogio",
    "jit": "off",
    "pg_trgm.word_similarity_threshold": "0.45",
}


def database_url(settings: Settings, database: str | None = None) -> str:
    """The asyncpg URL of the configured server, or of the project-local cluster."""
    if settings.database_url is not None:
        url = make_url(settings.database_url)
        if database is not None:
            url = url.set(database=database)
        return url.render_as_string(hide_password=False)
    return LocalCluster(settings).url(database)


def create_engine(
    settings: Settings, url: str | None = None, *, serving: bool = False
) -> AsyncEngine:
    """The engine of ``url`` (the configured database by default).

    Every connection is checked before use (a connection PostgreSQL dropped when it restarted
    is replaced, not handed to a request). ``serving`` engines (the server's) also end every
    wait in time — connecting, a pooled connection, each statement (``statement_timeout``) —
    as the settings say, and tag each checkout with its request (``ambrogio.db.tagging``, which
    is their liveness check too); commands (imports, demo data, migrations) wait as long as
    they need, with the drivers' own limits.
    """
    server_settings = dict(SERVER_SETTINGS)
    connect_args: dict[str, Any] = {"server_settings": server_settings}
    bounded: dict[str, Any] = {}
    if serving:
        server_settings["statement_timeout"] = str(settings.db_statement_timeout_ms)
        connect_args["timeout"] = settings.db_connect_timeout_seconds
        bounded["pool_timeout"] = settings.db_pool_timeout_seconds
    engine = create_async_engine(
        url or database_url(settings),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=not serving,
        connect_args=connect_args,
        **bounded,
    )
    if serving:
        tag_statements(engine)
    return engine


def create_probe_engine(settings: Settings, url: str) -> AsyncEngine:
    """One connection of its own, checked before each use: for health checks that must not
    take (or rename, ``ambrogio.db.tagging``) a connection of the requests' pool."""
    return create_async_engine(
        url,
        pool_size=1,
        max_overflow=0,
        pool_pre_ping=True,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={
            "server_settings": {**SERVER_SETTINGS, "application_name": "ambrogio-probe"},
            "timeout": settings.db_connect_timeout_seconds,
        },
    )


async def unbounded(session: AsyncSession) -> None:
    """Lift the server's ``statement_timeout`` for the session's transaction: work a caller
    started and waits for by other means (an import job's one write transaction)."""
    await session.execute(text("SET LOCAL statement_timeout = 0"))


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ensure_database(settings: Settings, database: str | None = None) -> None:
    """Create the database (when missing) and the extensions Ambrogio needs."""
    import asyncpg

    url = make_url(database_url(settings, database))
    name = url.database or settings.database_name
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    conn = await asyncpg.connect(admin)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    conn = await asyncpg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        for extension in EXTENSIONS:
            await conn.execute(f'CREATE EXTENSION IF NOT EXISTS "{extension}"')
    finally:
        await conn.close()


async def drop_database(settings: Settings, database: str) -> None:
    import asyncpg

    admin = make_url(database_url(settings, "postgres")).set(drivername="postgresql")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()
