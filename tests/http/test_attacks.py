"""What an attacker sends, over real HTTP to a running server: every request is answered with a
clear coded error (or a proper answer) within a second, never a 5xx, never a traceback or SQL
in a response or in the server's log, and the server is healthy afterwards."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.servers import serving

PREFLIGHT = {"Apollo-Require-Preflight": "true"}
LEAKS = ("Traceback", "sqlalchemy", "asyncpg", "SELECT ", "INSERT ", "psycopg", 'File "')
# lower case: the server's own SQL (upper case) is what the leak check looks for; an error
# quoting the value back is fine
SQL_LOOKING = ["' or '1'='1' --", "x'); drop table organization; --", "1 union select null --"]
INTROSPECTION = """{ __schema { queryType { name } mutationType { name } types { kind name
  fields(includeDeprecated: true) { name args { name type { ...T } } type { ...T } }
  inputFields { name type { ...T } } enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"""


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    logs = tmp_path_factory.mktemp("attacks")
    with serving(db_url, logs) as (port,):
        yield f"http://127.0.0.1:{port}", logs / f"serve-{port}.log"


@pytest.fixture(scope="module")
def http(server: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0], timeout=10) as client:
        yield client


def answered(response: httpx.Response, *codes: str, status: int | None = None) -> dict[str, Any]:
    """The response's body, after checking the rules every answer to an attack meets."""
    assert response.status_code < 500, response.text[:500]
    assert response.elapsed.total_seconds() < 1, response.request.url
    if status is not None:
        assert response.status_code == status, response.text[:500]
    for leak in LEAKS:
        assert leak not in response.text
    body: dict[str, Any] = response.json()
    errors = body.get("errors") or []
    assert all(error.get("extensions", {}).get("code") for error in errors), errors
    assert "INTERNAL_SERVER_ERROR" not in {e["extensions"]["code"] for e in errors}
    if codes:
        assert {e["extensions"]["code"] for e in errors} <= set(codes), errors
        assert errors, body
    return body


def post(http: httpx.Client, query: str, **variables: Any) -> httpx.Response:
    return http.post("/graphql", json={"query": query, "variables": variables})


def nested(levels: int, leaf: str = "name") -> str:
    inner = leaf
    for level in range(levels):
        inner = f"services {{ {inner} }}" if level % 2 == 0 else f"provider {{ {inner} }}"
    return f"{{ providers(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"


def of_types(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"ofType {{ {inner} }}"
    return f'{{ __type(name: "Provider") {{ {inner} }} }}'


# --- documents that ask for too much --------------------------------------------------------

DOCUMENTS = {
    "depth 50 through schema cycles": nested(50),
    "depth 52 in introspection": of_types(50),
    "1,000 aliases": "{ "
    + " ".join(f"a{i}: providers {{ totalCount }}" for i in range(1000))
    + " }",
    "10,000 duplicated fields": "{ providers { " + "totalCount " * 10_000 + "} }",
    "first: 1000000": "{ providers(first: 1000000) { edges { node { name } } } }",
    "nested page sizes": (
        "{ providers(first: 100) { edges { node { services { categories { children { "
        "children { slug } } } } } } } }"
    ),
    "a fragment bomb": "{ ...F9 } fragment F0 on Query { __typename } "
    + " ".join(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 10)),
    "a document nested 5,000 deep": "{ a" + " { a" * 5000 + " }" * 5001,
}


@pytest.mark.parametrize("document", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_documents_over_the_limits(http: httpx.Client, document: str) -> None:
    body = answered(post(http, document), "QUERY_TOO_COMPLEX")
    assert body.get("data") is None


def test_circular_fragments(http: httpx.Client) -> None:
    document = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    answered(post(http, document), "GRAPHQL_VALIDATION_FAILED")


# --- bodies that are not one GraphQL request ------------------------------------------------

BODIES = {
    "a string": b'"x"',
    "null": b"null",
    "a number": b"1",
    "an empty array": b"[]",
    "a batch of 1,000": json.dumps([{"query": "{ __typename }"}] * 1000).encode(),
    "truncated JSON": b'{"query": "{ __typename }"',
    "query as a number": b'{"query": 1}',
    "variables as a string": b'{"query": "{ __typename }", "variables": "x"}',
    "extensions as a list": b'{"query": "{ __typename }", "extensions": []}',
    "an array 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "variables 3,000 deep": b'{"query": "{ __typename }", "variables": {"v": '
    + b"[" * 3000
    + b"]" * 3000
    + b"}}",
    "invalid UTF-8": b'{"query": "{ __typename \xff }"}',
    "a 10 MB variable": b'{"query": "{ __typename }", "variables": {"v": "'
    + b"x" * (10 * 1024 * 1024)
    + b'"}}',
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_bodies_that_are_not_one_request(http: httpx.Client, body: bytes) -> None:
    response = http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    answered(response, "BAD_USER_INPUT")
    assert response.status_code in (400, 413)


def test_nul_bytes_in_variables_and_literals(http: httpx.Client) -> None:
    query = "query ($t: String) { services(text: $t) { totalCount } }"
    by_variable = answered(post(http, query, t="fisio\x00"), "BAD_USER_INPUT", status=400)
    by_literal = answered(
        post(http, '{ services(text: "fisio\\u0000") { totalCount } }'), "BAD_USER_INPUT"
    )
    assert by_variable["errors"][0]["extensions"]["field"] == "t"
    assert by_literal["errors"][0]["extensions"]["field"] == "text"


@pytest.mark.parametrize(
    ("method", "content_type", "status"),
    [
        ("POST", "application/xml", 415),
        ("POST", "application/graphql", 415),
        ("GET", "text/plain", 415),
        ("POST", "text/plain", 400),
        ("POST", "application/x-www-form-urlencoded", 400),
        ("POST", "multipart/form-data; boundary=x", 400),
    ],
)
def test_wrong_and_simple_content_types(
    http: httpx.Client, method: str, content_type: str, status: int
) -> None:
    mutation = json.dumps({"query": 'mutation { revokeApiKey(id: "x") { id } }'})
    response = http.request(
        method,
        "/graphql",
        content=mutation if method == "POST" else None,
        params={"query": "{ __typename }"} if method == "GET" else None,
        headers={"Content-Type": content_type},
    )
    answered(response, "BAD_USER_INPUT", status=status)


def test_a_mutation_over_get(http: httpx.Client) -> None:
    query = 'mutation { cancelReservation(reservationId: "x", idempotencyKey: "k") { id } }'
    response = http.get("/graphql", params={"query": query})
    answered(response, "BAD_USER_INPUT", status=405)
    assert response.headers["allow"] == "POST"


# --- multipart abuse ------------------------------------------------------------------------

IMPORT = (
    'mutation ($file: Upload!) { importProviders(file: $file, format: GEOJSON, source: "x") '
    "{ created } }"
)
OPERATIONS = json.dumps({"query": IMPORT, "variables": {"file": None}})
MULTIPART = {
    "operations not JSON": ({"operations": "{", "map": '{"0": ["variables.file"]}'}, 1),
    "map as a list": ({"operations": OPERATIONS, "map": '["variables.file"]'}, 1),
    "a path outside the upload": ({"operations": OPERATIONS, "map": '{"0": ["query"]}'}, 1),
    "a path to nowhere": ({"operations": OPERATIONS, "map": '{"0": ["variables.x.y"]}'}, 1),
    "a file the map does not name": (
        {"operations": OPERATIONS, "map": '{"9": ["variables.file"]}'},
        1,
    ),
    "200 files": (
        {
            "operations": OPERATIONS,
            "map": json.dumps({str(i): ["variables.file"] for i in range(200)}),
        },
        200,
    ),
}


@pytest.mark.parametrize(("parts", "files"), MULTIPART.values(), ids=MULTIPART.keys())
def test_multipart_abuse(http: httpx.Client, parts: dict[str, str], files: int) -> None:
    uploads = {str(i): (f"f{i}.geojson", b"{}", "application/json") for i in range(files)}
    response = http.post("/graphql", data=parts, files=uploads, headers=PREFLIGHT)
    answered(response, "BAD_USER_INPUT", "UNAUTHENTICATED", "FORBIDDEN")
    assert 400 <= response.status_code < 500 or response.json().get("data") is None


# --- every argument of the schema, with hostile values ---------------------------------------


def _named(ref: dict[str, Any]) -> tuple[str, str, bool]:
    """(kind, name, required) of an introspected type reference, lists unwrapped."""
    required = ref["kind"] == "NON_NULL"
    while ref.get("ofType"):
        ref = ref["ofType"]
    return ref["kind"], ref["name"], required


def _plain(kind: str, name: str, types: dict[str, Any], depth: int = 0) -> Any:
    """A value of the type that passes coercion, for the arguments not under attack."""
    if kind == "ENUM":
        return types[name]["enumValues"][0]["name"]
    if kind == "INPUT_OBJECT":
        if depth > 3:
            return {}
        return {
            field["name"]: _plain(*_named(field["type"])[:2], types, depth + 1)
            for field in types[name]["inputFields"]
            if _named(field["type"])[2]
        }
    return {
        "Int": 1,
        "Float": 45.85,
        "Boolean": True,
        "DateTime": "2026-12-02T10:00:00+01:00",
        "Date": "2026-12-02",
        "JSON": {},
    }.get(name, "x")


def _hostile(name: str) -> list[Any]:
    if name == "Float":
        return [1e308, -1e308, "NaN", "Infinity"]
    if name == "Int":
        return [2**31, -(2**31) - 1, 2**53]
    if name == "Boolean":
        return ["true"]
    return SQL_LOOKING


def _cases(http: httpx.Client) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(root field, argument path, variables) for each scalar argument (and each scalar field
    of an input argument), with each hostile value."""
    schema = http.post("/graphql", json={"query": INTROSPECTION}).json()["data"]["__schema"]
    types = {t["name"]: t for t in schema["types"]}
    for root in (schema["queryType"]["name"], schema["mutationType"]["name"]):
        for field in types[root]["fields"]:
            plain = {a["name"]: _plain(*_named(a["type"])[:2], types) for a in field["args"]}
            for argument in field["args"]:
                kind, name, _ = _named(argument["type"])
                targets: list[tuple[str, list[str], str]] = []
                if kind == "INPUT_OBJECT":
                    for inner in types[name]["inputFields"]:
                        inner_kind, inner_name, _ = _named(inner["type"])
                        if inner_kind == "SCALAR":
                            targets.append((inner_name, [argument["name"], inner["name"]], ""))
                elif kind == "SCALAR" and name != "Upload":
                    targets.append((name, [argument["name"]], ""))
                for scalar, path, _ in targets:
                    for value in _hostile(scalar):
                        variables = json.loads(json.dumps(plain))
                        holder = variables
                        for step in path[:-1]:
                            holder = holder.setdefault(step, {})
                        holder[path[-1]] = value
                        yield root, field["name"], {"path": ".".join(path), "vars": variables}


def _document(root: str, field: dict[str, Any], types: dict[str, Any]) -> str:
    declared = ", ".join(f"${a['name']}: {_type_text(a['type'])}" for a in field["args"])
    passed = ", ".join(f"{a['name']}: ${a['name']}" for a in field["args"])
    kind = _named(field["type"])[0]
    selection = " { __typename }" if kind in ("OBJECT", "INTERFACE", "UNION") else ""
    operation = "query" if root == "Query" else "mutation"
    head = f"{operation} ({declared})" if declared else operation
    call = f"{field['name']}({passed})" if passed else field["name"]
    return f"{head} {{ {call}{selection} }}"


def _type_text(ref: dict[str, Any]) -> str:
    if ref["kind"] == "NON_NULL":
        return _type_text(ref["ofType"]) + "!"
    if ref["kind"] == "LIST":
        return f"[{_type_text(ref['ofType'])}]"
    return str(ref["name"])


def test_hostile_values_in_every_argument(http: httpx.Client) -> None:
    schema = http.post("/graphql", json={"query": INTROSPECTION}).json()["data"]["__schema"]
    types = {t["name"]: t for t in schema["types"]}
    fields = {(root, f["name"]): f for root in ("Query", "Mutation") for f in types[root]["fields"]}
    sent = 0
    for root, name, case in _cases(http):
        document = _document(root, fields[(root, name)], types)
        raw = json.dumps({"query": document, "variables": case["vars"]})
        # NaN and Infinity as JSON numbers, as a careless client would send them
        raw = raw.replace('"NaN"', "NaN").replace('"Infinity"', "Infinity")
        response = http.post("/graphql", content=raw, headers={"Content-Type": "application/json"})
        answered(response)
        sent += 1
    assert sent > 200  # the schema's arguments were all reached, not an empty loop


# --- afterwards -----------------------------------------------------------------------------


def test_the_server_is_healthy_and_its_log_is_clean(
    http: httpx.Client, server: tuple[str, Path]
) -> None:
    # runs last in this module: every attack above has been sent
    started = time.monotonic()
    body = answered(post(http, "{ providers(first: 2) { edges { node { name } } } }"))
    assert len(body["data"]["providers"]["edges"]) == 2
    assert http.get("/readyz").status_code == 200
    assert time.monotonic() - started < 5
    log = server[1].read_text(errors="replace")
    for leak in LEAKS:
        assert leak not in log, f"{leak!r} in the server log"
    assert "INTERNAL_SERVER_ERROR" not in log
