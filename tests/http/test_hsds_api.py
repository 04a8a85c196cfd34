"""The Open Referral HSDS 3.0 REST API at ``/hsds/``: documents valid against the compiled HSDS
schemas, the paginated envelope, and the same answers as GraphQL for the same question."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

import jsonschema
import pytest
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import from_global_id
from tests.support.hsds import HSDS


def checker(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((HSDS / "schema" / "compiled" / f"{name}.json").read_text())
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


async def all_pages(client: Any, path: str, per_page: int = 100) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        sep = "&" if "?" in path else "?"
        body = (await client.get(f"{path}{sep}page={page}&per_page={per_page}")).json()
        found += body["contents"]
        if body["last_page"]:
            return found
        page += 1


async def published(engine: AsyncEngine, sql: str, **values: Any) -> set[str]:
    async with engine.connect() as conn:
        return {str(row[0]) for row in await conn.execute(text(sql), values)}


PUBLISHED_PROVIDERS = (
    "SELECT id FROM organization WHERE status = 'published' AND merged_into_id IS NULL"
)
PUBLISHED_SERVICES = (
    "SELECT s.id FROM service s JOIN organization o ON o.id = s.organization_id"
    " WHERE s.status = 'published' AND o.status = 'published' AND o.merged_into_id IS NULL"
)


async def test_the_root_says_the_version_and_where_the_openapi_document_is(client) -> None:
    root = (await client.get("/hsds/")).json()
    openapi = await client.get("/hsds/openapi.json")
    document = openapi.json()

    assert root["version"] == "3.0" and root["openapi_url"].endswith("/hsds/openapi.json")
    assert openapi.status_code == 200 and document["openapi"].startswith("3.1")
    assert "REQUIRED" not in json.dumps(document["info"])
    assert document["servers"] == [{"url": "http://ambrogio.test/hsds"}]
    assert set(document["paths"]) == {
        "/",
        "/services",
        "/services/{id}",
        "/organizations",
        "/organizations/{id}",
        "/service_at_locations",
        "/service_at_locations/{id}",
        "/taxonomies",
        "/taxonomies/{id}",
        "/taxonomy_terms",
        "/taxonomy_terms/{id}",
        "/changes",
    }


async def test_organizations_page_through_every_published_provider_once(client, engine) -> None:
    # given the published providers, as the database holds them
    expected = await published(engine, PUBLISHED_PROVIDERS)

    # when every page of /organizations is read
    first = (await client.get("/hsds/organizations?per_page=7")).json()
    contents = await all_pages(client, "/hsds/organizations")

    # then each provider comes once, in the list form, and the envelope adds up
    ids = [item["id"] for item in contents]
    assert len(ids) == len(set(ids)) and set(ids) == expected and expected
    assert first["total_items"] == len(expected) and first["size"] == 7
    assert first["total_pages"] == -(-len(expected) // 7)
    assert first["first_page"] and not first["last_page"] and not first["empty"]
    lists = checker("organization_list")
    for item in contents[:50]:
        lists.validate(item)
        assert "services" not in item and "locations" not in item


async def test_an_organization_and_a_service_are_valid_hsds(client, engine) -> None:
    provider = sorted(await published(engine, PUBLISHED_PROVIDERS))[0]
    services = sorted(
        await published(engine, PUBLISHED_SERVICES + " AND o.id = :p", p=uuid.UUID(provider))
    )
    assert services, "the demo provider offers services"

    brief = (await client.get(f"/hsds/organizations/{provider}")).json()
    full = (await client.get(f"/hsds/organizations/{provider}?full_service=true")).json()
    service = (await client.get(f"/hsds/services/{services[0]}")).json()

    organizations, service_schema = checker("organization"), checker("service")
    organizations.validate(brief)
    organizations.validate(full)
    service_schema.validate(service)
    assert brief["id"] == provider and full["id"] == provider
    assert {s["id"] for s in full["services"]} == set(services)
    assert {s["id"] for s in brief["services"]} == set(services)
    assert all(set(s) == {"id", "name", "status"} for s in brief["services"])
    assert service["organization"]["id"] == provider and service["organization_id"] == provider


SEARCH = """
query Search($text: String!, $after: String) {
  services(text: $text, orderBy: NAME, first: 100, after: $after) {
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

BY_CATEGORY = """
query ByCategory($slug: String!, $after: String) {
  services(filter: {categories: [$slug]}, orderBy: NAME, first: 100, after: $after) {
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def graphql_services(gql: Any, query: str, **variables: Any) -> list[str]:
    found: list[str] = []
    after = None
    while True:
        result = await gql(query, after=after, **variables)
        page = result.data["services"]
        found += [from_global_id(edge["node"]["id"])[1] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def test_search_answers_as_graphql_does(client, gql) -> None:
    # given GraphQL's services for a text, by name
    expected = await graphql_services(gql, SEARCH, text="fisioterapia")

    # when the REST API is asked the same
    got = [s["id"] for s in await all_pages(client, "/hsds/services?search=fisioterapia")]

    # then the same services come, in the same order
    assert got == expected and expected


async def test_taxonomy_term_answers_as_the_category_filter_does(client, gql, engine) -> None:
    async with engine.connect() as conn:
        term, slug = (
            await conn.execute(
                text("SELECT id, slug FROM taxonomy_term WHERE slug = 'assistenza-e-cura'")
            )
        ).one()
    expected = await graphql_services(gql, BY_CATEGORY, slug=slug)
    everything = await all_pages(client, "/hsds/services")

    got = [s["id"] for s in await all_pages(client, f"/hsds/services?taxonomy_term_id={term}")]

    assert got == expected and 0 < len(expected) < len(everything)


async def test_organization_and_modified_after_narrow_the_services(client, engine) -> None:
    provider = sorted(await published(engine, PUBLISHED_PROVIDERS))[0]
    expected = await published(engine, PUBLISHED_SERVICES + " AND o.id = :p", p=uuid.UUID(provider))

    mine = await all_pages(client, f"/hsds/services?organization_id={provider}")
    future = (await client.get("/hsds/services?modified_after=2999-01-01T00:00:00%2B00:00")).json()

    assert {s["id"] for s in mine} == expected and expected
    assert future["total_items"] == 0 and future["empty"] and future["contents"] == []


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/hsds/services?page=0", 400, "page"),
        ("/hsds/services?per_page=1000", 400, "per_page"),
        ("/hsds/services?full=maybe", 400, "full"),
        ("/hsds/services?taxonomy_term_id=badante", 400, "taxonomy_term_id"),
        ("/hsds/services?modified_after=yesterday", 400, "modified_after"),
        ("/hsds/services?modified_after=2025-01-01T00:00:00", 400, "modified_after"),
        ("/hsds/services?format=xml", 400, "format"),
        ("/hsds/services?colour=red", 400, "colour"),
        ("/hsds/services?page=1&page=2", 400, "page"),
        ("/hsds/organizations?taxonomy_term_id=x", 400, "taxonomy_term_id"),
        ("/hsds/services/not-a-uuid", 400, "id"),
    ],
)
async def test_bad_parameters_are_400_naming_them(client, path, status, field) -> None:
    response = await client.get(path)

    assert response.status_code == status
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field


async def test_unknown_ids_are_404(client) -> None:
    for path in (f"/hsds/services/{uuid.uuid4()}", f"/hsds/organizations/{uuid.uuid4()}"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_the_change_feed_pages_as_graphql_does(client, gql) -> None:
    # given the demo catalogue's changes as GraphQL lists them
    graphql = await gql("{ changes(first: 100) { edges { node { id change published } } } }")
    expected = [
        (from_global_id(e["node"]["id"])[1], e["node"]["change"].lower(), e["node"]["published"])
        for e in graphql.data["changes"]["edges"]
    ]

    # when /hsds/changes is followed page by page
    seen: list[tuple[str, str, bool]] = []
    after = ""
    while len(seen) < len(expected):
        page = (await client.get(f"/hsds/changes?per_page=30{after}")).json()
        seen += [(c["id"], c["change"], c["published"]) for c in page["contents"]]
        assert page["size"] == len(page["contents"]) <= 30
        after = f"&after={page['next_after']}"

    # then it gives the same changes in the same order
    assert seen[: len(expected)] == expected and expected
    bad = await client.get("/hsds/changes?after=nope")
    assert bad.status_code == 400 and bad.json()["errors"][0]["extensions"]["field"] == "after"


SITES_SQL = """
SELECT a.id, l.cap, ST_Y(l.geom), ST_X(l.geom)
FROM service_at_location a
JOIN service s ON s.id = a.service_id JOIN location l ON l.id = a.location_id
JOIN organization o ON o.id = s.organization_id
WHERE s.status = 'published' AND l.status = 'published' AND o.status = 'published'
  AND o.merged_into_id IS NULL
"""


async def test_service_at_locations_near_a_postcode_match_a_geodesic_oracle(client, engine) -> None:
    # given the published sites and the centroid of Lecco's CAP, as the database holds them
    async with engine.connect() as conn:
        sites = (await conn.execute(text(SITES_SQL))).all()
        lat, lon = (
            await conn.execute(
                text(
                    "SELECT ST_Y(centroid), ST_X(centroid) FROM comune"
                    " WHERE caps @> ARRAY['23900'] ORDER BY istat_code LIMIT 1"
                )
            )
        ).one()
    geod = Geod(ellps="WGS84")
    metres = {str(key): geod.inv(lon, lat, x, y)[2] for key, _, y, x in sites if y is not None}
    radius = 3000.0

    # when the sites within 3 km of it are asked for
    got = await all_pages(client, f"/hsds/service_at_locations?postcode=23900&proximity={radius}")

    # then they are those within 3 km on the ellipsoid, nearest first
    ids = [site["id"] for site in got]
    near = {key for key, d in metres.items() if d <= radius - 0.5}
    far = {key for key, d in metres.items() if d > radius + 0.5}
    assert near <= set(ids) and not far & set(ids) and near and far
    distances = [metres[key] for key in ids]
    assert all(a <= b + 0.01 for a, b in itertools.pairwise(distances))
    lists = checker("service_at_location_list")
    for site in got[:20]:
        lists.validate(site)


async def test_a_postcode_alone_keeps_the_sites_with_that_cap(client, engine) -> None:
    async with engine.connect() as conn:
        sites = (await conn.execute(text(SITES_SQL))).all()
    expected = {str(key) for key, cap, _, _ in sites if cap == "23900"}

    got = await all_pages(client, "/hsds/service_at_locations?postcode=23900")

    assert {site["id"] for site in got} == expected and expected


async def test_a_service_at_location_is_valid_hsds(client, engine) -> None:
    async with engine.connect() as conn:
        key = str((await conn.execute(text(SITES_SQL + " ORDER BY a.id LIMIT 1"))).one()[0])

    site = await client.get(f"/hsds/service_at_locations/{key}")

    assert site.status_code == 200 and site.json()["id"] == key
    checker("service_at_location").validate(site.json())
    assert site.json()["service"]["id"] == site.json()["service_id"]
    assert site.json()["location"]["id"] == site.json()["location_id"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/hsds/service_at_locations?proximity=1000", "proximity"),
        ("/hsds/service_at_locations?postcode=99999", "postcode"),
        ("/hsds/service_at_locations?postcode=lecco", "postcode"),
        ("/hsds/service_at_locations?postcode=23900&proximity=-5", "proximity"),
        ("/hsds/service_at_locations?postcode=23900&proximity=far", "proximity"),
    ],
)
async def test_bad_postcodes_and_proximities_are_400(client, path, field) -> None:
    response = await client.get(path)

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["field"] == field


def schema_checker(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((HSDS / "schema" / f"{name}.json").read_text())
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


async def test_taxonomies_and_their_terms(client, engine) -> None:
    # given the published terms, as the database holds them
    async with engine.connect() as conn:
        terms = {
            str(row.id): row
            for row in await conn.execute(
                text(
                    "SELECT id, parent_id, vocabulary FROM taxonomy_term WHERE status = 'published'"
                )
            )
        }
    roots = {key for key, row in terms.items() if row.parent_id is None}

    # when the taxonomies and the terms are read
    taxonomies = (await client.get("/hsds/taxonomies")).json()["contents"]
    everything = await all_pages(client, "/hsds/taxonomy_terms")
    top = await all_pages(client, "/hsds/taxonomy_terms?top_only=true")
    [ours] = [t for t in taxonomies if t["name"] == "ambrogio"]
    mine = await all_pages(client, f"/hsds/taxonomy_terms?taxonomy_id={ours['id']}")
    parent = next(key for key in roots if any(str(r.parent_id) == key for r in terms.values()))
    children = await all_pages(client, f"/hsds/taxonomy_terms?parent_id={parent}")
    one = (await client.get(f"/hsds/taxonomies/{ours['id']}")).json()

    # then every published term comes once, the filters keep what they say, and all is HSDS
    assert sorted(t["id"] for t in everything) == sorted(terms) and terms
    assert {t["id"] for t in top} == roots and roots != set(terms)
    assert {t["id"] for t in mine} == {k for k, r in terms.items() if r.vocabulary == "ambrogio"}
    assert {t["id"] for t in children} == {
        k for k, r in terms.items() if str(r.parent_id) == parent
    } and children
    assert one == ours
    term_schema, taxonomy_schema = schema_checker("taxonomy_term"), schema_checker("taxonomy")
    for item in everything:
        term_schema.validate(item)
        assert item["taxonomy_id"] in {t["id"] for t in taxonomies}
    for item in taxonomies:
        taxonomy_schema.validate(item)


async def test_term_search_is_literal_text(client) -> None:
    found = await all_pages(client, "/hsds/taxonomy_terms?search=badant")
    wildcard = (await client.get("/hsds/taxonomy_terms?search=%25")).json()

    assert found and all("badant" in (t["code"] + t["name"]).lower() for t in found)
    assert wildcard["total_items"] == 0


async def test_taxonomy_id_keeps_the_services_with_a_term_of_that_taxonomy(client, engine) -> None:
    # given the services that have a published term of Ambrogio's own vocabulary
    async with engine.connect() as conn:
        expected = {
            str(row[0])
            for row in await conn.execute(
                text(
                    PUBLISHED_SERVICES
                    + " AND EXISTS (SELECT 1 FROM service_category c JOIN taxonomy_term t"
                    " ON t.id = c.term_id WHERE c.service_id = s.id AND t.vocabulary = 'ambrogio'"
                    " AND t.status = 'published')"
                )
            )
        }
    [ours] = [
        t
        for t in (await client.get("/hsds/taxonomies")).json()["contents"]
        if t["name"] == "ambrogio"
    ]

    # when the services of that taxonomy, and of an unknown one, are asked for
    got = await all_pages(client, f"/hsds/services?taxonomy_id={ours['id']}")
    none = (await client.get(f"/hsds/services?taxonomy_id={uuid.uuid4()}")).json()

    # then they are those services, and an unknown taxonomy has none
    assert {s["id"] for s in got} == expected and expected
    assert none["total_items"] == 0
