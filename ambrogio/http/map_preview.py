"""``GET /map``: a preview page that shows the catalogue on a map, as tipg's and pg_tileserv's
built-in viewers do: a tool for mappers to see their data and an example of a client of the
public API (the TileJSON, the vector tiles, ``mapClusters``, ``services``, ``comuni``,
``slots``), not a product front end.

The page is one static HTML file and one ES module (``static/map/``), with MapLibre GL JS
vendored from npm under ``static/map/maplibre-gl/`` (``make maplibre`` refreshes it at the
version pinned in the Makefile). Nothing is fetched from elsewhere: no CDN, no basemap, no glyph
server. The comuni and their names come from the gazetteer; labels are HTML markers, so the
style needs no glyphs. The page's Content-Security-Policy holds the browser to this origin.

The files are served from a fixed table built when the app starts, so no path outside the
folder can be asked for. ``AMBROGIO_MAP_PREVIEW`` turns the page on or off; unset, it is on
except in production, where ``/map`` says how to turn it on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ambrogio.geo.tiles import Layer
from ambrogio.needs.maps import LAYER as NEEDS_GAPS
from ambrogio.settings import Settings

STATIC = Path(__file__).resolve().parent / "static" / "map"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
CACHE_CONTROL = "public, max-age=300"
# Scripts, styles, requests and workers from this origin only. MapLibre sets element styles
# (allowed by 'unsafe-inline' for styles only) and may start its worker from a blob: URL.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'self'",
    ]
)


@dataclass(frozen=True)
class Overlay:
    """A tile layer the page offers to show under the services, with a checkbox.

    Its polygons are drawn as a fill and its points as circles; with ``value`` (a numeric field
    of its features) both are coloured from light to dark over ``domain``, a choropleth. A
    ``signed_in`` layer answers only a caller with a bearer token: the page asks for one and
    sends it (MapLibre's ``transformRequest``) to that layer's URLs only.

    The gap map of the needs analysis is one (``/tiles/needs_gaps.json``, for planners; one
    feature per comune, its boundary or else its centroid, ``gap_score`` between 0 and 1).
    """

    layer: str
    title: str
    value: str | None = None
    domain: tuple[float, float] = (0.0, 1.0)
    signed_in: bool = False

    @property
    def tilejson(self) -> str:
        return f"tiles/{self.layer}.json"


OVERLAYS = (
    Overlay(Layer.WELFARE_POINTS.value, "Punti welfare"),
    Overlay(NEEDS_GAPS, "Bisogni scoperti", value="gap_score", signed_in=True),
)


def config(overlays: tuple[Overlay, ...] = OVERLAYS) -> dict[str, object]:
    """What ``/map/config.json`` tells the page; paths are relative to the API's root."""
    return {"overlays": [{**asdict(overlay), "tilejson": overlay.tilejson} for overlay in overlays]}


OFF = "path: the map preview is off (AMBROGIO_MAP_PREVIEW=true serves it)"


def _not_found(message: str, field: str, value: str) -> Response:
    extensions = {"code": "NOT_FOUND", "field": field, "value": value}
    return JSONResponse({"errors": [{"message": message, "extensions": extensions}]}, 404)


def assets(folder: Path = STATIC) -> dict[str, Path]:
    """Every file of the preview by its path under ``/map/static/`` (the page itself aside)."""
    return {
        path.relative_to(folder).as_posix(): path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix in MEDIA_TYPES and path.name != "index.html"
    }


def _file(path: Path) -> Response:
    headers = {"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=headers)


def _page_endpoint(enabled: bool) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        if not enabled:
            return _not_found(OFF, "path", request.url.path)
        response = _file(STATIC / "index.html")
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    return page


def _asset_endpoint(enabled: bool) -> Callable[[Request], Awaitable[Response]]:
    files = assets() if enabled else {}

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        path = files.get(name)
        if not enabled:
            return _not_found(OFF, "path", request.url.path)
        if path is None:
            return _not_found(f"path: {name!r} is not a file of the map preview", "path", name)
        return _file(path)

    return asset


def _config_endpoint(enabled: bool) -> Callable[[Request], Awaitable[Response]]:
    async def document(request: Request) -> Response:
        if not enabled:
            return _not_found(OFF, "path", request.url.path)
        return JSONResponse(config(), headers={"Cache-Control": CACHE_CONTROL})

    return document


def map_preview_routes(settings: Settings) -> list[Route]:
    enabled = settings.map_preview_enabled
    return [
        Route("/map", _page_endpoint(enabled), methods=["GET"]),
        Route("/map/config.json", _config_endpoint(enabled), methods=["GET"]),
        Route("/map/static/{name:path}", _asset_endpoint(enabled), methods=["GET"]),
    ]
