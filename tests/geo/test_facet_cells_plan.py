"""The facets statement from the facet cells (``catalogue.facet_cells``), as production runs it
(the generic plan of the prepared statement, its cells and rim as array parameters): the
cells read by their primary key one line at a time, the rim's places by theirs one run of
cells at a time, their services' sums by key, and the spread services by key; no table is
scanned whole. (The synthetic providers have no spread service: the empty
``facet_spread_point`` is read whole, as it should be.)"""

from __future__ import annotations

from pyproj import Transformer

from ambrogio.catalogue.facet_cells import cell_lines, facet_cells_statement
from ambrogio.geo.point import LatLon
from tests.support.plans import generic_plan

LECCO = LatLon(45.8566, 9.3977)


async def test_facets_from_the_cells_read_lines_runs_and_keys(settings, scaled_url) -> None:
    qx, qy = Transformer.from_crs(4326, 32632, always_xy=True).transform(LECCO.lon, LECCO.lat)
    lines = cell_lines(qx, qy, 3000.0)

    plan = await generic_plan(
        settings, scaled_url, facet_cells_statement(LECCO, 3000.0), lines.params()
    )

    assert "Index Scan using pk_facet_cell on facet_cell" in plan, plan
    assert "Index Scan using pk_facet_cell_place on facet_cell_place" in plan, plan
    assert "Index Scan using pk_facet_cell_service on facet_cell_service" in plan, plan
    assert "using uq_service_at_location_pair on service_at_location" in plan, plan
    assert "using pk_service on service" in plan, plan
    assert "using pk_service_category on service_category" in plan, plan
    for table in (
        "service",
        "location",
        "service_at_location",
        "service_category",
        "organization",
        "facet_cell",
        "facet_cell_place",
        "facet_cell_service",
    ):
        assert f"Seq Scan on {table} " not in plan, plan
