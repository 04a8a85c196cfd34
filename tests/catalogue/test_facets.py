"""Facets against counts made in Python from the rows."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

GEOD = Geod(ellps="WGS84")

FACETS = """
query Facets($near: LatLonInput, $r: Float, $text: String, $filter: ServiceFilter) {
  facets(near: $near, radiusMeters: $r, text: $text, filter: $filter) {
    total
    categories { count category { slug } children { count category { slug } } }
    comuni { count comune { istatCode } }
    targetGroups { targetGroup count }
    delivery { delivery count }
  }
}
"""


@pytest.fixture(scope="module")
async def services(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    """
                    SELECT s.id, s.target_groups, s.delivery, s.service_area_comuni,
                      array(SELECT t.slug FROM service_category sc JOIN taxonomy_term t
                            ON t.id = sc.term_id WHERE sc.service_id = s.id),
                      array(SELECT p.slug FROM service_category sc JOIN taxonomy_term t
                            ON t.id = sc.term_id JOIN taxonomy_term p ON p.id = t.parent_id
                            WHERE sc.service_id = s.id),
                      array(SELECT l.comune_istat FROM service_at_location sal
                            JOIN location l ON l.id = sal.location_id
                            WHERE sal.service_id = s.id AND l.status = 'published'),
                      array(SELECT ST_Y(l.geom) || ',' || ST_X(l.geom)
                            FROM service_at_location sal JOIN location l
                            ON l.id = sal.location_id WHERE sal.service_id = s.id
                            AND l.status = 'published' AND l.geom IS NOT NULL)
                    FROM service s JOIN organization o ON o.id = s.organization_id
                    WHERE s.status = 'published' AND o.status = 'published'
                      AND o.merged_into_id IS NULL
                    """
                )
            )
        ).all()
    return [
        {
            "groups": set(r[1]),
            "delivery": set(r[2]),
            "comuni": (set(r[3]) | set(r[6])) - {None},
            "leaves": set(r[4]),
            "roots": set(r[5]),
            "points": [tuple(float(v) for v in p.split(",")) for p in r[7]],
        }
        for r in rows
    ]


def _expected(chosen: list[dict[str, Any]]) -> dict[str, Any]:
    def count(key: str) -> dict[str, int]:
        return dict(Counter(value for s in chosen for value in s[key]))

    return {
        "total": len(chosen),
        "roots": count("roots"),
        "leaves": count("leaves"),
        "comuni": count("comuni"),
        "groups": {k.upper(): v for k, v in count("groups").items()},
        "delivery": {k.upper(): v for k, v in count("delivery").items()},
    }


def _got(data: dict[str, Any]) -> dict[str, Any]:
    facets = data["facets"]
    return {
        "total": facets["total"],
        "roots": {c["category"]["slug"]: c["count"] for c in facets["categories"]},
        "leaves": {
            child["category"]["slug"]: child["count"]
            for c in facets["categories"]
            for child in c["children"]
        },
        "comuni": {c["comune"]["istatCode"]: c["count"] for c in facets["comuni"]},
        "groups": {g["targetGroup"]: g["count"] for g in facets["targetGroups"]},
        "delivery": {d["delivery"]: d["count"] for d in facets["delivery"]},
    }


async def test_facets_of_the_whole_catalogue(gql, services) -> None:
    result = await gql(FACETS)

    assert result.errors == []
    assert _got(result.data) == _expected(services)


async def test_facets_of_a_filtered_search_near_a_point(gql, services) -> None:
    lat, lon, radius = 45.85, 9.39, 3000.0

    def near(s: dict[str, Any]) -> bool:
        return any(GEOD.inv(lon, lat, p[1], p[0])[2] <= radius for p in s["points"])

    chosen = [s for s in services if near(s) and "on_site" in s["delivery"]]
    result = await gql(
        FACETS, near={"lat": lat, "lon": lon}, r=radius, filter={"delivery": ["ON_SITE"]}
    )

    assert result.errors == []
    assert 0 < len(chosen) < len(services)
    assert _got(result.data) == _expected(chosen)


async def test_facets_cost_one_statement_for_the_counts(gql, statements) -> None:
    statements.reset()
    result = await gql("{ facets { total delivery { delivery count } } }")

    assert result.errors == []
    # The counts, and the list of root categories; nothing per facet value.
    assert statements.count == 2, statements.statements


async def test_facets_reject_bad_input_like_services(gql) -> None:
    result = await gql(FACETS, r=100.0)

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == "radiusMeters"


async def test_facets_of_a_plain_search_near_a_point_come_from_the_cells(
    gql, services, statements
) -> None:
    lat, lon, radius = 45.85, 9.39, 3000.0

    def near(s: dict[str, Any]) -> bool:
        return any(GEOD.inv(lon, lat, p[1], p[0])[2] <= radius for p in s["points"])

    chosen = [s for s in services if near(s)]
    result = await gql(FACETS, near={"lat": lat, "lon": lon}, r=radius)
    statements.reset()
    counts = await gql(
        "{ facets(near: {lat: 45.85, lon: 9.39}, radiusMeters: 3000) { total delivery {"
        " delivery count } } }"
    )

    assert result.errors == [] and counts.errors == []
    assert 0 < len(chosen) < len(services)
    assert _got(result.data) == _expected(chosen)
    # The point on the plane, the cells' statement (facet_cells), the root categories.
    assert any("facet_cell" in s for s in statements.statements), statements.statements
    assert statements.count == 3, statements.statements
