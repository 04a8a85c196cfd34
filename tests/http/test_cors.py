"""CORS by ``AMBROGIO_CORS_ORIGINS`` on ``/graphql``, the tiles and the exports: a browser on
another origin gets its preflight answered and may read the responses; no credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from ambrogio.app import CORS_HEADERS
from ambrogio.http.cors import Cors
from ambrogio.settings import Settings

PORTAL = "https://welfare.azienda.example"
TILE = "/tiles/services/12/2154/1449.mvt"


def preflight(path: str, origin: str = PORTAL, method: str = "POST") -> dict[str, Any]:
    """What a browser sends before a cross-origin fetch with JSON and credentials headers."""
    return {
        "method": "OPTIONS",
        "url": path,
        "headers": {
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type, authorization, x-api-key, "
            "apollo-require-preflight",
        },
    }


@pytest.mark.parametrize(
    ("path", "method"),
    [("/graphql", "POST"), ("/graphql", "GET"), (TILE, "GET"), ("/export/hsds.json", "GET")],
)
async def test_a_browser_preflight_is_answered_for_any_origin_by_default(
    client: httpx.AsyncClient, path: str, method: str
) -> None:
    response = await client.request(**preflight(path, method=method))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert method in response.headers["access-control-allow-methods"]
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"content-type", "authorization", "x-api-key", "apollo-require-preflight"} <= allowed
    assert "access-control-allow-credentials" not in response.headers
    assert int(response.headers["access-control-max-age"]) > 0


async def test_the_cross_origin_responses_carry_the_header(client: httpx.AsyncClient) -> None:
    origin = {"Origin": PORTAL}

    graphql = await client.post("/graphql", json={"query": "{ __typename }"}, headers=origin)
    tile = await client.get(TILE, headers=origin)
    export = await client.get("/export/catalogue.geojson", headers=origin)

    for response in (graphql, tile, export):
        assert response.status_code in (200, 204), response.request.url
        assert response.headers["access-control-allow-origin"] == "*"
    assert graphql.json()["data"] == {"__typename": "Query"}


async def test_without_an_origin_options_is_not_a_preflight(client: httpx.AsyncClient) -> None:
    # guard: the 200 above is CORS answering, not the route accepting OPTIONS
    response = await client.options("/graphql")

    assert response.status_code == 405


async def test_configured_origins_only(app_with: Callable[..., Any]) -> None:
    async with app_with(cors_origins=[PORTAL, "https://comune.lecco.example"]) as client:
        allowed = await client.request(**preflight("/graphql"))
        other = await client.request(**preflight("/graphql", origin="https://evil.example"))
        read = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"}
        )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PORTAL
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    # the request itself runs (CORS is the browser's rule), but a browser may not read it
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers


async def test_no_origins_turns_cors_off(app_with: Callable[..., Any]) -> None:
    async with app_with(cors_origins=[]) as client:
        response = await client.request(**preflight("/graphql"))

    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("raw", "origins"),
    [
        ("*", ["*"]),
        ("https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
        ('["https://a.example"]', ["https://a.example"]),
        ("", []),
    ],
)
def test_the_setting_reads_lists(
    monkeypatch: pytest.MonkeyPatch, raw: str, origins: list[str]
) -> None:
    monkeypatch.setenv("AMBROGIO_CORS_ORIGINS", raw)

    assert Settings().cors_origins == origins


def test_the_setting_refuses_what_is_no_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMBROGIO_CORS_ORIGINS", "welfare.example")

    with pytest.raises(ValueError, match="AMBROGIO_CORS_ORIGINS"):
        Settings()


@pytest.mark.parametrize(
    "vary", [[], [(b"vary", b"Accept-Encoding")], [(b"vary", b"A"), (b"x", b"1"), (b"vary", b"B")]]
)
@pytest.mark.parametrize("origin", [None, PORTAL])
async def test_the_layer_answers_as_starlettes_cors_middleware(
    vary: list[tuple[bytes, bytes]], origin: str | None
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), *vary, (b"x-request-id", b"r")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    options: dict[str, Any] = {
        "allow_origins": ["*"],
        "allow_methods": ["GET", "POST"],
        "allow_headers": CORS_HEADERS,
        "expose_headers": ["etag", "x-request-id"],
    }
    answers = []
    for layer in (Cors(app, **options), CORSMiddleware(app, **options)):
        transport = httpx.ASGITransport(app=layer)
        async with httpx.AsyncClient(transport=transport, base_url="http://a.test") as client:
            response = await client.get("/", headers={"origin": origin} if origin else {})
        answers.append((response.status_code, response.headers.raw, response.content))
    assert answers[0] == answers[1]
    assert any(name == b"vary" and b"Origin" in value for name, value in answers[0][1])
