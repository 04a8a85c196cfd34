"""The nearby statements keep PostgreSQL on a KNN scan of a GiST index: the planar one, or
the geography one where the plane does not serve.

The statements are explained as the resolvers run them (``nearby_providers_query``,
``nearby_services_query``): with bind parameters, and under the generic plan a prepared
statement settles on, which cannot see the point, the radius or the filter's values."""

from __future__ import annotations

import uuid

import pytest

from ambrogio.catalogue.filters import ServiceFilterSpec, service_conditions
from ambrogio.geo.nearby import (
    DistanceKey,
    NearbySearch,
    Query,
    nearby_providers_query,
    nearby_services_query,
)
from ambrogio.geo.point import LatLon
from ambrogio.settings import Settings
from tests.support.plans import generic_plan

LECCO = LatLon(45.8566, 9.3977)


async def _plan(settings: Settings, url: str, query: Query) -> str:
    return await generic_plan(settings, url, *query)


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


def _seq_scans(plan: str) -> list[str]:
    return [line.strip() for line in plan.splitlines() if "Seq Scan" in line]


@pytest.mark.parametrize("radius", [2000.0, None])
async def test_nearby_providers_walk_the_planar_index(settings, scaled_url, radius) -> None:
    search = NearbySearch(LECCO, radius, None, 20, planar=True)

    plan = await _plan(settings, scaled_url, nearby_providers_query(search, [], 84))

    assert "Index Scan using ix_location_geom_utm on location" in plan, plan
    assert "Order By: (geom_utm <-> $" in plan, plan
    # Each candidate's provider is checked, and the page's read, by primary key.
    assert "Index Scan using pk_organization on organization" in plan, plan
    assert not _seq_scans(plan), plan


async def test_a_later_page_skips_providers_with_a_location_below_the_floor_by_index(
    settings, scaled_url
) -> None:
    after = DistanceKey(400.0, uuid.UUID(int=0))
    search = NearbySearch(LECCO, 2000.0, after, 20, planar=True)

    plan = await _plan(settings, scaled_url, nearby_providers_query(search, [], 84))

    # The candidates past the floor and, anti-joined, the locations below it (a disc of the
    # planar index, or a probe of each candidate provider's locations).
    assert "Index Scan using ix_location_geom_utm on location" in plan, plan
    assert "Anti Join" in plan, plan
    assert "ix_location_geom_utm on location location_1" in plan or (
        "ix_location_organization_id on location location_1" in plan
    ), plan
    assert not _seq_scans(plan), plan


async def test_nearby_services_walk_the_planar_index(settings, scaled_url) -> None:
    search = NearbySearch(LECCO, 3000.0, None, 20, planar=True)

    plan = await _plan(settings, scaled_url, nearby_services_query(search, [], 84))

    assert "Index Scan using ix_location_geom_utm on location" in plan, plan
    # The link table may be hashed whole at this size (18,000 rows); the records are not.
    for table in ("location", "service", "organization"):
        assert f"Seq Scan on {table} " not in plan, plan


async def test_filtered_nearby_services_on_the_plane_are_bounded(settings, scaled_url) -> None:
    search = NearbySearch(LECCO, 5000.0, None, 20, planar=True)
    conditions = service_conditions(ServiceFilterSpec(delivery=["on_site"], age=40))

    plan = await _plan(settings, scaled_url, nearby_services_query(search, conditions, 84))

    assert "using ix_location_geom_utm on location" in plan or "on ix_location_geom_utm" in plan
    assert "st_dwithin(location.geom_utm" in plan.lower() or "st_dwithin(geom_utm" in plan.lower()
    assert "Seq Scan on location" not in plan, plan
