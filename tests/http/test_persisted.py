"""Persisted operations: automatic persisted queries as Apollo Client sends them, trusted
documents, and the HTTP caching of persisted GETs."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


def document() -> str:
    """A document no other test has sent (its comment makes its hash new)."""
    return (
        f"# {uuid.uuid4()}\nquery Nearby($first: Int) {{ providers(first: $first) "
        "{ edges { node { id name } } } }"
    )


def sha(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def apq(body: str, with_query: bool) -> dict[str, Any]:
    """What Apollo Client's persisted-queries link POSTs: the hash, and the query on a retry."""
    request: dict[str, Any] = {
        "operationName": "Nearby",
        "variables": {"first": 3},
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(body)}},
    }
    if with_query:
        request["query"] = body
    return request


def as_get(body: str) -> dict[str, str]:
    request = apq(body, with_query=False)
    return {
        "operationName": request["operationName"],
        "variables": json.dumps(request["variables"]),
        "extensions": json.dumps(request["extensions"]),
    }


def register(db_url: str, manifest: Path) -> subprocess.CompletedProcess[str]:
    """``ambrogio documents register MANIFEST`` on the test database."""
    env = {**os.environ, "DATABASE_URL": db_url}
    command = [sys.executable, "-m", "ambrogio.cli", "documents", "register", str(manifest)]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


async def test_an_apollo_round_trip_miss_then_full_query_then_hit(
    client: httpx.AsyncClient, app_with: Callable[..., Any]
) -> None:
    body = document()

    miss = await client.post("/graphql", json=apq(body, with_query=False))
    full = await client.post("/graphql", json=apq(body, with_query=True))
    hit = await client.post("/graphql", json=apq(body, with_query=False))
    async with app_with() as another_process:  # its own memory: the document is in PostgreSQL
        elsewhere = await another_process.post("/graphql", json=apq(body, with_query=False))

    assert miss.status_code == 200
    (error,) = miss.json()["errors"]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert full.status_code == 200 and "errors" not in full.json()
    assert len(full.json()["data"]["providers"]["edges"]) == 3
    assert hit.json()["data"] == full.json()["data"]
    assert elsewhere.json()["data"] == full.json()["data"]


async def test_a_hash_that_is_not_the_querys_is_refused(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    body = document()
    request = apq(body, with_query=True)
    request["extensions"]["persistedQuery"]["sha256Hash"] = sha(body + " ")

    response = await client.post("/graphql", json=request)

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    async with engine.connect() as connection:
        kept = await connection.scalar(
            text("SELECT count(*) FROM persisted_document WHERE body = :b"), {"b": body}
        )
    assert kept == 0


async def test_a_document_that_fails_is_not_kept(client: httpx.AsyncClient) -> None:
    body = document().replace("{ id name }", "{ id nameless }")

    failing = await client.post("/graphql", json=apq(body, with_query=True))
    later = await client.post("/graphql", json=apq(body, with_query=False))

    assert failing.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert later.json()["errors"][0]["message"] == "PersistedQueryNotFound"


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not hex"}},
        {"persistedQuery": "abc"},
    ],
)
async def test_malformed_persisted_query_extensions_are_a_400(
    client: httpx.AsyncClient, extensions: dict[str, Any]
) -> None:
    response = await client.post("/graphql", json={"extensions": extensions})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["field"].startswith(
        "extensions.persistedQuery"
    )


async def test_a_persisted_get_carries_an_etag_and_answers_304(client: httpx.AsyncClient) -> None:
    body = document()
    assert (await client.post("/graphql", json=apq(body, with_query=True))).status_code == 200

    first = await client.get("/graphql", params=as_get(body))
    again = await client.get(
        "/graphql", params=as_get(body), headers={"If-None-Match": first.headers["etag"]}
    )
    signed = await client.get(
        "/graphql", params=as_get(body), headers={"Authorization": "Bearer nonsense"}
    )
    plain = await client.get("/graphql", params={"query": "{ __typename }"})

    assert first.status_code == 200 and len(first.json()["data"]["providers"]["edges"]) == 3
    assert first.headers["cache-control"] == "public, max-age=60"
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert signed.headers["cache-control"] == "no-store"  # an error is never cached
    assert "etag" not in plain.headers


async def test_trusted_mode_runs_registered_documents_only(
    app_with: Callable[..., Any], db_url: str, tmp_path: Path, engine: AsyncEngine
) -> None:
    registered, other = document(), document()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [
                    {"id": sha(registered), "name": "Nearby", "type": "query", "body": registered}
                ],
            }
        )
    )
    done = await asyncio.to_thread(register, db_url, manifest)
    assert done.returncode == 0, done.stderr
    assert "1 newly registered" in done.stdout

    async with app_with(persisted_queries="trusted") as trusted:
        by_id = await trusted.post(
            "/graphql",
            json={"documentId": f"sha256:{sha(registered)}", "variables": {"first": 2}},
        )
        by_hash = await trusted.post("/graphql", json=apq(registered, with_query=False))
        in_full = await trusted.post("/graphql", json={"query": registered})
        free = await trusted.post("/graphql", json={"query": other})
        learning = await trusted.post("/graphql", json=apq(other, with_query=True))

    assert len(by_id.json()["data"]["providers"]["edges"]) == 2
    assert len(by_hash.json()["data"]["providers"]["edges"]) == 3
    assert in_full.json()["data"] is not None
    for refused in (free, learning):
        assert [e["extensions"]["code"] for e in refused.json()["errors"]] == ["FORBIDDEN"]
    async with engine.connect() as connection:
        kept = await connection.scalar(
            text("SELECT count(*) FROM persisted_document WHERE body = :b"), {"b": other}
        )
    assert kept == 0, "trusted mode stores nothing a client sends"


def test_a_manifest_with_a_wrong_hash_registers_nothing(db_url: str, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"0" * 64: "{ __typename }"}))
    done = register(db_url, manifest)
    assert done.returncode == 2
    assert "is not the SHA-256 of its document" in done.stderr
