"""``modifiedAfter`` covers a record and what it contains: a location edited after the instant
brings back its provider and the services offered there, though neither row changed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import from_global_id
from tests.support.touched import SINCE, Touched, location_edited_in_2990

QUERY = """
query Since($since: DateTime!) {
  providers(filter: {modifiedAfter: $since}, first: 100) { edges { node { id } } }
  services(filter: {modifiedAfter: $since}, first: 100) { edges { node { id } } }
}
"""


@pytest.fixture
async def touched(engine: AsyncEngine) -> AsyncIterator[Touched]:
    async with location_edited_in_2990(engine) as found:
        yield found


async def test_a_location_edit_brings_back_its_provider_and_services(gql, touched) -> None:
    provider, offered = touched.provider, touched.offered

    result = await gql(QUERY, since=SINCE)

    providers = {from_global_id(e["node"]["id"])[1] for e in result.data["providers"]["edges"]}
    services = {from_global_id(e["node"]["id"])[1] for e in result.data["services"]["edges"]}
    assert providers == {str(provider)}
    assert services == offered and offered


async def test_nothing_is_newer_than_the_far_future(gql) -> None:
    result = await gql(QUERY, since=SINCE)

    assert result.data["providers"]["edges"] == [] and result.data["services"]["edges"] == []
