"""The nearby statement keeps PostgreSQL on a KNN scan of the geography GiST index.

The statements are explained as the resolvers run them (``nearby_providers_query``,
``nearby_services_query``): with bind parameters, and under the generic plan a prepared
statement settles on, which cannot see the point, the radius or the filter's values."""

from __future__ import annotations

import os

import pytest

from ambrogio.catalogue.filters import ServiceFilterSpec, service_conditions
from ambrogio.db.session import drop_database
from ambrogio.geo.nearby import (
    NearbySearch,
    Query,
    nearby_providers_query,
    nearby_services_query,
)
from ambrogio.geo.point import LatLon
from ambrogio.settings import Settings
from tests.support.database import create_test_database
from tests.support.plans import generic_plan

LECCO = LatLon(45.8566, 9.3977)


@pytest.fixture(scope="module")
async def scaled_url(settings, template_db):
    """20,000 synthetic providers: enough rows for the planner to prefer the index."""
    from ambrogio.demo import load_scale

    name = f"ambrogio_plan_{os.getpid()}"
    await drop_database(settings, name)
    url = await create_test_database(settings, name, template_db)
    await load_scale(settings.model_copy(update={"database_url": url}), 20_000, seed=3)
    yield url
    await drop_database(settings, name)


async def _plan(settings: Settings, url: str, query: Query) -> str:
    """The generic plan of a nearby statement as production runs it (``tests.support.plans``)."""
    stmt, params = query
    return await generic_plan(settings, url, stmt, params)


@pytest.mark.parametrize("radius", [2000.0, None])
async def test_nearby_providers_walk_the_geography_index(settings, scaled_url, radius) -> None:
    search = NearbySearch(LECCO, radius, None, 20)

    plan = await _plan(settings, scaled_url, nearby_providers_query(search, [], 84))

    assert "Index Scan using ix_location_geog on location" in plan, plan
    assert "Order By: ((geom)::geography <-> " in plan, plan
    assert "Seq Scan on location" not in plan, plan


async def test_filtered_nearby_services_walk_the_geography_index(settings, scaled_url) -> None:
    search = NearbySearch(LECCO, 5000.0, None, 20)
    conditions = service_conditions(ServiceFilterSpec(delivery=["on_site"], age=40))

    plan = await _plan(settings, scaled_url, nearby_services_query(search, conditions, 84))

    # KNN or bitmap scan, as the planner sees fit: both read the geography index, bounded.
    assert "using ix_location_geog on location" in plan or "on ix_location_geog" in plan, plan
    assert "st_dwithin" in plan.lower(), plan
    assert "Seq Scan on location" not in plan, plan
