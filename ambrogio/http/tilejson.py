"""``GET /tiles/{layer}.json``: TileJSON 3.0.0 for each tile layer, as MapLibre and Leaflet
plugins expect it (``tiles``, ``minzoom``, ``maxzoom``, ``bounds``, ``vector_layers`` with the
features' fields).

The query parameters are the tiles' filters (``?categories=badante&delivery=at_home``): they are
parsed as the tiles parse them (names, types, enumerations; which categories and comuni exist is
checked when a tile is asked) and carried into the ``tiles`` URL, so a map built from this
document shows the filtered layer. The bounds are the network's territory
(``AMBROGIO_TERRITORY_BBOX``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ambrogio.errors import BadUserInput
from ambrogio.geo.tiles import MAX_ZOOM, Layer, layer_fields
from ambrogio.http.tiles import bad_request, checked_layer, service_filter
from ambrogio.settings import Settings

TILEJSON = "3.0.0"
CACHE_CONTROL = "public, max-age=300"
DESCRIPTIONS = {
    Layer.PROVIDERS: "Published provider locations: one feature per location.",
    Layer.SERVICES: "Published services: one feature per service and location where offered.",
    Layer.WELFARE_POINTS: "Welfare hubs and points.",
}


def tilejson(layer: Layer, base_url: str, query: str, settings: Settings) -> dict[str, Any]:
    west, south, east, north = settings.territory_bbox
    template = f"{base_url}tiles/{layer.value}/{{z}}/{{x}}/{{y}}.mvt"
    return {
        "tilejson": TILEJSON,
        "name": f"Ambrogio {layer.value}",
        "description": DESCRIPTIONS[layer],
        "scheme": "xyz",
        "tiles": [f"{template}?{query}" if query else template],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, 10],
        "vector_layers": [
            {
                "id": layer.value,
                "description": DESCRIPTIONS[layer],
                "minzoom": 0,
                "maxzoom": MAX_ZOOM,
                "fields": layer_fields(layer),
            }
        ],
    }


def tilejson_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def document(request: Request) -> Response:
        try:
            layer = checked_layer(request.path_params["layer"])
            given = service_filter(request.query_params)
            if given is not None and layer is Layer.WELFARE_POINTS:
                name = next(iter(request.query_params.keys()))
                raise BadUserInput(
                    name, request.query_params[name], "does not apply to welfare_points"
                )
        except BadUserInput as error:
            return bad_request(error)
        body = tilejson(layer, str(request.base_url), request.url.query, settings)
        return JSONResponse(body, headers={"Cache-Control": CACHE_CONTROL})

    return document
