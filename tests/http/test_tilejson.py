"""``/tiles/{layer}.json``: TileJSON that a map library can follow to the very tiles, with the
fields those tiles' features carry."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import mapbox_vector_tile
import pytest

from tests.support.map_oracle import LECCO, tile_of

LAYERS = ["providers", "services", "welfare_points"]


def features(body: bytes, layer: str) -> list[dict[str, Any]]:
    tile = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})
    return list(tile[layer]["features"])


async def follow(client: Any, template: str, z: int, x: int, y: int) -> Any:
    url = urlsplit(template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y)))
    return await client.get(url.path + (f"?{url.query}" if url.query else ""))


@pytest.mark.parametrize("layer", LAYERS)
async def test_tilejson_leads_to_the_layer_and_names_its_fields(client, layer) -> None:
    # when a map library reads the layer's TileJSON
    response = await client.get(f"/tiles/{layer}.json")
    doc = response.json()

    # then it is TileJSON 3 over the territory, and its tiles template gives the layer's tiles
    assert response.status_code == 200
    assert doc["tilejson"] == "3.0.0" and doc["minzoom"] == 0 and doc["maxzoom"] >= 14
    west, south, east, north = doc["bounds"]
    assert west < LECCO[1] < east and south < LECCO[0] < north
    [template] = doc["tiles"]
    assert template.startswith("http://ambrogio.test/tiles/") and "{z}/{x}/{y}.mvt" in template
    z = 11
    x, y = tile_of(*LECCO, z)
    tile = await follow(client, template, z, x, y)
    found = features(tile.content, layer)
    assert tile.status_code == 200 and found
    # and the fields it announces are exactly the attributes those features carry
    [vector_layer] = doc["vector_layers"]
    assert vector_layer["id"] == layer
    assert set(vector_layer["fields"]) == {key for f in found for key in f["properties"]}
    for feature in found:
        for key, value in feature["properties"].items():
            kind = vector_layer["fields"][key]
            expected = {"Boolean": bool, "Number": (int, float), "String": str}[kind]
            assert isinstance(value, expected), (key, value, kind)


async def test_filters_are_checked_and_carried_into_the_tiles(client) -> None:
    z = 12
    x, y = tile_of(*LECCO, z)
    query = "categories=salute-e-benessere&delivery=on_site"

    doc = (await client.get(f"/tiles/services.json?{query}")).json()
    via_tilejson = await follow(client, doc["tiles"][0], z, x, y)
    direct = await client.get(f"/tiles/services/{z}/{x}/{y}.mvt?{query}")
    unfiltered = await client.get(f"/tiles/services/{z}/{x}/{y}.mvt")

    assert doc["tiles"][0].endswith(f".mvt?{query}")
    assert via_tilejson.content == direct.content and direct.content
    assert len(features(direct.content, "services")) < len(features(unfiltered.content, "services"))


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/tiles/roads.json", "layer"),
        ("/tiles/services.json?delivery=teleport", "delivery"),
        ("/tiles/services.json?categorie=badante", "categorie"),
        ("/tiles/welfare_points.json?categories=badante", "categories"),
    ],
)
async def test_bad_tilejson_requests_are_400_naming_the_parameter(client, path, field) -> None:
    response = await client.get(path)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
