"""What the API shows of itself: GraphiQL from the package's own files (no CDN) in
development; no introspection, no "did you mean" and no GraphiQL in production."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from ambrogio.settings import Environment

HTML = {"Accept": "text/html"}
TYPO = "{ provider { name } }"  # `providers` is meant


def production() -> dict[str, Any]:
    return {"env": Environment.PRODUCTION}


async def codes(client: httpx.AsyncClient, query: str) -> list[str]:
    body = (await client.post("/graphql", json={"query": query})).json()
    return [error["extensions"]["code"] for error in body.get("errors") or []]


async def test_graphiql_loads_only_files_of_the_package(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers=HTML)

    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(sources) == 5, sources  # the stylesheet, React, ReactDOM, GraphiQL, start.js
    for source in sources:
        assert source.startswith("/graphiql/"), source
        asset = await client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100, source
        assert "etag" in asset.headers
    assert "GraphiQL.createFetcher" in (await client.get("/graphiql/start.js")).text


async def test_development_introspects_and_suggests(client: httpx.AsyncClient) -> None:
    schema = await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})
    typo = (await client.post("/graphql", json={"query": TYPO})).json()

    assert len(schema.json()["data"]["__schema"]["types"]) > 20
    assert "Did you mean" in typo["errors"][0]["message"]


async def test_production_hides_the_schema(app_with: Callable[..., Any]) -> None:
    async with app_with(**production()) as client:
        schema = await codes(client, "{ __schema { types { name } } }")
        one_type = await codes(client, '{ __type(name: "Provider") { name } }')
        typename = await client.post("/graphql", json={"query": "{ __typename }"})
        typo = (await client.post("/graphql", json={"query": TYPO})).json()
        page = await client.get("/graphql", headers=HTML)
        asset = await client.get("/graphiql/start.js")

    assert set(schema) == set(one_type) == {"GRAPHQL_VALIDATION_FAILED"}
    assert typename.json()["data"] == {"__typename": "Query"}
    assert typo["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in typo["errors"][0]["message"]
    assert page.status_code == 404 and asset.status_code == 404
