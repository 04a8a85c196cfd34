"""The first read API: listings, Relay pagination, nested DataLoaders, visibility, bad input."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.catalogue import listings
from ambrogio.db.models import Organization, Service
from ambrogio.ids import to_global_id
from ambrogio.schema.limits import cached_validation
from ambrogio.settings import PROJECT_ROOT

PROVIDERS_PAGE = """
query Page($first: Int, $after: String) {
  providers(first: $first, after: $after) {
    totalCount
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

NESTED = """
query Nested($first: Int) {
  providers(first: $first) {
    edges { node {
      id name
      locations { id lat lon geojson comune { istatCode name } services { id } }
      services {
        id name delivery targetGroups
        categories { slug label(lang: EN) parent { slug } }
        costOptions { amount unit }
        locations { id }
        serviceAreaComuni { istatCode }
        provider { id }
      }
    } }
  }
}
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    id
    __typename
    ... on Provider { name }
    ... on Comune { name istatCode }
  }
}
"""


def readme_query() -> str:
    readme = Path(PROJECT_ROOT / "README.md").read_text()
    match = re.search(r"```graphql\n(.*?)```", readme, re.S)
    assert match, "README.md shows an example query"
    return match.group(1)


async def test_readme_example_returns_lecco_providers(gql) -> None:
    result = await gql(readme_query())

    assert result.errors == []
    edges = result.data["providers"]["edges"]
    assert len(edges) > 0
    comuni = [loc["comune"] for edge in edges for loc in edge["node"]["locations"]]
    assert comuni and all(c["provinceCode"] == "LC" for c in comuni)


async def test_pagination_returns_every_visible_provider_once(gql, engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        expected = await conn.scalar(
            select(func.count()).select_from(Organization).where(listings.provider_visible())
        )

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        result = await gql(PROVIDERS_PAGE, first=37, after=after)
        assert result.errors == []
        page = result.data["providers"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert page["totalCount"] == expected
    assert len(seen) == expected == len(set(seen))
    assert pages == -(-expected // 37)


async def test_nested_selection_costs_the_same_statements_whatever_the_page_size(
    gql, statements
) -> None:
    counts = {}
    for first in (10, 50, 100):
        statements.reset()
        result = await gql(NESTED, first=first)
        assert result.errors == []
        assert len(result.data["providers"]["edges"]) == first
        counts[first] = statements.count

    # One page query, then about one statement per nested field (a loader batch; a loader used
    # at two places of the tree may batch twice), never one per row: 100 rows would cost 100s.
    assert max(counts.values()) <= 12, counts


async def test_drafts_are_invisible_to_the_public(gql, engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        draft_id = await conn.scalar(
            select(Organization.id).where(Organization.status == "draft").limit(1)
        )
        draft_service = await conn.scalar(
            select(Service.id)
            .join(Organization, Organization.id == Service.organization_id)
            .where(Service.status == "draft", Organization.status == "published")
            .limit(1)
        )
    assert draft_id is not None and draft_service is not None, "the demo data has drafts"

    provider = await gql(NODE, id=to_global_id("Provider", draft_id))
    service = await gql(NODE, id=to_global_id("Service", draft_service))
    listed = await gql(PROVIDERS_PAGE, first=100)

    assert provider.codes == ["NOT_FOUND"] and provider.data == {"node": None}
    assert service.codes == ["NOT_FOUND"]
    ids = [edge["node"]["id"] for edge in listed.data["providers"]["edges"]]
    assert to_global_id("Provider", draft_id) not in ids


async def test_a_provider_turns_invisible_when_unpublished(gql, engine: AsyncEngine) -> None:
    first = await gql(PROVIDERS_PAGE, first=1)
    global_id = first.data["providers"]["edges"][0]["node"]["id"]
    assert (await gql(NODE, id=global_id)).errors == []

    name = first.data["providers"]["edges"][0]["node"]["name"]
    async with engine.begin() as conn:
        await conn.execute(
            update(Organization).where(Organization.name == name).values(status="archived")
        )
    try:
        assert (await gql(NODE, id=global_id)).codes == ["NOT_FOUND"]
    finally:
        async with engine.begin() as conn:
            await conn.execute(
                update(Organization).where(Organization.name == name).values(status="published")
            )


async def test_node_resolves_each_type(gql) -> None:
    comune = await gql(NODE, id=to_global_id("Comune", "097042"))
    page = await gql(PROVIDERS_PAGE, first=1)
    provider_id = page.data["providers"]["edges"][0]["node"]["id"]
    provider = await gql(NODE, id=provider_id)

    assert comune.data["node"] == {
        "id": to_global_id("Comune", "097042"),
        "__typename": "Comune",
        "name": "Lecco",
        "istatCode": "097042",
    }
    assert provider.data["node"]["__typename"] == "Provider"
    assert provider.data["node"]["id"] == provider_id


async def test_bad_input_gets_coded_errors_never_a_500(gql) -> None:
    cases = {
        "NOT_FOUND": [
            (NODE, {"id": to_global_id("Provider", uuid.uuid4())}),
            (NODE, {"id": to_global_id("Comune", "999999")}),
        ],
        "BAD_USER_INPUT": [
            (NODE, {"id": "not-a-global-id!"}),
            (NODE, {"id": to_global_id("Provider", "not-a-uuid")}),
            (NODE, {"id": to_global_id("Spaceship", uuid.uuid4())}),
            (NODE, {"id": to_global_id("Comune", "Lecco")}),
            (PROVIDERS_PAGE, {"first": 101}),
            (PROVIDERS_PAGE, {"first": 0}),
            (PROVIDERS_PAGE, {"first": -5}),
            (PROVIDERS_PAGE, {"first": 10, "after": "bm9wZQ"}),
            (PROVIDERS_PAGE, {"first": "ten"}),
        ],
    }
    for code, queries in cases.items():
        for query, variables in queries:
            result = await gql(query, **variables)
            assert result.status < 500
            assert result.codes == [code], (variables, result.errors)
            message = result.errors[0]["message"]
            assert "Traceback" not in message and "SELECT" not in message


async def test_errors_name_the_field_and_the_value(gql) -> None:
    result = await gql(PROVIDERS_PAGE, first=1000)

    error = result.errors[0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "first", "value": 1000}
    assert "first" in error["message"] and "1000" in error["message"]


async def test_categories_form_a_bilingual_tree(gql) -> None:
    result = await gql("{ categories { slug label en: label(lang: EN) children { slug label } } }")

    roots = result.data["categories"]
    assert len(roots) == 8
    assert all(root["children"] for root in roots)
    slugs = {child["slug"] for root in roots for child in root["children"]}
    assert {"badante", "asilo-nido", "fisioterapia", "doposcuola"} <= slugs
    assert any(root["label"] != root["en"] for root in roots)


async def test_health_and_readiness(client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


def readme_examples() -> list[str]:
    return re.findall(r"```graphql\n(.*?)```", (PROJECT_ROOT / "README.md").read_text(), re.S)


async def test_every_readme_example_runs_without_errors(gql) -> None:
    examples = readme_examples()

    assert len(examples) >= 2
    for example in examples:
        result = await gql(example)
        assert result.errors == [], (example, result.errors)
        assert all(value is not None for value in result.data.values())


async def test_committed_sdl_matches_the_schema() -> None:
    from ambrogio.schema.build import schema_sdl

    committed = (PROJECT_ROOT / "schema.graphql").read_text()
    assert committed == schema_sdl(), "run `make schema` and commit schema.graphql"


def _nested(levels: int) -> str:
    """A query ``levels`` provider → services → provider … hops deep, below providers/edges."""
    inner = "name"
    for level in reversed(range(levels)):
        inner = f"services {{ {inner} }}" if level % 2 == 0 else f"provider {{ {inner} }}"
    return f"{{ providers(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"


async def test_a_query_too_deep_is_refused_before_it_runs(gql) -> None:
    # the depth counts nested fields: providers, edges, node, the hops, the leaf (15 at most)
    allowed = await gql(_nested(11))
    refused = await gql(_nested(12))
    assert not allowed.errors, allowed.errors
    assert refused.codes == ["QUERY_TOO_COMPLEX"]
    assert refused.data is None


async def test_the_same_document_is_parsed_and_validated_once(gql) -> None:
    # Front ends send a few documents again and again: the second time costs no validation.
    cache_info = cached_validation.cache_info
    query = "{ categories { slug } }"
    await gql(query)
    before = cache_info()
    await gql(query)
    after = cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
