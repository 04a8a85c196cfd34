"""A planned ``POST /graphql`` answered from the request layer (``ambrogio.http.shortcut``) is
the answer of every layer, to the byte: status, headers in their order, body as sent.

Each request goes to two apps on the same database and settings, one with the shortcut and
one without it (the request layer calling the next layer, as before), with the same
``X-Request-ID``; the raw answers (compressed or not) must be equal. Some requests are
answered by the plan (checked: the layers after the request layer never saw them), others
go on through the layers (documents no plan covers, bad variables, other content types),
others are refused by the transport rules.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from ambrogio.app import build_app
from ambrogio.http.requests import Requests
from ambrogio.http.shortcut import Shortcut
from ambrogio.settings import Settings
from tests.http.test_observability import samples

LECCO = {"lat": 45.8566, "lon": 9.3977}
NEARBY = """query Nearby($lat: Float!, $lon: Float!) {
  providers(near: {lat: $lat, lon: $lon}, radiusMeters: 2000, first: 20) {
    edges { distanceMeters node { id name } }
  }
}"""
# An answer under the compression threshold.
ONE = """query One($lat: Float!, $lon: Float!) {
  providers(near: {lat: $lat, lon: $lon}, radiusMeters: 2000, first: 1) { edges { node { id } } }
}"""
NOT_PLANNED = "query Count { providers(first: 1) { totalCount } }"

Raw = tuple[int, list[tuple[bytes, bytes]], bytes]


def _without_shortcut(app: Starlette) -> Starlette:
    for middleware in app.user_middleware:
        if middleware.cls is Requests:
            assert isinstance(middleware.kwargs["shortcut"], Shortcut)  # guard
            middleware.kwargs["shortcut"] = None
    return app


@asynccontextmanager
async def _client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.77.0.1", 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://ambrogio.test") as c:
            del c.headers["accept-encoding"]  # only the headers each request names
            yield c


async def _raw(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> Raw:
    headers = {"x-request-id": "same-id", **headers}
    request = client.build_request("POST", "/graphql", content=body, headers=headers)
    response = await client.send(request, stream=True)
    sent = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return response.status_code, list(response.headers.raw), sent


def _json(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


JSON = {"content-type": "application/json"}
HEADERS = [
    JSON,
    {**JSON, "origin": "https://map.example"},
    {**JSON, "accept-encoding": "gzip"},
    {**JSON, "accept-encoding": "br"},
    {**JSON, "accept-encoding": "zstd, gzip;q=0.5"},
    {**JSON, "accept-encoding": "identity"},
    {**JSON, "accept-encoding": "gzip", "origin": "https://map.example"},
    {"content-type": "application/json; charset=utf-8", "x-request-id": "its-own.id:1"},
]
BODIES = [
    _json(NEARBY, LECCO),
    _json(ONE, LECCO),
    _json(NEARBY, {"lat": 95, "lon": 9.4}),  # a bad variable: the plan hands it on
    _json(NOT_PLANNED),
    b'{"query": ',  # not JSON
    b'[{"query": "{ __typename }"}]',  # a batch
    json.dumps({"query": NEARBY, "variables": {"lat": "\u0000"}}).encode(),
    json.dumps({"query": NEARBY, "variables": LECCO, "pad": "x" * 5000}).encode(),  # too large
]


@pytest.fixture
def apps(settings: Settings, engine: AsyncEngine) -> Callable[[], tuple[Starlette, Starlette]]:
    def make() -> tuple[Starlette, Starlette]:
        changed = settings.model_copy(update={"rate_limit_anonymous": 0, "max_body_bytes": 4000})
        return build_app(changed, engine=engine), _without_shortcut(build_app(changed, engine))

    return make


async def test_the_shortcut_answers_as_every_layer_would_byte_for_byte(apps: Any) -> None:
    short, layered = apps()
    statuses: set[int] = set()
    encodings: set[bytes] = set()
    async with _client(short) as fast, _client(layered) as slow:
        for headers in HEADERS:
            for body in BODIES:
                # When the same request goes both ways
                got, expected = await _raw(fast, body, headers), await _raw(slow, body, headers)
                # Then the answers are the same bytes, headers in the same order
                assert got == expected, (headers, body[:80])
                statuses.add(got[0])
                encodings.update(v for k, v in got[1] if k == b"content-encoding")
        # A GET and another content type go the regular way, as before
        params = {"query": NEARBY, "variables": json.dumps(LECCO)}
        text, plain = _json(NEARBY, LECCO), {"content-type": "text/plain"}
        for a, b in (
            (await fast.get("/graphql", params=params), await slow.get("/graphql", params=params)),
            (
                await fast.post("/graphql", content=text, headers=plain),
                await slow.post("/graphql", content=text, headers=plain),
            ),
        ):
            assert (a.status_code, a.content[:40]) == (b.status_code, b.content[:40])
            assert a.status_code in (200, 400)
    # The oracle compared answers, refusals and compressed bodies, not one kind only
    assert {200, 400, 413} <= statuses
    assert {b"gzip", b"br", b"zstd"} <= encodings


def _count_next_layer(app: Starlette) -> list[str]:
    """The paths of the requests the request layer handed to the next layer."""
    layer: Any = app.middleware_stack
    while not isinstance(layer, Requests):
        layer = layer.app
    seen: list[str] = []
    following = layer.app

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await following(scope, receive, send)

    layer.app = counted
    return seen


async def test_a_planned_answer_is_the_plans_and_counts_under_its_route(apps: Any) -> None:
    short, _ = apps()
    async with _client(short) as client:
        before = samples((await client.get("/metrics")).text, "ambrogio_requests_total")
        seen = _count_next_layer(short)
        status, headers, body = await _raw(client, _json(NEARBY, LECCO), JSON)
        handed_on = list(seen)
        not_planned = await _raw(client, _json(NOT_PLANNED), JSON)
        after = samples((await client.get("/metrics")).text, "ambrogio_requests_total")
    edges = json.loads(body)["data"]["providers"]["edges"]
    assert status == 200 and len(edges) == 20
    # The plan answered from the request layer; the other document went on to the next one
    assert handed_on == []
    assert not_planned[0] == 200 and seen[:1] == ["/graphql"]
    assert (b"vary", b"Accept-Encoding, Origin") in headers
    key = (("operation", "Nearby"), ("route", "/graphql"), ("status", "200"))
    assert after.get(key, 0.0) - before.get(key, 0.0) == 1
