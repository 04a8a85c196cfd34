"""Automatic persisted queries and trusted documents as real clients speak them, against a real
``ambrogio serve``: the requests Apollo Client's ``createPersistedQueryLink({ sha256,
useGETForHashedQueries: true })`` and urql's ``persistedExchange`` send, byte for byte the
shape ``docs/integration.md`` shows.

- Apollo: the hash alone over GET (``extensions`` a URL parameter), ``PersistedQueryNotFound``,
  the retry with the full query over POST, then the hash alone over GET again, cacheable.
- urql: the same over POST (the "POST form"), and with ``preferGetForPersistedQueries`` the
  retry over GET with the full query in the URL.
- A hash that is not the SHA-256 of the query is refused and nothing is kept.
- Trusted documents: a GraphQL Code Generator manifest (``persistedDocuments``, hash →
  document) registered with ``ambrogio documents register``; only its documents run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.servers import serving

APOLLO = {
    "accept": "application/graphql-response+json,application/json;q=0.9",
    "content-type": "application/json",
    "apollo-require-preflight": "true",
}
URQL = {
    "accept": "application/graphql-response+json, application/graphql+json, application/json",
    "x-ambrogio-client": "portale-welfare",
}


def document() -> str:
    """A query no other test has sent (its comment makes its hash new)."""
    return (
        f"# {uuid.uuid4()}\nquery Nearby($first: Int) {{ providers(first: $first) "
        "{ edges { node { id name } } } }"
    )


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


def as_params(body: dict[str, Any]) -> dict[str, str]:
    """A request as GET parameters: objects as JSON text, as both clients encode them."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}


def not_found(response: httpx.Response) -> bool:
    """What both clients check to retry: the message, or the code."""
    errors = response.json().get("errors") or []
    return any(
        e.get("message") == "PersistedQueryNotFound"
        or e.get("extensions", {}).get("code") == "PERSISTED_QUERY_NOT_FOUND"
        for e in errors
    )


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(db_url, tmp_path_factory.mktemp("persisted-clients")) as (port,):
        yield f"http://127.0.0.1:{port}/graphql"


async def test_apollo_hash_over_get_miss_then_post_then_get_hit(server: str) -> None:
    text = document()
    hashed = {"operationName": "Nearby", "variables": {"first": 3}, "extensions": persisted(text)}
    async with httpx.AsyncClient(timeout=10) as http:
        miss = await http.get(server, params=as_params(hashed), headers=APOLLO)
        retry = await http.post(server, json={**hashed, "query": text}, headers=APOLLO)
        hit = await http.get(server, params=as_params(hashed), headers=APOLLO)
        again = await http.get(
            server,
            params=as_params(hashed),
            headers={**APOLLO, "if-none-match": hit.headers["etag"]},
        )

    assert miss.status_code == 200 and not_found(miss), miss.text
    assert miss.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert retry.status_code == 200 and "errors" not in retry.json(), retry.text
    assert len(retry.json()["data"]["providers"]["edges"]) == 3
    assert hit.status_code == 200 and hit.json()["data"] == retry.json()["data"]
    assert hit.headers["cache-control"].startswith("public, max-age=")
    assert again.status_code == 304 and again.content == b""


async def test_urql_post_form_miss_then_retry_then_hit(server: str) -> None:
    text = document()
    hashed = {"operationName": "Nearby", "variables": {"first": 2}, "extensions": persisted(text)}
    async with httpx.AsyncClient(timeout=10) as http:
        miss = await http.post(server, json=hashed, headers=URQL)
        extensions = {"persistedQuery": {**hashed["extensions"]["persistedQuery"], "miss": True}}
        retry = await http.post(
            server, json={**hashed, "extensions": extensions, "query": text}, headers=URQL
        )
        hit = await http.post(server, json=hashed, headers=URQL)

    assert not_found(miss), miss.text
    assert "errors" not in retry.json() and len(retry.json()["data"]["providers"]["edges"]) == 2
    assert hit.json()["data"] == retry.json()["data"]


async def test_urql_prefer_get_retries_over_get_with_the_query(server: str) -> None:
    text = document()
    hashed = {"operationName": "Nearby", "variables": {"first": 1}, "extensions": persisted(text)}
    async with httpx.AsyncClient(timeout=10) as http:
        miss = await http.get(server, params=as_params(hashed), headers=URQL)
        # urql marks its retry: the query goes with it, and so does ``miss``
        extensions = {"persistedQuery": {**hashed["extensions"]["persistedQuery"], "miss": True}}
        marked = {**hashed, "extensions": extensions, "query": text}
        retry = await http.get(server, params=as_params(marked), headers=URQL)
        hit = await http.get(server, params=as_params(hashed), headers=URQL)

    assert not_found(miss), miss.text
    assert "errors" not in retry.json(), retry.text
    assert retry.headers.get("etag") is None, "a GET with its query text is not a persisted GET"
    assert hit.json()["data"] == retry.json()["data"]
    assert len(hit.json()["data"]["providers"]["edges"]) == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_hash_that_is_not_the_querys_is_refused(server: str, method: str) -> None:
    text = document()
    body = {"query": text, "variables": {"first": 1}, "extensions": persisted(text + " ")}
    async with httpx.AsyncClient(timeout=10) as http:
        if method == "GET":
            refused = await http.get(server, params=as_params(body), headers=URQL)
        else:
            refused = await http.post(server, json=body, headers=APOLLO)
        later = await http.post(server, json={"extensions": body["extensions"]}, headers=APOLLO)

    assert refused.status_code == 400, refused.text
    (error,) = refused.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "extensions.persistedQuery.sha256Hash"
    assert not_found(later), "nothing was kept under the wrong hash"


async def test_trusted_documents_from_a_codegen_manifest(
    db_url: str, tmp_path: Path, server: str
) -> None:
    registered, other = document(), document()
    # GraphQL Code Generator's client preset, persistedDocuments: {hashAlgorithm: "sha256"}
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({sha256(registered): registered}))
    env = {**os.environ, "DATABASE_URL": db_url}
    command = [sys.executable, "-m", "ambrogio.cli", "documents", "register", str(manifest)]
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "1 newly registered" in done.stdout

    trusted = {"AMBROGIO_PERSISTED_QUERIES": "trusted"}
    with serving(db_url, tmp_path, env=trusted) as (port,):
        url = f"http://127.0.0.1:{port}/graphql"
        variables = {"first": 2}
        async with httpx.AsyncClient(timeout=10) as http:
            by_id = await http.post(
                url,
                json={"documentId": f"sha256:{sha256(registered)}", "variables": variables},
                headers=URQL,
            )
            by_hash = await http.get(
                url,
                params=as_params({"variables": variables, "extensions": persisted(registered)}),
                headers=APOLLO,
            )
            unknown = await http.post(
                url, json={"query": other, "extensions": persisted(other)}, headers=APOLLO
            )

    assert "errors" not in by_id.json() and len(by_id.json()["data"]["providers"]["edges"]) == 2
    assert by_hash.json()["data"] == by_id.json()["data"]
    assert [e["extensions"]["code"] for e in unknown.json()["errors"]] == ["FORBIDDEN"]
