"""No database, or no time left: UNAVAILABLE on every route (HTTP 503 on the REST routes, in
GraphQL's error shape), ``/readyz`` not ready, and never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.app import build_app
from ambrogio.db.session import create_engine
from ambrogio.settings import Settings
from tests.support.servers import free_port

REST = ["/hsds/services?per_page=1", "/tiles/providers/12/2174/1458.mvt", "/export/hsds.json"]
QUERY = {"query": "{ providers(first: 1) { totalCount } }"}


async def _client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(settings, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ambrogio.test") as http:
            yield http


@pytest.fixture
async def no_database(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a port where no PostgreSQL listens."""
    fast = settings.model_copy(update={"db_connect_timeout_seconds": 1.0})
    engine = create_engine(
        fast, f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none", serving=True
    )
    async for http in _client(fast, engine):
        yield http
    await engine.dispose()


@pytest.fixture
async def no_time(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the test database, with a request time limit nothing can meet."""
    async for http in _client(
        settings.model_copy(update={"request_timeout_seconds": 0.001}), engine
    ):
        yield http


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_without_a_database_every_route_is_unavailable(
    no_database: httpx.AsyncClient,
) -> None:
    graphql = await no_database.post("/graphql", json=QUERY)
    assert graphql.status_code == 200 and _code(graphql) == "UNAVAILABLE"
    assert graphql.json()["errors"][0]["extensions"]["requestId"] == graphql.headers["x-request-id"]
    for path in REST:
        response = await no_database.get(path, headers={"Origin": "https://example.it"})
        assert response.status_code == 503, path
        assert _code(response) == "UNAVAILABLE" and response.headers["retry-after"] == "2"
        # a browser page may read it (CORS)
        assert response.headers["access-control-allow-origin"] == "*"
    ready = await no_database.get("/readyz")
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
    assert (await no_database.get("/healthz")).status_code == 200


async def test_past_the_request_time_limit_the_answer_is_unavailable(
    no_time: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    # guard: with the default limit the same requests succeed
    assert (await client.post("/graphql", json=QUERY)).json()["data"]["providers"]["totalCount"]
    assert (await client.get(REST[0])).status_code == 200
    for response in (await no_time.post("/graphql", json=QUERY), await no_time.get(REST[0])):
        assert response.status_code == 503 and _code(response) == "UNAVAILABLE"
