"""A throwaway PostGIS database per test session, on the project's cluster (or DATABASE_URL).

The session migrates one template database; the session database is a copy of it, loaded with
the demo data once, and so is every database a test module makes for itself. Tests that write
use their own transaction or database. HTTP goes through the real ASGI app over httpx.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ambrogio.app import build_app
from ambrogio.db.session import create_engine, create_sessionmaker, drop_database
from ambrogio.settings import Settings
from tests.support import accounts
from tests.support.database import TEMPLATE, create_template, create_test_database
from tests.support.graphql import GraphQLResult

TEST_DB = f"ambrogio_test_{os.getpid()}"


@pytest.fixture(scope="session")
def settings() -> Settings:
    # No rate limits by default: every test calls from 127.0.0.1, and the limits add a
    # statement that the statement counts would see (tests/auth/test_rate_limit.py sets them).
    return Settings(env="test", database_name=TEST_DB, rate_limit_anonymous=0, rate_limit_user=0)


@pytest.fixture(scope="session")
async def template_db(settings: Settings) -> AsyncIterator[str]:
    """The name of the migrated template every test database is copied from."""
    yield await create_template(settings, TEMPLATE)
    await drop_database(settings, TEMPLATE)


@pytest.fixture(scope="session")
async def db_url(settings: Settings, template_db: str) -> AsyncIterator[str]:
    from ambrogio.demo import load_demo

    await drop_database(settings, TEST_DB)
    url = await create_test_database(settings, TEST_DB, template_db)
    await load_demo(settings.model_copy(update={"database_url": url}), seed=settings.demo_seed)
    yield url
    await drop_database(settings, TEST_DB)


@dataclass
class StatementCounter:
    statements: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture(scope="session")
async def engine(settings: Settings, db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings, db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    counter = StatementCounter()

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counter.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    yield counter
    event.remove(engine.sync_engine, "before_cursor_execute", count)


@pytest.fixture(scope="session")
async def client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(settings, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ambrogio.test") as http:
            yield http


@pytest.fixture
def app_with(settings: Settings, engine: AsyncEngine) -> Callable[..., Any]:
    """``async with app_with(address="127.0.0.1", **settings_changes) as client``: a client of
    an app built with those settings, on the session's engine, calling from ``address``."""

    @asynccontextmanager
    async def make(address: str = "127.0.0.1", **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = build_app(settings.model_copy(update=changes), engine=engine)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(address, 4321))
            async with httpx.AsyncClient(transport=transport, base_url="http://ambrogio.test") as c:
                yield c

    return make


@pytest.fixture
def gql(client: httpx.AsyncClient) -> Any:
    """``await gql(query, _headers=..., **variables)``; ``_headers`` carries credentials."""

    async def run(
        query: str, _headers: dict[str, str] | None = None, **variables: Any
    ) -> GraphQLResult:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=_headers or {}
        )
        body = response.json()
        return GraphQLResult(response.status_code, body.get("data"), body.get("errors") or [])

    return run


@pytest.fixture(scope="session")
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture(scope="session")
def login(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> Any:
    """``await login("ada", "mapper", welfare_point_id=None)``: the user (created once) and
    the ``Authorization`` header of a fresh token for them."""

    async def run(
        name: str, role: str, welfare_point_id: uuid.UUID | None = None
    ) -> dict[str, str]:
        return await accounts.login(sessionmaker, settings, name, role, welfare_point_id)

    return run
