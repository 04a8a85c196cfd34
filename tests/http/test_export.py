"""``/export/hsds.json`` and ``/export/catalogue.geojson`` with ``?modified_after=``: an
incremental download holds exactly the providers changed since, each whole."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.touched import SINCE, location_edited_in_2990


async def test_modified_after_keeps_the_providers_changed_since(
    client, engine: AsyncEngine
) -> None:
    # given one published provider whose location alone was edited "in 2990"
    async with location_edited_in_2990(engine) as touched:
        # when both exports are asked for what changed since the day before
        hsds = await client.get("/export/hsds.json", params={"modified_after": SINCE})
        geo = await client.get("/export/catalogue.geojson", params={"modified_after": SINCE})
        everything = await client.get("/export/hsds.json")
    location, provider = touched.location, touched.provider

    # then they hold that provider only, with all its locations
    assert [org["id"] for org in hsds.json()] == [str(provider)]
    assert any(place["id"] == str(location) for place in hsds.json()[0]["locations"])
    features = geo.json()["features"]
    assert {f["properties"]["external_id"] for f in features} == {str(provider)} and features
    assert len(everything.json()) > 1


@pytest.mark.parametrize(
    ("query", "field"),
    [("modified_after=yesterday", "modified_after"), ("since=2025-01-01", "since")],
)
async def test_bad_export_parameters_are_400(client, query, field) -> None:
    response = await client.get(f"/export/hsds.json?{query}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["field"] == field
