"""Compiled plans answer exactly as the regular path: status, headers and bytes, on real data.

Each request is sent to two apps on the same database, one with ``AMBROGIO_COMPILED_PLANS``
on and one with it off, with the same ``X-Request-ID``; the answers must be the same bytes.
Documents the plans cover are checked to be covered (else the comparison proves nothing), and
the ones they do not cover (fragments, directives, nested lists, counts, errors) to take the
regular path with the same answer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from strawberry.types.arguments import convert_arguments

from ambrogio.context import Context
from ambrogio.schema.build import build_schema
from ambrogio.schema.plans import ALL, Plans
from ambrogio.settings import Settings
from tests.support.accounts import address

LECCO = {"lat": 45.8566, "lon": 9.3977}
NOWHERE = {"lat": 40.0, "lon": 15.0}  # the sea off Campania: nothing within a few km

NEARBY = """query Nearby($lat: Float!, $lon: Float!) {
  providers(near: {lat: $lat, lon: $lon}, radiusMeters: 2000, first: 20) {
    edges { distanceMeters node { id name } }
  }
}"""
ALIASED = """query ($near: LatLonInput!, $r: Float, $n: Int = 5, $after: String) {
  __typename
  p: providers(near: $near, radiusMeters: $r, first: $n, after: $after) {
    __typename
    e: edges { __typename cursor d: distanceMeters node { __typename id name kind email
      website createdAt updatedAt verifiedAt status version } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
ONE_ROOT_ALIASED = """query ($near: LatLonInput!, $r: Float, $n: Int = 5, $after: String) {
  p: providers(near: $near, radiusMeters: $r, first: $n, after: $after) {
    __typename
    e: edges { __typename cursor d: distanceMeters node { __typename id name kind email
      website createdAt updatedAt verifiedAt status version } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
PLAIN_COLUMNS = """query ($near: LatLonInput!, $r: Float, $n: Int = 5, $after: String) {
  p: providers(near: $near, radiusMeters: $r, first: $n, after: $after) {
    e: edges { cursor d: distanceMeters node { __typename i: id n: name taxCode runtsId
      description email phone website source externalId createdAt updatedAt verifiedAt
      verifiedBy version } }
    pageInfo { hasNextPage endCursor }
  }
}"""
LITERALS = """{ services(near: {lat: 45.85, lon: 9.39}, radiusMeters: 5000, first: 7) {
  edges { cursor distanceMeters node { id name delivery } } pageInfo { endCursor } } }"""
WELFARE_POINTS = """query ($lat: Float!, $lon: Float!) {
  welfarePoints(near: {lat: $lat, lon: $lon}, first: 4) {
    edges { distanceMeters node { id name } } pageInfo { hasNextPage endCursor } } }"""
BY_NAME = "query ($n: Int) { providers(first: $n) { edges { cursor node { id name } } } }"
TEXT = """query ($t: String!) { providers(text: $t, first: 5) {
  edges { node { id name } } pageInfo { hasNextPage } } }"""
CLUSTERS = """query Clusters($west: Float!, $south: Float!, $east: Float!, $north: Float!,
  $zoom: Int!) {
  mapClusters(bbox: {west: $west, south: $south, east: $east, north: $north}, zoom: $zoom) {
    cell count providerCount lat lon
  }
}"""
CLUSTERS_FILTERED = """query ($bbox: BBoxInput!, $zoom: Int!, $filter: ServiceFilter) {
  __typename
  c: mapClusters(bbox: $bbox, zoom: $zoom, filter: $filter) { __typename n: count lat lon }
}"""
TWO_OPERATIONS = f"{NEARBY}\nquery Other {{ providers(first: 2) {{ edges {{ node {{ id }} }} }} }}"

# Not covered: the regular path answers, and must still answer the same.
FRAGMENT = """query ($lat: Float!, $lon: Float!) {
  providers(near: {lat: $lat, lon: $lon}, first: 3) { edges { node { ...P } } } }
fragment P on Provider { id name }"""
DIRECTIVE = """query ($lat: Float!, $lon: Float!, $yes: Boolean!) {
  providers(near: {lat: $lat, lon: $lon}, first: 3) {
    edges { distanceMeters @include(if: $yes) node { id } } } }"""
COUNTED = """query ($lat: Float!, $lon: Float!) {
  providers(near: {lat: $lat, lon: $lon}, radiusMeters: 3000, first: 3) {
    totalCount edges { node { id } } } }"""
CLUSTER_ITEMS = """{ mapClusters(bbox: {west: 9.3, south: 45.8, east: 9.5, north: 45.9}, zoom: 14) {
  count bbox { west } provider { id } } }"""
NESTED = """query ($lat: Float!, $lon: Float!) {
  providers(near: {lat: $lat, lon: $lon}, first: 2) {
    edges { node { id locations { lat lon } } } } }"""
REPEATED = """query ($lat: Float!, $lon: Float!) {
  providers(near: {lat: $lat, lon: $lon}, first: 2) { edges { node { id } node { name } } } }"""
UNKNOWN_FIELD = "{ providers(first: 2) { edges { node { nope } } } }"
INTROSPECTION = '{ __type(name: "Provider") { name } }'

COVERED = [
    NEARBY,
    ALIASED,
    ONE_ROOT_ALIASED,
    PLAIN_COLUMNS,
    LITERALS,
    WELFARE_POINTS,
    BY_NAME,
    TEXT,
    CLUSTERS,
    CLUSTERS_FILTERED,
]
NOT_COVERED = [
    FRAGMENT,
    DIRECTIVE,
    COUNTED,
    CLUSTER_ITEMS,
    NESTED,
    REPEATED,
    UNKNOWN_FIELD,
    INTROSPECTION,
]

# (zoom, bbox): the province, the town, a street, and a box across the antimeridian.
VIEWS = [
    (9, {"west": 8.8, "south": 45.5, "east": 9.9, "north": 46.2}),
    (12, {"west": 9.3, "south": 45.80, "east": 9.5, "north": 45.90}),
    (15, {"west": 9.385, "south": 45.850, "east": 9.405, "north": 45.862}),
    (6, {"west": 170.0, "south": -20.0, "east": -170.0, "north": -10.0}),
]

Request = dict[str, Any]
Answer = tuple[int, list[tuple[str, str]], bytes]


def requests() -> list[Request]:
    """Documents and variables, including every kind of refusal the resolver makes."""
    point = {"lat": 45.80, "lon": 9.40}
    out: list[Request] = [
        {"query": NEARBY, "variables": LECCO},
        {"query": NEARBY, "variables": point},
        {"query": NEARBY, "variables": NOWHERE},
        {"query": NEARBY, "variables": LECCO, "operationName": "Nearby"},
        {"query": TWO_OPERATIONS, "variables": LECCO, "operationName": "Nearby"},
        {"query": TWO_OPERATIONS, "variables": {}, "operationName": "Other"},
        {"query": ALIASED, "variables": {"near": LECCO, "r": 3000}},
        {"query": ONE_ROOT_ALIASED, "variables": {"near": LECCO, "r": 3000, "n": 3}},
        {"query": ONE_ROOT_ALIASED, "variables": {"near": NOWHERE, "r": 500}},
        {"query": ONE_ROOT_ALIASED, "variables": {"near": point}},
        {"query": PLAIN_COLUMNS, "variables": {"near": LECCO, "r": 3000, "n": 8}},
        {"query": PLAIN_COLUMNS, "variables": {"near": point}},
        {"query": PLAIN_COLUMNS, "variables": {"near": NOWHERE, "r": 500}},
        {"query": LITERALS},
        {"query": WELFARE_POINTS, "variables": LECCO},
        {"query": BY_NAME, "variables": {"n": 4}},
        {"query": BY_NAME},
        {"query": TEXT, "variables": {"t": "assistenza"}},
        *({"query": CLUSTERS, "variables": {**view, "zoom": zoom}} for zoom, view in VIEWS),
        *(
            {"query": CLUSTERS_FILTERED, "variables": {"bbox": view, "zoom": zoom, "filter": f}}
            for zoom, view in VIEWS[:2]
            for f in ({"delivery": ["AT_HOME"]}, {"categories": ["badante"]}, {"age": 80})
        ),
        # Refusals: bad values, bad variables, a bad cursor, over the page size, no words.
        {"query": ONE_ROOT_ALIASED, "variables": {"near": LECCO, "r": -5}},
        {"query": ONE_ROOT_ALIASED, "variables": {"near": {"lat": 95, "lon": 9}}},
        {"query": ONE_ROOT_ALIASED, "variables": {"near": LECCO, "after": "nope"}},
        {"query": ONE_ROOT_ALIASED, "variables": {"near": LECCO, "n": 1000}},
        {"query": ONE_ROOT_ALIASED, "variables": {"near": "here"}},
        {"query": ONE_ROOT_ALIASED, "variables": {}},
        {"query": NEARBY, "variables": {"lat": "45", "lon": 9.4}},
        {"query": TEXT, "variables": {"t": "   "}},
        {"query": TEXT, "variables": {"t": "il la di"}},
        {"query": NEARBY, "variables": LECCO, "operationName": "Missing"},
        {"query": CLUSTERS, "variables": {**VIEWS[0][1], "zoom": 23}},
        {"query": CLUSTERS, "variables": {**VIEWS[0][1], "north": 45.0}},
        {"query": CLUSTERS, "variables": {**VIEWS[2][1], "zoom": 16}},
        {"query": CLUSTERS, "variables": {**VIEWS[2][1], "zoom": 8}},
        {"query": CLUSTERS_FILTERED, "variables": {"bbox": VIEWS[0][1], "zoom": 12}},
        {
            "query": CLUSTERS_FILTERED,
            "variables": {"bbox": VIEWS[0][1], "zoom": 12, "filter": {"categories": ["nope"]}},
        },
        # Over the limits: refused before validation, on either path.
        {"query": "{ providers(first: 1) { edges { node { " + "id " * 9 + "} } } }"},
        {"query": ONE_ROOT_ALIASED, "variables": {"near": LECCO, "n": 100}},
    ]
    out += [{"query": query, "variables": {**LECCO, "yes": True}} for query in NOT_COVERED]
    return out


async def answer(client: httpx.AsyncClient, request: Request) -> Answer:
    response = await client.post("/graphql", json=request, headers={"x-request-id": "same-id"})
    return response.status_code, list(response.headers.items()), response.content


def test_the_plans_cover_the_plain_documents_and_no_others() -> None:
    plans = Plans(build_schema(), 2000)
    for query in COVERED:
        assert plans.get(query, None) is not None, query
    assert plans.get(TWO_OPERATIONS, "Nearby") is not None
    assert plans.get(TWO_OPERATIONS, None) is None  # graphql-core: which one?
    for query in NOT_COVERED:
        assert plans.get(query, None) is None, query


def test_a_plan_says_what_it_reads_of_each_type() -> None:
    # Given the plans of a page of two fields and of one that reads a cursor
    plans = Plans(build_schema(), 2000)
    nearby, aliased = plans.get(NEARBY, None), plans.get(ONE_ROOT_ALIASED, None)
    assert nearby is not None and aliased is not None
    # Then each names the attributes it reads, and a resolver that reads its object as ALL
    assert nearby.reads["Provider"] == {"id", "name"}
    assert "kind" in aliased.reads["Provider"] and "status" in aliased.reads["Provider"]
    assert ALL in aliased.reads["ProviderEdge"]


async def test_every_answer_is_the_regular_paths_byte_for_byte(
    app_with: Callable[..., Any],
) -> None:
    # Given the two paths on the same data
    async with app_with(compiled_plans=True) as planned, app_with(compiled_plans=False) as plain:
        # When every request goes to both, pages followed by their end cursor too
        found = 0
        for request in requests():
            got, expected = await answer(planned, request), await answer(plain, request)
            # Then the answers are the same
            assert got == expected, request
            found += got[2].count(b'"id"')
        cursor = None
        pages = 0
        while pages < 6:
            variables = {"near": LECCO, "r": 2500, "n": 4, "after": cursor}
            request = {"query": ONE_ROOT_ALIASED, "variables": variables}
            got, expected = await answer(planned, request), await answer(plain, request)
            assert got == expected
            page = json.loads(got[2])["data"]["p"]
            cursor = page["pageInfo"]["endCursor"]
            pages += 1
            if not page["pageInfo"]["hasNextPage"]:
                break
    # The oracle saw real pages, several of them, not empty answers only
    assert found > 100
    assert pages >= 3


async def test_the_plan_of_the_map_clusters_answers_them_itself(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    app_with: Callable[..., Any],
) -> None:
    # Given the plan of the map's document and a request's context
    schema = build_schema()
    plan = Plans(schema, 2000).get(CLUSTERS, None)
    assert plan is not None
    context = Context(settings=settings, sessionmaker=sessionmaker, engine=engine)
    clusters = 0
    async with app_with(compiled_plans=False) as plain:
        for zoom, view in VIEWS[:3]:
            variables = {**view, "zoom": zoom}
            # When the plan runs (it raises NotCovered when it cannot answer)
            data = await plan.run(schema, context, variables)
            # Then its answer is the regular path's data, clusters and all
            request = {"query": CLUSTERS, "variables": variables}
            response = await plain.post("/graphql", json=request)
            assert data == response.json()["data"]
            clusters += len(data["mapClusters"])
    assert clusters > 20


async def test_an_operation_a_plan_hands_on_is_charged_once(
    app_with: Callable[..., Any],
) -> None:
    query = NEARBY
    # Given a limit of three nearby pages a minute (20 each), per path and address
    async with app_with(address(), rate_limit_anonymous=60, compiled_plans=True) as planned:
        # When a plan charges an operation and hands it on (a bad variable)
        bad = await planned.post("/graphql", json={"query": query, "variables": {"lat": 95}})
        # Then it is refused, and charged once: two more pages pass, the fourth is refused
        assert bad.status_code == 200 and bad.json()["errors"]
        statuses = []
        for _ in range(3):
            response = await planned.post("/graphql", json={"query": query, "variables": LECCO})
            statuses.append(response.status_code)
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 429


async def test_a_refusal_of_the_rate_limit_is_the_regular_paths(
    app_with: Callable[..., Any],
) -> None:
    # Given two addresses, one per path, each allowed 30 points a minute
    answers = []
    for plans in (True, False):
        async with app_with(address(), rate_limit_anonymous=30, compiled_plans=plans) as client:
            first = await answer(client, {"query": NEARBY, "variables": LECCO})
            second = await answer(client, {"query": NEARBY, "variables": LECCO})
        answers.append((first, second))
    (planned_first, planned_second), (plain_first, plain_second) = answers
    # Then the first page is the same, and so is the refusal of the second (429)
    assert planned_first == plain_first
    assert planned_first[0] == 200
    assert planned_second[0] == plain_second[0] == 429
    assert planned_second[1] == plain_second[1]
    assert planned_second[2] == plain_second[2]


async def test_the_log_line_of_a_planned_answer_is_the_regular_paths(
    app_with: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    # Given both paths, and requests named, unnamed and refused
    sent = [
        {"query": NEARBY, "variables": LECCO},
        {"query": ONE_ROOT_ALIASED, "variables": {"near": LECCO}},
        {"query": ONE_ROOT_ALIASED, "variables": {"near": LECCO, "r": -1}},
    ]
    lines: dict[bool, list[dict[str, Any]]] = {}
    for plans in (True, False):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="ambrogio.access"):
            async with app_with(compiled_plans=plans) as client:
                for request in sent:
                    await answer(client, request)
        lines[plans] = [
            {k: v for k, v in record.fields.items() if k != "durationMs"}  # type: ignore[attr-defined]
            for record in caplog.records
            if record.name == "ambrogio.access"
        ]
    # Then each request's line says the same: operation, caller, cost, errors
    assert len(lines[True]) == len(sent)
    assert lines[True] == lines[False]
    assert [line["operation"] for line in lines[True]] == ["Nearby", "anonymous", "anonymous"]
    assert lines[True][2]["errors"] == ["BAD_USER_INPUT"]


def test_the_compiled_conversion_of_arguments_is_strawberrys() -> None:
    # Given the plan of a root field and argument values as graphql-core coerces them
    schema = build_schema()
    plan = Plans(schema, 2000).get(ONE_ROOT_ALIASED, None)
    assert plan is not None
    given = [
        {"near": {"lat": 45.85, "lon": 9.39}, "radiusMeters": 2000.0, "first": 20},
        {"near": {"lat": -1.5, "lon": 0.0}, "radiusMeters": None, "first": 3, "after": "x"},
        {"near": None, "first": 20},
        {"first": 20, "text": "badante"},
        {"near": None, "radiusMeters": None, "text": None, "filter": None, "orderBy": None},
        {},
    ]
    for raw in given:
        # When both convert them
        compiled = plan.convert(raw)
        expected = convert_arguments(
            raw,
            plan.field.arguments,
            scalar_registry=schema.schema_converter.scalar_registry,
            config=schema.config,
        )
        # Then they agree, input objects and their types included
        assert compiled == expected, raw
        assert [type(v) for v in compiled.values()] == [type(v) for v in expected.values()]
    # and a filter (a list of enums inside) or an order (an enum) is left to strawberry
    assert plan.convert({"filter": {"delivery": ["AT_HOME"]}, "first": 2}) is None
    assert plan.convert({"orderBy": "NAME"}) is None
