"""The REST routes (HSDS, exports, tiles, the needs' gap analysis) pay into the same token
buckets as GraphQL operations: 429, ``Retry-After`` and ``RATE_LIMITED`` when over."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.http import rest_limit
from tests.support.accounts import address, metered_key
from tests.support.servers import serving

# A tile of Lecco (z14), inside the demo catalogue's territory.
TILE = "/tiles/providers/14/8619/5838.mvt"


def refused(response: httpx.Response) -> dict[str, Any]:
    """The refusal's extensions, after checking its shape."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/json"
    (error,) = response.json()["errors"]
    extensions: dict[str, Any] = error["extensions"]
    assert extensions["code"] == "RATE_LIMITED"
    assert int(response.headers["retry-after"]) == extensions["retryAfter"] >= 1
    return extensions


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/hsds/services", "per_page=50", 51),
        ("/hsds/organizations", "", rest_limit.DEFAULT_PAGE + 1),
        ("/hsds/services", "per_page=abc", rest_limit.DEFAULT_PAGE + 1),
        ("/hsds/services", "format=ndjson", rest_limit.EXPORT_COST),
        ("/hsds/changes", "per_page=7", 8),
        ("/hsds/services/7f1e7c1e-0000-0000-0000-000000000000", "", 1),
        ("/export/hsds.json", "", rest_limit.EXPORT_COST),
        ("/export/catalogue.geojson", "modified_after=2026-01-01", rest_limit.EXPORT_COST),
        (TILE, "", rest_limit.TILE_COST),
        ("/tiles/providers.json", "", 1),
        ("/tiles/needs_gaps/10/540/364.mvt", "", rest_limit.GAPS_COST),
        ("/needs/gaps.csv", "from=2026-Q1", rest_limit.GAPS_COST),
    ],
)
def test_each_route_has_its_price(path: str, query: str, expected: int) -> None:
    assert rest_limit.cost(path, query) == expected


async def test_an_address_pays_for_hsds_pages_and_tiles(app_with: Callable[..., Any]) -> None:
    here = address()
    async with app_with(here, rate_limit_anonymous=100) as client:
        first = await client.get("/hsds/services?per_page=49")
        second = await client.get("/hsds/services?per_page=38")
        small = await client.get("/tiles/providers.json")
        tile = await client.get(TILE)
        over = await client.get(TILE)
    async with app_with(address(), rate_limit_anonymous=100) as elsewhere:
        other = await elsewhere.get(TILE)

    assert first.status_code == second.status_code == 200
    assert len(first.json()["contents"]) == 49, "the demo catalogue holds a full page"
    assert small.status_code == 200, "TileJSON costs one point"
    # 100 - 50 - 39 - 1 = 10 left, plus a little refill: the tile (10) fits, nothing more
    assert tile.status_code in (200, 204)
    assert refused(over)["cost"] == rest_limit.TILE_COST
    assert other.status_code in (200, 204), "another address has its own bucket"


async def test_an_export_dearer_than_the_bucket_never_starts(app_with: Callable[..., Any]) -> None:
    async with app_with(address(), rate_limit_anonymous=1_000) as client:
        response = await client.get("/export/hsds.json")
    extensions = refused(response)
    assert extensions["retryAfter"] == 60
    assert extensions["cost"] == rest_limit.EXPORT_COST
    assert "more than the 1,000 a minute" in response.json()["errors"][0]["message"]


async def test_an_api_key_pays_from_its_own_bucket(
    app_with: Callable[..., Any], gql: Any, login: Any
) -> None:
    key = await metered_key(gql, await login("rest-limit-admin", "admin"), "rest-metered", 50)
    async with app_with(address(), rate_limit_anonymous=0) as client:
        allowed = await client.get("/hsds/organizations?per_page=30", headers=key)
        over = await client.get("/hsds/organizations?per_page=30", headers=key)
        anonymous = await client.get("/hsds/organizations?per_page=30")

    assert allowed.status_code == 200
    assert "this API key" in over.json()["errors"][0]["message"]
    refused(over)
    assert anonymous.status_code == 200, "anonymous callers are not limited here"


async def test_bad_credentials_are_charged_to_the_address(app_with: Callable[..., Any]) -> None:
    async with app_with(address(), rate_limit_anonymous=30) as client:
        bad = {"X-API-Key": "amb_nothing_nothing"}
        first = await client.get("/hsds/taxonomies?per_page=19", headers=bad)
        second = await client.get("/hsds/taxonomies?per_page=19")
    assert first.status_code == 200
    assert "this client address" in second.json()["errors"][0]["message"]
    refused(second)


async def test_a_browser_reads_the_refusal(app_with: Callable[..., Any]) -> None:
    async with app_with(address(), rate_limit_anonymous=10) as client:
        response = await client.get("/export/catalogue.geojson", headers={"Origin": "https://x.it"})
    refused(response)
    assert response.headers["access-control-allow-origin"] == "*"
    assert "retry-after" in response.headers["access-control-expose-headers"].lower()


async def test_the_rest_limit_holds_across_two_server_processes(
    db_url: str, tmp_path: Path, engine: AsyncEngine
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM rate_bucket WHERE key = 'ip:127.0.0.1'"))
    env = {"AMBROGIO_RATE_LIMIT_ANONYMOUS": "100"}
    with serving(db_url, tmp_path, count=2, env=env) as (one, two):
        async with httpx.AsyncClient(timeout=10) as client:
            pages = [
                await client.get(f"http://127.0.0.1:{port}/hsds/services?per_page=44")
                for port in (one, two)
            ]
            tile = await client.get(f"http://127.0.0.1:{one}{TILE}")
            export = await client.get(f"http://127.0.0.1:{two}/export/hsds.json")
            graphql = await client.post(
                f"http://127.0.0.1:{one}/graphql",
                json={"query": "{ providers(first: 40) { edges { node { id } } } }"},
            )

    assert [p.status_code for p in pages] == [200, 200]
    # 100 - 45 - 45 = 10 (and a little refill) left in the one bucket both processes share
    assert tile.status_code in (200, 204)
    assert refused(export)["cost"] == rest_limit.EXPORT_COST
    assert graphql.status_code == 429, "GraphQL pays from the same bucket"


async def test_the_hsds_document_declares_the_429_every_path_can_answer(
    app_with: Callable[..., Any],
) -> None:
    async with app_with(address(), rate_limit_anonymous=100) as client:
        document = (await client.get("/hsds/openapi.json")).json()
        over = await client.get("/hsds/services?per_page=100")  # 101 points: never payable

    refused(over)
    declared = document["components"]["responses"]["RateLimited"]
    for path, item in document["paths"].items():
        assert item["get"]["responses"]["429"] == {"$ref": "#/components/responses/RateLimited"}, (
            path
        )
    assert set(declared["headers"]) == {"Retry-After"}
    schema = declared["content"]["application/json"]["schema"]
    jsonschema.validate(over.json(), schema)
    with pytest.raises(jsonschema.ValidationError):  # the schema can fail: a 400's body
        jsonschema.validate({"errors": [{"message": "x", "extensions": {"code": "X"}}]}, schema)
