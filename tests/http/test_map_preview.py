"""``/map``: the preview page and its files, served from the package only, on in development
and off in production unless ``AMBROGIO_MAP_PREVIEW`` says otherwise. The page in a browser is
``test_map_preview_browser.py``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import mapbox_vector_tile
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.app import build_app
from ambrogio.http.map_preview import STATIC
from ambrogio.settings import PROJECT_ROOT, Environment, Settings
from tests.support.map_oracle import LECCO, tile_of

REFERENCES = re.compile(r"""(?:href|src)="([^"]+)"|from "([^"]+)"|import\("([^"]+)"\)""")
MEDIA_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css"}


async def served(settings: Settings, engine: AsyncEngine, *paths: str) -> list[httpx.Response]:
    app = build_app(settings, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ambrogio.test") as c:
            return [await c.get(path) for path in paths]


@pytest.fixture
async def page(client: httpx.AsyncClient) -> AsyncIterator[httpx.Response]:
    yield await client.get("/map")


async def test_the_page_and_every_file_it_names_come_from_this_server(client, page) -> None:
    # when the page is asked for
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")

    # then the browser may fetch from this origin only
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    # and the files the page and its script name (relative URLs) are served, as what they are
    script = (STATIC / "map.js").read_text()
    named = [
        next(group for group in match.groups() if group) for match in REFERENCES.finditer(page.text)
    ]
    imported = [
        "map/static/" + next(group for group in match.groups() if group).removeprefix("./")
        for match in REFERENCES.finditer(script)
    ]
    files = [url for url in named + imported if not url.startswith("data:")]
    assert "map/static/map.js" in files and "map/static/maplibre-gl/maplibre-gl.mjs" in files
    for url in files:
        assert not re.match(r"^[a-z]+:|^//", url), f"{url} is not relative"
        response = await client.get("/" + url)
        suffix = "." + url.rsplit(".", 1)[-1]
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith(MEDIA_TYPES[suffix]), url


async def test_the_page_and_its_script_name_no_other_host() -> None:
    for name in ("index.html", "map.js", "map.css"):
        text = (STATIC / name).read_text()
        assert re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text) == [], name


async def test_a_file_outside_the_preview_is_not_found(client) -> None:
    for path in ("/map/static/nothing.js", "/map/static/%2e%2e/app.py", "/map/static/index.html"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # a path with dots is resolved by the client already, to a route that does not exist
    assert (await client.get("/map/static/../../ambrogio/app.py")).status_code == 404


def test_maplibre_is_the_version_the_makefile_pins_with_its_licence() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    pinned = re.search(r"^MAPLIBRE_VERSION := (\S+)$", makefile, re.M)
    assert pinned is not None
    vendored = STATIC / "maplibre-gl"
    for name in ("maplibre-gl.mjs", "maplibre-gl-worker.mjs"):
        head = (vendored / name).read_text()[:300]
        assert f"/v{pinned.group(1)}/LICENSE.txt" in head, name
    licence = (vendored / "LICENSE.txt").read_text()
    assert "MapLibre contributors" in licence and "Redistribution and use" in licence
    assert (vendored / "maplibre-gl.css").stat().st_size > 10_000


async def test_each_overlay_leads_to_its_tile_layer(client, login) -> None:
    config = (await client.get("/map/config.json")).json()
    assert {overlay["signed_in"] for overlay in config["overlays"]} == {False, True}
    planner = await login("planner-overlays", "planner")
    z, x, y = 9, *tile_of(*LECCO, 9)
    for overlay in config["overlays"]:
        doc = (await client.get("/" + overlay["tilejson"])).json()
        assert [layer["id"] for layer in doc["vector_layers"]] == [overlay["layer"]]
        assert overlay["value"] is None or overlay["value"] in doc["vector_layers"][0]["fields"]
        url = urlsplit(doc["tiles"][0].format(z=z, x=x, y=y)).path

        # a signed-in layer's tiles answer a planner only; the others answer anyone
        if overlay["signed_in"]:
            refused = await client.get(url)
            assert refused.status_code == 401, url
            assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        response = await client.get(url, headers=planner if overlay["signed_in"] else {})
        assert response.status_code == 200, (url, response.text)
        tile = mapbox_vector_tile.decode(response.content)
        assert tile[overlay["layer"]]["features"], url


@pytest.mark.parametrize(
    ("env", "switch", "shown"),
    [
        (Environment.DEVELOPMENT, None, True),
        (Environment.PRODUCTION, None, False),
        (Environment.PRODUCTION, True, True),
        (Environment.DEVELOPMENT, False, False),
    ],
)
async def test_the_preview_is_on_except_in_production_unless_asked(
    settings: Settings, engine: AsyncEngine, env: Environment, switch: bool | None, shown: bool
) -> None:
    chosen = settings.model_copy(
        update={"env": env, "token_secret": "s" * 48, "map_preview": switch}
    )
    page, script, config = await served(
        chosen, engine, "/map", "/map/static/map.js", "/map/config.json"
    )

    if shown:
        assert [r.status_code for r in (page, script, config)] == [200, 200, 200]
    else:
        assert [r.status_code for r in (page, script, config)] == [404, 404, 404]
        error = page.json()["errors"][0]
        assert error["extensions"]["code"] == "NOT_FOUND"
        assert "AMBROGIO_MAP_PREVIEW=true" in error["message"]


def test_the_switch_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMBROGIO_ENV", "production")
    monkeypatch.setenv("AMBROGIO_TOKEN_SECRET", "s" * 48)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1:5432/db")
    assert not Settings().map_preview_enabled
    monkeypatch.setenv("AMBROGIO_MAP_PREVIEW", "true")
    assert Settings().map_preview_enabled
