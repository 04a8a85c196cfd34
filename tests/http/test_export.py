"""``/export/hsds.json`` and ``/export/catalogue.geojson`` with ``?modified_after=``: an
incremental download holds exactly the providers changed since, each whole."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

TOUCHED = datetime(2990, 1, 1, tzinfo=UTC)
SINCE = "2989-12-31T00:00:00%2B00:00"


async def test_modified_after_keeps_the_providers_changed_since(
    client, engine: AsyncEngine
) -> None:
    # given one published provider whose location alone was edited "in 2990"
    async with engine.begin() as conn:
        location, provider, before = (
            await conn.execute(
                text(
                    "SELECT l.id, l.organization_id, l.updated_at FROM location l"
                    " JOIN organization o ON o.id = l.organization_id"
                    " WHERE l.status = 'published' AND o.status = 'published'"
                    " AND o.merged_into_id IS NULL ORDER BY l.id LIMIT 1"
                )
            )
        ).one()
        await conn.execute(
            text("UPDATE location SET updated_at = :t WHERE id = :l"), {"t": TOUCHED, "l": location}
        )
    try:
        # when both exports are asked for what changed since the day before
        hsds = await client.get(f"/export/hsds.json?modified_after={SINCE}")
        geo = await client.get(f"/export/catalogue.geojson?modified_after={SINCE}")
        everything = await client.get("/export/hsds.json")
    finally:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE location SET updated_at = :t WHERE id = :l"),
                {"t": before, "l": location},
            )

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
