"""``mapClusters`` against the oracle of ``map_oracle``: plain rows, grid cells in Python."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import to_global_id
from tests.support.map_oracle import Catalogue, Point, in_bbox, read_catalogue, tile_bounds, tile_of

CLUSTERS = """
query Clusters($bbox: BBoxInput!, $zoom: Int!, $filter: ServiceFilter) {
  mapClusters(bbox: $bbox, zoom: $zoom, filter: $filter) {
    cell count providerCount lat lon geojson
    bbox { west south east north }
    location { id lat lon }
    provider { id }
  }
}
"""

PROVINCE = {"west": 9.2, "south": 45.6, "east": 9.6, "north": 46.2}
LECCO_TOWN = {"west": 9.36, "south": 45.83, "east": 9.42, "north": 45.87}


@pytest.fixture(scope="module")
async def catalogue(engine: AsyncEngine) -> Catalogue:
    return await read_catalogue(engine)


def expected_clusters(points: Iterable[Point], bbox: dict[str, float], zoom: int) -> dict[str, Any]:
    cells: dict[str, list[Point]] = defaultdict(list)
    for p in points:
        if in_bbox(p.lat, p.lon, bbox):
            x, y = tile_of(p.lat, p.lon, zoom + 2)
            cells[f"{zoom + 2}/{x}/{y}"].append(p)
    return cells


def assert_clusters(got: list[dict[str, Any]], cells: dict[str, list[Point]]) -> None:
    assert sorted(c["cell"] for c in got) == sorted(cells)
    for cluster in got:
        members = cells[cluster["cell"]]
        lats, lons = [p.lat for p in members], [p.lon for p in members]
        assert cluster["count"] == len(members)
        assert cluster["providerCount"] == len({p.provider for p in members})
        assert cluster["lat"] == pytest.approx(sum(lats) / len(lats), abs=1e-9)
        assert cluster["lon"] == pytest.approx(sum(lons) / len(lons), abs=1e-9)
        assert cluster["geojson"] == {
            "type": "Point",
            "coordinates": [cluster["lon"], cluster["lat"]],
        }
        assert cluster["bbox"] == {"west": min(lons), "south": min(lats), "east": max(lons),
                                   "north": max(lats)}  # fmt: skip
        single = members[0] if len(members) == 1 else None
        assert (cluster["location"] or {}).get("id") == (
            to_global_id("Location", single.location) if single else None
        )
        if single is not None:
            assert (cluster["location"]["lat"], cluster["location"]["lon"]) == (
                single.lat,
                single.lon,
            )
        providers = {p.provider for p in members}
        assert (cluster["provider"] or {}).get("id") == (
            to_global_id("Provider", providers.pop()) if len(providers) == 1 else None
        )


async def clusters(gql: Any, bbox: dict[str, float], zoom: int, **variables: Any) -> list[Any]:
    result = await gql(CLUSTERS, bbox=bbox, zoom=zoom, **variables)
    assert result.errors == [], result.errors
    return list(result.data["mapClusters"])


# --- clusters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bbox", "zoom"),
    [(PROVINCE, 8), (PROVINCE, 10), (PROVINCE, 12), (LECCO_TOWN, 14), (LECCO_TOWN, 16)],
)
async def test_clusters_hold_exactly_the_locations_inside_the_bbox(
    gql, catalogue, bbox, zoom
) -> None:
    cells = expected_clusters(catalogue.points, bbox, zoom)
    inside = [p for p in catalogue.points if in_bbox(p.lat, p.lon, bbox)]

    got = await clusters(gql, bbox, zoom)

    assert sum(c["count"] for c in got) == len(inside) > 0
    assert_clusters(got, cells)


async def test_clusters_do_not_move_as_the_map_pans(gql, catalogue) -> None:
    zoom = 12
    first = {"west": 9.30, "south": 45.78, "east": 9.46, "north": 45.90}
    second = {"west": 9.35, "south": 45.81, "east": 9.51, "north": 45.93}

    a = {c["cell"]: c for c in await clusters(gql, first, zoom)}
    b = {c["cell"]: c for c in await clusters(gql, second, zoom)}

    def whole_in_both(cell: str) -> bool:
        bounds = tile_bounds(*(int(part) for part in cell.split("/")))
        corners = [(bounds["south"], bounds["west"]), (bounds["north"], bounds["east"])]
        return all(in_bbox(lat, lon, box) for lat, lon in corners for box in (first, second))

    shared = [cell for cell in a.keys() | b.keys() if whole_in_both(cell)]
    assert len(shared) >= 5, "the views overlap on several occupied cells"
    for cell in shared:
        assert a[cell] == b[cell]


@pytest.mark.parametrize(
    ("given", "keep"),
    [
        ({"categories": ["assistenza-e-cura"]}, lambda o: "assistenza-e-cura" in o.slugs),
        ({"delivery": ["AT_HOME"]}, lambda o: "at_home" in o.delivery),
        (
            {"categories": ["fisioterapia", "psicologo"], "delivery": ["ON_SITE"]},
            lambda o: bool({"fisioterapia", "psicologo"} & o.slugs) and "on_site" in o.delivery,
        ),
    ],
)
async def test_a_filter_clusters_the_providers_with_a_matching_service(
    gql, catalogue, given, keep
) -> None:
    matching = catalogue.providers_matching(keep)
    everyone = {c["cell"]: c["count"] for c in await clusters(gql, PROVINCE, 11)}

    got = await clusters(gql, PROVINCE, 11, filter=given)

    assert 0 < len(matching) < len(catalogue.points)
    assert_clusters(got, expected_clusters(matching, PROVINCE, 11))
    assert all(c["count"] <= everyone[c["cell"]] for c in got)


async def test_a_bbox_with_west_east_of_east_crosses_the_antimeridian(gql, catalogue) -> None:
    # Everything but the strip between 9.35 and 9.40 east, the long way round.
    around = {"west": 9.40, "south": 45.6, "east": 9.35, "north": 46.2}

    got = await clusters(gql, around, 8)
    pacific = await clusters(gql, {"west": 170.0, "south": -20.0, "east": -170.0, "north": 0.0}, 5)

    assert_clusters(got, expected_clusters(catalogue.points, around, 8))
    assert sum(c["count"] for c in got) < len(catalogue.points)
    assert pacific == []


async def test_single_item_clusters_load_in_one_statement_per_type(gql, statements) -> None:
    statements.reset()

    got = await clusters(gql, LECCO_TOWN, 16)

    assert any(c["location"] for c in got) and any(not c["location"] for c in got)
    assert statements.count == 3, statements.statements  # clusters, locations, providers


@pytest.mark.parametrize(
    ("bbox", "zoom", "field"),
    [
        ({**PROVINCE, "south": 46.3}, 10, "bbox.south"),
        ({**PROVINCE, "west": -181.0}, 10, "bbox.west"),
        ({**PROVINCE, "east": 190.0}, 10, "bbox.east"),
        ({**PROVINCE, "north": 90.5}, 10, "bbox.north"),
        (PROVINCE, -1, "zoom"),
        (PROVINCE, 23, "zoom"),
        ({"west": -180.0, "south": -85.0, "east": 180.0, "north": 85.0}, 12, "bbox"),
    ],
)
async def test_bad_viewports_name_the_field(gql, bbox, zoom, field) -> None:
    result = await gql(CLUSTERS, bbox=bbox, zoom=zoom)

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == field
    assert result.errors[0]["message"].startswith(f"{field}: ")


async def test_non_finite_coordinates_and_bad_filters_are_bad_input(gql, client) -> None:
    body = json.dumps(
        {"query": CLUSTERS, "variables": {"bbox": {**PROVINCE, "west": math.nan}, "zoom": 9}}
    )
    nan = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    slug = await gql(CLUSTERS, bbox=PROVINCE, zoom=9, filter={"categories": ["nope"]})

    assert nan.status_code < 500
    assert [e["extensions"]["code"] for e in nan.json()["errors"]] == ["BAD_USER_INPUT"]
    assert "west" in nan.json()["errors"][0]["message"]
    assert (
        slug.codes == ["BAD_USER_INPUT"]
        and slug.errors[0]["extensions"]["field"] == "filter.categories"
    )
