"""The request behind a connection, in ``application_name``: the hot reads of
``ambrogio.db.prepared`` set it in their own statement, and replace a connection the server
dropped before reading on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.db import prepared
from ambrogio.db.session import create_engine
from ambrogio.db.tagging import current_request
from ambrogio.settings import Settings

# What the connection is called while the statement runs.
NAME = prepared.Prepared.of(select(func.current_setting("application_name").label("name")))


@pytest.fixture
async def serving(settings: Settings, db_url: str) -> AsyncIterator[AsyncEngine]:
    """The server's kind of engine (tagging each checkout), with one connection."""
    one = settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0})
    engine = create_engine(one, db_url, serving=True)
    yield engine
    await engine.dispose()


async def read_as(engine: AsyncEngine, request_id: str) -> str:
    token = current_request.set(request_id)
    try:
        (row,) = await prepared.fetch(engine, NAME, {})
    finally:
        current_request.reset(token)
    name: str = row.name
    return name


async def test_a_hot_read_runs_named_after_its_request(serving: AsyncEngine) -> None:
    # given two requests, one after the other on the pool's one connection
    # when each makes a hot read
    first = await read_as(serving, "t-first")
    second = await read_as(serving, "t-second")

    # then each statement ran under its own request's name (set before its rows were read)
    assert (first, second) == ("ambrogio t-first", "ambrogio t-second")


@pytest.mark.parametrize("noticed", [True, False])
async def test_a_connection_the_server_dropped_is_replaced_before_the_read(
    serving: AsyncEngine, db_url: str, noticed: bool
) -> None:
    # given the pool's connection, which the server then terminates (as a restart would)
    assert await read_as(serving, "t-before") == "ambrogio t-before"
    admin = await asyncpg.connect(db_url.replace("+asyncpg", ""))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'ambrogio t-before'"
        )
    finally:
        await admin.close()
    assert killed == 1  # guard
    if noticed:
        await asyncio.sleep(0.5)  # the client has read the server's goodbye by now

    # when the next request reads
    after = await read_as(serving, "t-after")

    # then it is answered, on a new connection
    assert after == "ambrogio t-after"
