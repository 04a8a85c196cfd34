"""Compression as the client asks for it: the exports, the HSDS API, GraphQL answers and
GeoJSON above the threshold, in the codings ``Accept-Encoding`` allows, the same content once
decoded; small answers and already-encoded ones go out as they are."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ambrogio.http.compression import MINIMUM_BYTES, compression


@dataclass(frozen=True)
class Sent:
    status_code: int
    headers: httpx.Headers
    content: bytes  # as sent, before any decoding


async def raw(client: httpx.AsyncClient, path: str, encoding: str) -> Sent:
    async with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return Sent(response.status_code, response.headers, body)


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
@pytest.mark.parametrize(
    "path", ["/export/hsds.json", "/export/catalogue.geojson", "/hsds/services?full=true"]
)
async def test_large_answers_come_compressed_as_asked(client, path: str, encoding: str) -> None:
    plain = await raw(client, path, "identity")
    packed = await raw(client, path, encoding)
    decoded = await client.get(path, headers={"Accept-Encoding": encoding})

    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers and len(plain.content) > MINIMUM_BYTES
    assert packed.headers["content-encoding"] == encoding
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert len(packed.content) * 3 < len(plain.content)
    assert json.loads(decoded.content) == json.loads(plain.content)


async def test_graphql_answers_are_compressed_too(client) -> None:
    body = {"query": "{ services(first: 50) { edges { node { id name description } } } }"}
    response = await client.post("/graphql", json=body, headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert len(response.json()["data"]["services"]["edges"]) == 50


async def test_small_answers_and_304s_are_not_compressed(client) -> None:
    small = await raw(client, "/hsds/", "gzip, br")
    first = await client.get("/hsds/services?per_page=5")
    unchanged = await raw(client, "/hsds/services?per_page=5", "gzip")
    conditional = await client.get(
        "/hsds/services?per_page=5",
        headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]},
    )

    assert small.status_code == 200 and len(small.content) < MINIMUM_BYTES
    assert "content-encoding" not in small.headers and json.loads(small.content)["version"]
    assert unchanged.headers["content-encoding"] == "gzip"
    assert conditional.status_code == 304 and "content-encoding" not in conditional.headers


async def test_an_answer_already_encoded_is_never_compressed_again() -> None:
    # given a route that answers bytes it stored gzipped (as a tile cache may)
    stored = gzip.compress(b'{"layer": "services"}' * 500)

    async def tile(request: Request) -> Response:
        headers = {"Content-Encoding": "gzip"}
        return Response(stored, media_type="application/vnd.mapbox-vector-tile", headers=headers)

    app = Starlette(routes=[Route("/tile", tile)], middleware=compression())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ambrogio.test") as http:
        # when a client that takes every coding asks for it
        sent = await raw(http, "/tile", "zstd, br, gzip")

    # then the stored bytes go out untouched, still saying gzip
    assert sent.headers["content-encoding"] == "gzip"
    assert sent.content == stored
