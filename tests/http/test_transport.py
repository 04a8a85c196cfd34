"""The transport rules of ``/graphql`` (``ambrogio.http.transport``): malformed bodies, nesting,
NUL bytes and lone surrogates, CSRF, GET; each refused with a coded JSON error, never a 5xx."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.app import build_app
from ambrogio.http.transport import bad_character
from ambrogio.ids import to_global_id
from ambrogio.settings import Environment, Settings

JSON = {"content-type": "application/json"}
PREFLIGHT = {"Apollo-Require-Preflight": "true"}
TYPENAME = '{"query": "{ __typename }"}'
RESERVE = 'mutation($slot: ID!) { reserveSlot(slotId: $slot, idempotencyKey: "csrf") { id } }'


def refused(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is a GraphQL-shaped JSON error with this status (and field)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text and "SELECT" not in response.text
    body = response.json()
    assert "data" not in body or body["data"] is None
    (error,) = body["errors"]
    assert error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    if field is not None:
        assert error["extensions"]["field"] == field, error
    result: dict[str, Any] = error
    return result


def nested(levels: int, leaf: str = "1") -> str:
    return "[" * levels + leaf + "]" * levels


def nested_object(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


@pytest.fixture
async def slot(engine: AsyncEngine) -> AsyncIterator[uuid.UUID]:
    """A bookable slot of a published service, to show that a refused mutation never ran."""
    made = uuid.uuid4()
    start = datetime.now(UTC) + timedelta(days=1)
    async with engine.begin() as conn:
        service = await conn.scalar(
            text(
                "SELECT s.id FROM service s JOIN organization o ON o.id = s.organization_id"
                " WHERE s.status = 'published' AND o.status = 'published' ORDER BY s.id LIMIT 1"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO slot (id, service_id, starts_at, ends_at, capacity, status, source,"
                " external_id) VALUES (:id, :service, :start, :end, 5, 'open', 'test-transport',"
                " :ext)"
            ),
            {
                "id": made,
                "service": service,
                "start": start,
                "end": start + timedelta(hours=1),
                "ext": str(made),
            },
        )
    yield made
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM reservation WHERE slot_id = :id"), {"id": made})
        await conn.execute(text("DELETE FROM slot WHERE id = :id"), {"id": made})
        await conn.execute(text("DELETE FROM idempotency_key WHERE key = 'csrf'"))


async def taken(engine: AsyncEngine, slot: uuid.UUID) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT taken FROM slot WHERE id = :id"), {"id": slot}))


# --- JSON bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('"x"', "body"),
        ("null", "body"),
        ("42", "body"),
        ("true", "body"),
        ("{", "body"),
        ("", "body"),
        ("\xff\xfe", "body"),
        (nested(100_000), "body"),
        (nested_object(5_000), "body"),
        ('{"query": 5}', "query"),
        ('{"query": "{ __typename }", "variables": "x"}', "variables"),
        ('{"query": "{ __typename }", "variables": [1]}', "variables"),
        ('{"query": "{ __typename }", "operationName": {}}', "operationName"),
        ('{"query": "{ __typename }", "extensions": 1}', "extensions"),
    ],
)
async def test_a_body_that_is_not_one_request_object_is_a_400(
    client: httpx.AsyncClient, body: str, field: str
) -> None:
    response = await client.post("/graphql", content=body.encode("latin-1"), headers=JSON)

    refused(response, 400, field)


async def test_a_batch_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=f"[{TYPENAME}, {TYPENAME}]", headers=JSON)

    assert "batched" in refused(response, 400)["message"]


async def test_deeply_nested_variables_are_a_400_not_a_recursion_error(
    client: httpx.AsyncClient,
) -> None:
    query = "query($f: ServiceFilter) { services(filter: $f, first: 1) { totalCount } }"
    body = f'{{"query": {json.dumps(query)}, "variables": {{"f": {nested_object(3_000)}}}}}'

    response = await client.post("/graphql", content=body, headers=JSON)

    assert "nested deeper than" in refused(response, 400, "body")["message"]


async def test_nesting_within_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    # guard: the depth limit does not refuse an ordinary request; the bad variable below
    # is GraphQL's to refuse (a 200 with its validation error), not the transport's
    query = "query($f: ServiceFilter) { services(filter: $f, first: 1) { totalCount } }"
    body = {"query": query, "variables": {"f": {"categories": ["badante"]}}}

    response = await client.post("/graphql", json=body)

    assert response.status_code == 200
    assert response.json()["data"]["services"]["totalCount"] >= 1


async def test_a_body_over_the_limit_is_a_413(client: httpx.AsyncClient) -> None:
    big = {"query": "{ __typename }", "variables": {"x": "a" * (2 * 1024 * 1024)}}

    response = await client.post("/graphql", content=json.dumps(big), headers=JSON)

    refused(response, 413, "body")


async def test_strawberrys_own_refusals_come_as_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"variables": {}})

    assert "query" in refused(response, 400)["message"].lower()


# --- text PostgreSQL cannot store --------------------------------------------------------------

SEARCH = "query($t: String) { services(text: $t, first: 1) { totalCount } }"
FILTERED = "query($f: ServiceFilter) { services(filter: $f, first: 1) { totalCount } }"


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (SEARCH, {"t": "fisio\x00"}, "t"),
        (SEARCH, {"t": "fisio\ud800"}, "t"),
        (SEARCH, {"t": "\udfff"}, "t"),
        (FILTERED, {"f": {"categories": ["badante", "x\x00"]}}, "f.categories.1"),
    ],
)
async def test_nul_and_lone_surrogates_in_variables_name_the_variable(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], field: str
) -> None:
    body = json.dumps({"query": query, "variables": variables})  # escapes \ud800 as ASCII

    response = await client.post("/graphql", content=body, headers=JSON)

    error = refused(response, 400, field)
    assert "NUL" in error["message"] or "surrogate" in error["message"]
    # the value is quoted with escapes: no NUL or lone surrogate goes back to the client
    value = error["extensions"]["value"]
    assert "\\u" in value
    assert bad_character(value) is None and bad_character(error["message"]) is None


@pytest.mark.parametrize(
    ("literal", "field"),
    [
        ('services(text: "fisio\\u0000", first: 1)', "text"),
        ('services(filter: {categories: ["badante\\u0000"]}, first: 1)', "filter.categories"),
        ('services(text: """block\u0000""", first: 1)', "text"),
    ],
)
async def test_nul_in_a_string_literal_names_the_argument(
    gql: Any, literal: str, field: str
) -> None:
    result = await gql(f"{{ {literal} {{ totalCount }} }}")

    assert result.data is None
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == field
    assert "NUL" in result.errors[0]["message"]
    assert result.errors[0]["extensions"]["value"].endswith("\\u0000")


async def test_nul_in_a_variables_default_names_the_variable(gql: Any) -> None:
    query = 'query($t: String = "fisio\\u0000") { services(text: $t, first: 1) { totalCount } }'

    result = await gql(query)

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == "t"


async def test_a_surrogate_pair_is_ordinary_text(client: httpx.AsyncClient) -> None:
    # guard: an emoji (a valid surrogate pair in JSON) is not a lone surrogate
    body = json.dumps({"query": SEARCH, "variables": {"t": "fisio \U0001f600"}})

    response = await client.post("/graphql", content=body, headers=JSON)

    assert response.status_code == 200 and "errors" not in response.json()


# --- CSRF --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "text/plain; charset=utf-8"]
)
async def test_a_simple_content_type_without_the_preflight_header_is_a_400(
    client: httpx.AsyncClient, engine: AsyncEngine, slot: uuid.UUID, content_type: str
) -> None:
    body = json.dumps({"query": RESERVE, "variables": {"slot": to_global_id("Slot", slot)}})

    response = await client.post("/graphql", content=body, headers={"content-type": content_type})

    assert "Apollo-Require-Preflight" in refused(response, 400, "content-type")["message"]
    assert await taken(engine, slot) == 0


async def test_a_post_without_content_type_needs_the_header(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=TYPENAME)  # httpx sends no content type

    assert "content-type" not in response.request.headers
    refused(response, 400, "content-type")


async def test_with_the_header_a_simple_content_type_is_still_not_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", content=TYPENAME, headers={"content-type": "text/plain", **PREFLIGHT}
    )

    refused(response, 415, "content-type")


async def test_other_content_types_are_a_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content="<q/>", headers={"content-type": "application/xml"}
    )

    refused(response, 415, "content-type")


def multipart(operations: Any, files_map: Any, files: int = 0) -> dict[str, Any]:
    return {
        "data": {
            "operations": operations if isinstance(operations, str) else json.dumps(operations),
            "map": files_map if isinstance(files_map, str) else json.dumps(files_map),
        },
        "files": {str(i): (f"f{i}.txt", b"x", "text/plain") for i in range(files)} or None,
    }


async def test_a_multipart_mutation_without_the_header_never_runs(
    client: httpx.AsyncClient, engine: AsyncEngine, slot: uuid.UUID
) -> None:
    operations = {"query": RESERVE, "variables": {"slot": to_global_id("Slot", slot)}}
    form = multipart(operations, {}, files=1)

    without = await client.post("/graphql", data=form["data"], files=form["files"])
    assert await taken(engine, slot) == 0
    with_header = await client.post(
        "/graphql", data=form["data"], files=form["files"], headers={"X-Ambrogio-Client": "t"}
    )

    refused(without, 400, "content-type")
    # guard: the same request with the header does run
    assert with_header.status_code == 200, with_header.text
    assert with_header.json()["data"]["reserveSlot"]["id"]
    assert await taken(engine, slot) == 1


UPLOAD = {"query": "mutation($file: Upload!) { __typename }", "variables": {"file": None}}


@pytest.mark.parametrize(
    ("operations", "files_map", "field"),
    [
        (UPLOAD, '[["variables.file"]]', "map"),
        (UPLOAD, "null", "map"),
        (UPLOAD, "{", "map"),
        (UPLOAD, {"0": "variables.file"}, "map"),
        (UPLOAD, {"0": []}, "map"),
        (UPLOAD, {"7": ["variables.file"]}, "map"),
        (UPLOAD, {"0": ["query"]}, "map"),
        (UPLOAD, {"0": ["variables.missing"]}, "map"),
        (UPLOAD, {"0": ["variables.file.deeper"]}, "map"),
        ("{", {"0": ["variables.file"]}, "operations"),
        ("[1]", {"0": ["variables.file"]}, None),
        ('"x"', {"0": ["variables.file"]}, "operations"),
        (nested(50_000), {"0": ["variables.file"]}, "operations"),
        (
            {"query": "{ __typename }", "variables": {"file": None, "t": "a\x00"}},
            {"0": ["variables.file"]},
            "t",
        ),
    ],
)
async def test_a_bad_multipart_request_is_a_400(
    client: httpx.AsyncClient, operations: Any, files_map: Any, field: str | None
) -> None:
    form = multipart(operations, files_map, files=1)

    response = await client.post(
        "/graphql", data=form["data"], files=form["files"], headers=PREFLIGHT
    )

    refused(response, 400, field)


async def test_a_multipart_request_without_its_parts_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", files={"0": ("f.txt", b"x", "text/plain")}, headers=PREFLIGHT
    )

    refused(response, 400, "operations")


# --- GET ---------------------------------------------------------------------------------------


async def test_get_runs_queries(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ __typename }"})

    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


async def test_get_never_runs_a_mutation(
    client: httpx.AsyncClient, engine: AsyncEngine, slot: uuid.UUID
) -> None:
    params = {"query": RESERVE, "variables": json.dumps({"slot": to_global_id("Slot", slot)})}

    response = await client.get("/graphql", params=params)

    refused(response, 405, "query")
    assert response.headers["allow"] == "POST"
    assert await taken(engine, slot) == 0


async def test_get_with_a_non_json_content_type_is_a_415(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"content-type": "text/plain"}
    )

    refused(response, 415, "content-type")


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        (nested_object(3_000), "variables"),
        ("[1]", "variables"),
        ("{", "variables"),
        ('{"t": "fisio\\u0000"}', "t"),
    ],
)
async def test_get_variables_are_checked_too(
    client: httpx.AsyncClient, variables: str, field: str
) -> None:
    response = await client.get("/graphql", params={"query": SEARCH, "variables": variables})

    refused(response, 400, field)


async def test_without_graphiql_the_page_is_a_coded_404(
    settings: Settings, engine: AsyncEngine
) -> None:
    production = settings.model_copy(
        update={"env": Environment.PRODUCTION, "token_secret": "s" * 48}
    )
    app = build_app(production, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ambrogio.test") as c:
            page = await c.get("/graphql", headers={"accept": "text/html"})
            query = await c.get("/graphql", params={"query": "{ __typename }"})

    assert page.status_code == 404
    assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert query.json()["data"] == {"__typename": "Query"}
