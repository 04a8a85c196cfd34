"""``modifiedAfter`` covers a record and what it contains: a location edited after the instant
brings back its provider and the services offered there, though neither row changed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import from_global_id

# Far ahead of any demo timestamp, so that only the touched location is "recent".
TOUCHED = datetime(2990, 1, 1, tzinfo=UTC)
SINCE = "2989-12-31T00:00:00+00:00"

QUERY = """
query Since($since: DateTime!) {
  providers(filter: {modifiedAfter: $since}, first: 100) { edges { node { id } } }
  services(filter: {modifiedAfter: $since}, first: 100) { edges { node { id } } }
}
"""


@pytest.fixture
async def touched(engine: AsyncEngine) -> AsyncIterator[tuple[uuid.UUID, uuid.UUID, set[str]]]:
    """A published location of a published provider, stamped as edited in 2990; restored."""
    async with engine.begin() as conn:
        location, provider, before = (
            await conn.execute(
                text(
                    "SELECT l.id, l.organization_id, l.updated_at FROM location l"
                    " JOIN organization o ON o.id = l.organization_id"
                    " WHERE l.status = 'published' AND o.status = 'published'"
                    " AND o.merged_into_id IS NULL AND EXISTS (SELECT 1 FROM service_at_location"
                    " a JOIN service s ON s.id = a.service_id WHERE a.location_id = l.id"
                    " AND s.status = 'published') ORDER BY l.id LIMIT 1"
                )
            )
        ).one()
        offered = {
            str(row[0])
            for row in await conn.execute(
                text(
                    "SELECT s.id FROM service s JOIN service_at_location a ON a.service_id = s.id"
                    " WHERE a.location_id = :l AND s.status = 'published'"
                ),
                {"l": location},
            )
        }
        await conn.execute(
            text("UPDATE location SET updated_at = :t WHERE id = :l"), {"t": TOUCHED, "l": location}
        )
    yield location, provider, offered
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE location SET updated_at = :t WHERE id = :l"), {"t": before, "l": location}
        )


async def test_a_location_edit_brings_back_its_provider_and_services(gql, touched) -> None:
    _, provider, offered = touched

    result = await gql(QUERY, since=SINCE)

    providers = {from_global_id(e["node"]["id"])[1] for e in result.data["providers"]["edges"]}
    services = {from_global_id(e["node"]["id"])[1] for e in result.data["services"]["edges"]}
    assert providers == {str(provider)}
    assert services == offered and offered


async def test_nothing_is_newer_than_the_far_future(gql) -> None:
    result = await gql(QUERY, since=SINCE)

    assert result.data["providers"]["edges"] == [] and result.data["services"]["edges"] == []
