"""ServiceFilter and ServiceOrder against the rows, read plainly and filtered in Python."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import from_global_id

SERVICES = """
query Services($filter: ServiceFilter, $order: ServiceOrder, $first: Int, $after: String) {
  services(filter: $filter, orderBy: $order, first: $first, after: $after) {
    totalCount
    edges { node { id name updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

PROVIDERS = """
query Providers($filter: ServiceFilter, $first: Int, $after: String) {
  providers(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@dataclass
class Row:
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    updated_at: datetime
    slugs: set[str]
    target_groups: set[str]
    min_age: int | None
    max_age: int | None
    welfare_eligible: bool
    tuir: str
    languages: set[str]
    delivery: set[str]
    area: set[str]
    prices: list[tuple[Decimal | None, str]]
    site_comuni: set[str]
    wheelchair: bool
    # what ``modifiedAfter`` compares: the service's instant or a published place's, the later
    changed_at: datetime


@pytest.fixture(scope="module")
async def rows(engine: AsyncEngine) -> list[Row]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text(
                """
                SELECT s.id, s.organization_id, s.name, s.updated_at,
                  array(SELECT t.slug FROM service_category sc JOIN taxonomy_term t
                        ON t.id = sc.term_id WHERE sc.service_id = s.id
                        UNION SELECT p.slug FROM service_category sc JOIN taxonomy_term t
                        ON t.id = sc.term_id JOIN taxonomy_term p ON p.id = t.parent_id
                        WHERE sc.service_id = s.id),
                  s.target_groups, s.min_age, s.max_age, s.welfare_eligible, s.tuir_category,
                  s.languages, s.delivery, s.service_area_comuni,
                  array(SELECT row(c.amount, c.unit)::text FROM cost_option c
                        WHERE c.service_id = s.id),
                  array(SELECT l.comune_istat FROM service_at_location sal JOIN location l
                        ON l.id = sal.location_id WHERE sal.service_id = s.id
                        AND l.status = 'published'),
                  EXISTS(SELECT 1 FROM service_at_location sal JOIN location l
                         ON l.id = sal.location_id WHERE sal.service_id = s.id
                         AND l.status = 'published' AND l.wheelchair_accessible),
                  GREATEST(s.updated_at, (SELECT max(l.updated_at) FROM service_at_location sal
                           JOIN location l ON l.id = sal.location_id
                           WHERE sal.service_id = s.id AND l.status = 'published'))
                FROM service s JOIN organization o ON o.id = s.organization_id
                WHERE s.status = 'published' AND o.status = 'published'
                  AND o.merged_into_id IS NULL
                """
            )
        )
        out = []
        for r in result.all():
            prices = []
            for pair in r[13]:
                amount, unit = pair.strip("()").split(",")
                prices.append((Decimal(amount) if amount else None, unit))
            out.append(
                Row(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    set(r[4]),
                    set(r[5]),
                    r[6],
                    r[7],
                    r[8],
                    r[9],
                    set(r[10]),
                    set(r[11]),
                    set(r[12]),
                    prices,
                    set(r[14]) - {None},
                    r[15],
                    r[16],
                )
            )
        return out


async def _ids(gql: Any, query: str, field: str, **variables: Any) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    after = None
    while True:
        result = await gql(query, first=100, after=after, **variables)
        assert result.errors == [], result.errors
        connection = result.data[field]
        ids += [uuid.UUID(from_global_id(e["node"]["id"])[1]) for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            assert connection["totalCount"] == len(ids)
            return ids
        after = connection["pageInfo"]["endCursor"]


def _admits(row: Row, age: int) -> bool:
    return (row.min_age is None or row.min_age <= age) and (
        row.max_age is None or row.max_age >= age
    )


CASES = [
    ({"categories": ["assistenza-e-cura"]}, lambda r: "assistenza-e-cura" in r.slugs),
    (
        {"categories": ["badante", "asilo-nido"]},
        lambda r: bool({"badante", "asilo-nido"} & r.slugs),
    ),
    (
        {"targetGroups": ["ELDERLY", "DISABLED"]},
        lambda r: bool({"elderly", "disabled"} & r.target_groups),
    ),
    ({"age": 9}, lambda r: _admits(r, 9)),
    ({"welfareEligible": False}, lambda r: not r.welfare_eligible),
    ({"tuirCategories": ["ART51_F_BIS"]}, lambda r: r.tuir == "art51_f_bis"),
    (
        {"price": {"max": 20, "unit": "HOUR"}},
        lambda r: any(u == "hour" and a is not None and a <= 20 for a, u in r.prices),
    ),
    ({"price": {"min": 100}}, lambda r: any(a is not None and a >= 100 for a, _ in r.prices)),
    ({"languages": ["en"]}, lambda r: "en" in r.languages),
    ({"wheelchairAccessible": True}, lambda r: r.wheelchair),
    ({"delivery": ["AT_HOME"]}, lambda r: "at_home" in r.delivery),
    ({"comuni": ["097042"]}, lambda r: "097042" in r.site_comuni or "097042" in r.area),
    (
        {"categories": ["assistenza-e-cura"], "delivery": ["AT_HOME"], "comuni": ["097048"]},
        lambda r: (
            "assistenza-e-cura" in r.slugs
            and "at_home" in r.delivery
            and ("097048" in r.site_comuni or "097048" in r.area)
        ),
    ),
]


@pytest.mark.parametrize(("given", "keep"), CASES)
async def test_service_filters_match_the_rows(gql, rows, given, keep) -> None:
    expected = {row.id for row in rows if keep(row)}
    assert expected and len(expected) < len(rows), "a case that tells filters apart"

    got = await _ids(gql, SERVICES, "services", filter=given)

    assert len(got) == len(set(got))
    assert set(got) == expected


async def test_providers_match_through_their_services(gql, rows) -> None:
    given, keep = CASES[-1]
    expected = {row.organization_id for row in rows if keep(row)}

    got = await _ids(gql, PROVIDERS, "providers", filter=given)

    assert set(got) == expected


async def test_order_by_name_and_by_last_update(gql, rows) -> None:
    by_name = await gql(SERVICES, order="NAME", first=100)
    by_update = await gql(SERVICES, order="UPDATED_AT", first=100)

    names = [e["node"]["name"] for e in by_name.data["services"]["edges"]]
    updates = [
        datetime.fromisoformat(e["node"]["updatedAt"]) for e in by_update.data["services"]["edges"]
    ]
    assert names == sorted(names)
    assert updates == sorted(updates, reverse=True)
    assert updates[0] == max(row.updated_at for row in rows)


async def test_modified_after_gives_the_incremental_set(gql, rows) -> None:
    instants = sorted(row.changed_at for row in rows)
    since = instants[len(instants) // 2]

    got = await _ids(
        gql, SERVICES, "services", filter={"modifiedAfter": since.isoformat()}, order="UPDATED_AT"
    )

    want = {row.id for row in rows if row.changed_at > since}
    assert want and len(want) < len(rows)
    assert set(got) == want


@pytest.mark.parametrize(
    ("given", "field", "value"),
    [
        ({"categories": ["not-a-category"]}, "filter.categories", "not-a-category"),
        ({"comuni": ["12345"]}, "filter.comuni[0]", "12345"),
        ({"comuni": ["999999"]}, "filter.comuni[0]", "999999"),
        ({"languages": ["italian"]}, "filter.languages[0]", "italian"),
        ({"age": -1}, "filter.age", -1),
        ({"price": {"min": 50, "max": 10}}, "filter.price.min", 50),
    ],
)
async def test_bad_filters_name_the_field_and_value(gql, given, field, value) -> None:
    result = await gql(SERVICES, filter=given)

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == field
    assert result.errors[0]["extensions"]["value"] == value


async def test_a_cursor_of_one_order_is_refused_by_another(gql) -> None:
    page = await gql(SERVICES, order="NAME", first=2)
    cursor = page.data["services"]["pageInfo"]["endCursor"]

    result = await gql(SERVICES, order="UPDATED_AT", first=2, after=cursor)

    assert result.codes == ["BAD_USER_INPUT"]
