"""Expiry of unused persisted documents and idle rate buckets: by the server, periodically, and
by ``ambrogio housekeeping``; registered documents are never purged."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.db import housekeeping
from tests.support.servers import serving

QUERY = "{ providers(first: 1) { edges { node { id } } } }"


def body() -> str:
    """A document nobody else stored (its comment makes its hash new)."""
    return f"# {uuid.uuid4()}\n{QUERY}"


def ident(text_: str) -> str:
    return "sha256:" + hashlib.sha256(text_.encode()).hexdigest()


async def seed(engine: AsyncEngine) -> dict[str, str]:
    """Documents and buckets, each old or recent; returns their ids by what they are."""
    rows = {name: body() for name in ("stale", "recent", "registered_stale")}
    keys = {"idle": f"ip:idle-{uuid.uuid4()}", "busy": f"ip:busy-{uuid.uuid4()}"}
    async with engine.begin() as connection:
        for name, text_ in rows.items():
            await connection.execute(
                text(
                    "INSERT INTO persisted_document (id, body, registered, used_at) "
                    "VALUES (:id, :body, :registered, now() - make_interval(days => :days))"
                ),
                {
                    "id": ident(text_),
                    "body": text_,
                    "registered": name.startswith("registered"),
                    "days": 0 if name == "recent" else 45,
                },
            )
        for name, key in keys.items():
            await connection.execute(
                text(
                    "INSERT INTO rate_bucket (key, tokens, updated_at, granted) "
                    "VALUES (:key, 5, now() - make_interval(secs => :idle), true)"
                ),
                {"key": key, "idle": 300 if name == "idle" else 5},
            )
    return {**{name: ident(t) for name, t in rows.items()}, **keys}


async def left(engine: AsyncEngine, ids: dict[str, str]) -> set[str]:
    """Which of the seeded rows are still there."""
    async with engine.connect() as connection:
        documents = set(
            (
                await connection.scalars(
                    text("SELECT id FROM persisted_document WHERE id = ANY(:ids)"),
                    {"ids": list(ids.values())},
                )
            ).all()
        )
        buckets = set(
            (
                await connection.scalars(
                    text("SELECT key FROM rate_bucket WHERE key = ANY(:ids)"),
                    {"ids": list(ids.values())},
                )
            ).all()
        )
    return {name for name, value in ids.items() if value in documents | buckets}


async def test_purge_drops_unused_documents_and_full_buckets_only(engine: AsyncEngine) -> None:
    ids = await seed(engine)

    purged = await housekeeping.purge(engine, retention_days=30)

    assert await left(engine, ids) == {"recent", "registered_stale", "busy"}
    assert purged.documents >= 1 and purged.buckets >= 1


async def test_a_longer_retention_keeps_the_document(engine: AsyncEngine) -> None:
    ids = await seed(engine)
    await housekeeping.purge(engine, retention_days=60)
    assert {"stale", "registered_stale", "recent"} <= await left(engine, ids)


async def test_a_document_in_use_does_not_expire(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ids = await seed(engine)
    digest = ids["stale"].removeprefix("sha256:")

    hit = await client.post(
        "/graphql", json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    )
    await housekeeping.purge(engine, retention_days=30)

    assert hit.status_code == 200 and "errors" not in hit.json(), hit.text
    assert hit.json()["data"]["providers"]["edges"]
    assert "stale" in await left(engine, ids), "running it made it recent"


async def test_the_server_purges_periodically(
    db_url: str, tmp_path: Path, engine: AsyncEngine
) -> None:
    ids = await seed(engine)
    env = {"AMBROGIO_HOUSEKEEPING_INTERVAL_SECONDS": "0.5"}
    with serving(db_url, tmp_path, env=env) as (port,):
        async with httpx.AsyncClient(timeout=10) as http:
            assert (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
        for _ in range(100):
            if "stale" not in await left(engine, ids):
                break
            await asyncio.sleep(0.2)
    assert await left(engine, ids) == {"recent", "registered_stale", "busy"}


async def test_the_command_purges_once(db_url: str, engine: AsyncEngine) -> None:
    ids = await seed(engine)
    env = {**os.environ, "DATABASE_URL": db_url}
    command = [sys.executable, "-m", "ambrogio.cli", "housekeeping", "--days", "40"]

    done = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert "unused for 40 days" in done.stdout
    assert await left(engine, ids) == {"recent", "registered_stale", "busy"}
