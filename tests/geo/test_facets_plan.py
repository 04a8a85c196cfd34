"""The facets statement of a search near a point, as production runs it (the generic plan of
the prepared statement): the services come from the planar index's places in the radius, and
every table is then read by key, never scanned whole."""

from __future__ import annotations

from ambrogio.catalogue import search
from ambrogio.catalogue.facets import facet_counts
from ambrogio.catalogue.filters import ServiceFilterSpec
from ambrogio.geo.point import LatLon
from tests.support.plans import generic_plan

LECCO = LatLon(45.8566, 9.3977)


async def test_facets_near_a_point_read_the_planar_index_and_keys(settings, scaled_url) -> None:
    conditions = search.service_search(ServiceFilterSpec(), None, LECCO, 3000.0)

    plan = await generic_plan(settings, scaled_url, facet_counts(conditions))

    assert "Index Scan using ix_location_geom_utm on location" in plan, plan
    assert "using pk_service on service" in plan, plan
    assert "using pk_service_category on service_category" in plan, plan
    assert "using uq_service_at_location_pair on service_at_location" in plan, plan
    for table in ("service", "location", "service_at_location", "service_category", "organization"):
        assert f"Seq Scan on {table} " not in plan, plan
