"""Operation limits, refused before anything runs, and the cost every answer reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from graphql import parse

from ambrogio.schema.build import build_schema
from ambrogio.schema.cost import measured
from ambrogio.settings import Settings

PAGE = "query ($first: Int) { providers(first: $first) { edges { node { name } } } }"
WITH_SERVICES = (
    "query ($first: Int) { providers(first: $first) { totalCount edges { node { name "
    "services { name } } } pageInfo { hasNextPage } } }"
)


def ofs(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"ofType {{ {inner} }}"
    return f'{{ __type(name: "Provider") {{ {inner} }} }}'


def cycle(levels: int) -> str:
    inner = "name"
    for level in range(levels):
        inner = f"services {{ {inner} }}" if level % 2 == 0 else f"provider {{ {inner} }}"
    return f"{{ providers(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"


async def post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") is None, body
    (only,) = body["errors"]
    assert only["extensions"]["code"] == "QUERY_TOO_COMPLEX", only
    extensions: dict[str, Any] = only["extensions"]
    return extensions


async def test_every_answer_carries_its_cost_the_page_sizes_multiplied(
    client: httpx.AsyncClient,
) -> None:
    small = await post(client, PAGE, first=7)
    nested = await post(client, WITH_SERVICES, first=7)

    assert len(small["data"]["providers"]["edges"]) == 7
    assert small["extensions"]["cost"] == 7
    # 7 providers, each with a list of services counted as 5 (no page size): 7 + 7 x 5
    assert nested["extensions"]["cost"] == 7 + 7 * 5
    refused = await post(client, "{ nothing }")
    assert refused["extensions"]["cost"] == 1


async def test_a_huge_page_is_refused_with_its_cost_and_the_limit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    body = await post(client, PAGE, first=1_000_000)

    figures = error(body)
    assert figures["cost"] == 1_000_000
    assert figures["limit"] == settings.max_cost
    assert "1,000,000" in body["errors"][0]["message"]


async def test_one_document_is_measured_again_for_each_page_size_its_variables_ask(
    client: httpx.AsyncClient,
) -> None:
    # given one document, whose figures are kept per document and page-size variables
    document = (
        "query ($n: Int, $name: Boolean = true) "
        "{ providers(first: $n) { edges { node { id name @include(if: $name) } } } }"
    )

    # when it is sent with different page sizes (and a variable the figures do not read)
    seven = await post(client, document, n=7, name=True)
    same = await post(client, document, n=7, name=False)
    huge = await post(client, document, n=1_000_000)
    default = await post(client, document)
    again = await post(client, document, n=7)

    # then each answer is charged its own page size
    assert seven["extensions"]["cost"] == same["extensions"]["cost"] == 7
    assert error(huge)["cost"] == 1_000_000
    assert default["extensions"]["cost"] == 20  # the argument's default page
    assert again.get("errors") is None, again
    assert len(again["data"]["providers"]["edges"]) == again["extensions"]["cost"] == 7


def test_a_documents_figures_are_walked_once_per_page_size() -> None:
    schema, document = build_schema()._schema, parse(PAGE)

    seven = measured(schema, document, None, {"first": 7})

    assert measured(schema, document, None, {"first": 7}) is seven
    assert measured(schema, document, None, {"first": 8}).cost == 8
    assert seven.cost == 7


async def test_aliased_pages_add_up(client: httpx.AsyncClient, settings: Settings) -> None:
    # 100 providers, 100 x 5 services, 100 x 5 x 5 categories: 3,100 each
    page = "providers(first: 100) { edges { node { services { categories { slug } } } } }"
    twice = await post(client, "{ " + " ".join(f"p{i}: {page}" for i in range(2)) + " }")
    many = await post(client, "{ " + " ".join(f"p{i}: {page}" for i in range(9)) + " }")

    assert twice["extensions"]["cost"] == 2 * 3100 and not twice.get("errors")
    assert settings.max_cost < 9 * 3100
    assert error(many)["cost"] == 9 * 3100


async def test_depth_counts_introspection_fields(client: httpx.AsyncClient) -> None:
    allowed = await post(client, ofs(13))  # __type, 13 ofType, name: 15
    refused = await post(client, ofs(50))

    assert allowed.get("errors") is None, allowed
    figures = error(refused)
    assert figures["figure"] == "depth" and figures["value"] == 52


async def test_depth_through_schema_cycles(client: httpx.AsyncClient) -> None:
    figures = error(await post(client, cycle(50)))
    assert figures["figure"] == "depth" and figures["value"] == 54


@pytest.mark.parametrize(
    ("document", "figure"),
    [
        ("{ " + " ".join(f"a{i}: __typename" for i in range(16)) + " }", "aliases"),
        ("{ " + " ".join("__typename @include(if: true)" for _ in range(51)) + " }", "directives"),
        ("{ " + " ".join("categories { slug }" for _ in range(6)) + " }", "repeats"),
        ("{ providers { totalCount " + "pageInfo { hasNextPage } " * 5 + "} }", None),
    ],
)
async def test_the_figures_of_a_document(
    client: httpx.AsyncClient, document: str, figure: str | None
) -> None:
    body = await post(client, document)
    if figure is None:  # five repeats are allowed
        assert body.get("errors") is None, body
    else:
        assert error(body)["figure"] == figure


async def test_fragments_are_expanded_and_measured_once(client: httpx.AsyncClient) -> None:
    # each fragment doubles the one below: 2^20 fields once expanded, measured in no time
    fragments = ["fragment F0 on Query { __typename }"]
    for level in range(1, 21):
        fragments.append(f"fragment F{level} on Query {{ ...F{level - 1} ...F{level - 1} }}")
    started = time.monotonic()
    body = await post(client, "{ ...F20 } " + " ".join(fragments))
    assert error(body)["figure"] in ("fields", "repeats")
    assert time.monotonic() - started < 1


async def test_circular_fragments_are_a_validation_error(client: httpx.AsyncClient) -> None:
    body = await post(
        client,
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A __typename }",
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]


async def test_too_many_tokens_and_too_deep_to_parse(client: httpx.AsyncClient) -> None:
    tokens = error(await post(client, "{ " + "__typename " * 10_000 + "}"))
    nested = error(await post(client, "{ a " * 3000 + "}" * 3000))
    listed = error(await post(client, "{ node(id: " + "[" * 3000 + "]" * 3000 + ") { id } }"))

    assert tokens["figure"] == "tokens"
    assert nested["figure"] == "tokens" and listed["figure"] == "tokens"


async def test_lists_in_arguments_and_variables_are_capped(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    query = "query ($c: [String!]) { services(filter: {categories: $c}) { totalCount } }"
    too_long = ["badante"] * (settings.max_list_items + 1)
    literal = ", ".join('"badante"' for _ in range(settings.max_list_items + 1))

    assert error(await post(client, query, c=too_long))["figure"] == "listItems"
    document = f"{{ services(filter: {{categories: [{literal}]}}) {{ totalCount }} }}"
    literal_body = await post(client, document)
    assert error(literal_body)["figure"] == "listItems"
    within = await post(client, query, c=["badante"] * settings.max_list_items)
    assert within.get("errors") is None, within


async def test_measure_only_reports_the_cost_and_runs(app_with: Callable[..., Any]) -> None:
    async with app_with(max_cost=10, cost_enforce=False) as measuring:
        body = await post(measuring, PAGE, first=20)
    async with app_with(max_cost=10) as enforcing:
        refused = await post(enforcing, PAGE, first=20)

    assert len(body["data"]["providers"]["edges"]) == 20
    assert body["extensions"]["cost"] == 20
    assert error(refused)["cost"] == 20
