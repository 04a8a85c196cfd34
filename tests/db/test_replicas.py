"""Read replicas, with a real streaming replica: a ``pg_basebackup -R`` of a throwaway
primary into a second cluster on its own port, and a real server using both.

Where a request ran is read from the servers themselves: each request's id is its database
connection's ``application_name`` (``ambrogio <id>``), so ``pg_stat_activity`` of the replica
(which ``pg_is_in_recovery()`` says it is) or of the primary names the requests each served.
Callers are told apart by their address (127.0.0.1 and 127.0.0.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ambrogio.db.cluster import LocalCluster
from ambrogio.ids import to_global_id
from tests.support.clusters import fetch, load_catalogue, throwaway
from tests.support.servers import serving

MAX_LAG = 6.0
SERVER_ENV = {
    "AMBROGIO_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG),
    "AMBROGIO_REPLICA_CHECK_SECONDS": "0.3",
    "AMBROGIO_REPLICA_STICKY_SECONDS": "30",
    "AMBROGIO_DB_CONNECT_TIMEOUT_SECONDS": "1",
}
SEATS = """
query Seats($s: ID!, $from: DateTime!, $to: DateTime!) {
  slots(serviceId: $s, from: $from, to: $to) { id remaining }
}
"""
RESERVE = """
mutation Reserve($slot: ID!, $key: String!) {
  reserveSlot(slotId: $slot, idempotencyKey: $key) { id }
}
"""
LIST = "query List { providers(first: 3) { edges { node { id name } } } }"
HSDS_PAGE = "/hsds/organizations?per_page=3"
EXPORT = "/export/catalogue.geojson"
MANY = "query Many { providers(first: 100) { edges { node { id name } } } }"  # costs 100
# No filter, no text, by distance: one prepared statement on the engine's own connections.
NEAR = """
query Near { providers(near: {lat: 45.853, lon: 9.39}, first: 3) {
  edges { node { id name } distanceMeters } } }
"""


@dataclass
class Topology:
    primary: LocalCluster
    replica: LocalCluster
    primary_url: str
    replica_url: str


@pytest.fixture(scope="module")
async def topology(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Topology]:
    with throwaway(tmp_path_factory.mktemp("primary-pg")) as primary:
        primary_url = await load_catalogue(primary)
        with throwaway(tmp_path_factory.mktemp("replica-pg"), replica_of=primary) as replica:
            yield Topology(primary, replica, primary_url, replica.url())


@pytest.fixture(scope="module")
def port(topology: Topology, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    env = {**SERVER_ENV, "AMBROGIO_DATABASE_REPLICA_URLS": topology.replica_url}
    with serving(topology.primary_url, tmp_path_factory.mktemp("replica-logs"), env=env) as (p,):
        yield p


async def ran_on(url: str, request_id: str) -> bool:
    rows = await fetch(
        url, "SELECT 1 FROM pg_stat_activity WHERE application_name = $1", f"ambrogio {request_id}"
    )
    return bool(rows)


class Caller:
    """One client address; each request gets a fresh id, which ``where`` then looks up."""

    def __init__(self, port: int, address: str) -> None:
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.http = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(local_address=address), timeout=20
        )

    async def send(self, query: str, **variables: Any) -> tuple[str, dict[str, Any]]:
        request_id, body = await self.answer(query, **variables)
        return request_id, body["data"]

    async def answer(self, query: str, **variables: Any) -> tuple[str, dict[str, Any]]:
        """The request's id and its whole answer (``extensions``: its cost, ...)."""
        request_id = f"t-{uuid.uuid4().hex[:12]}"
        response = await self.http.post(
            self.url,
            json={"query": query, "variables": variables},
            headers={"X-Request-ID": request_id},
        )
        body: dict[str, Any] = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        assert response.headers["x-request-id"] == request_id
        return request_id, body

    async def get(self, path: str) -> str:
        """A REST route (it must answer 200); its request's id."""
        request_id = f"t-{uuid.uuid4().hex[:12]}"
        response = await self.http.get(
            self.url.removesuffix("/graphql") + path, headers={"X-Request-ID": request_id}
        )
        assert response.status_code == 200, response.text
        assert response.json()  # whole, valid JSON (an export streams)
        return request_id


async def where(topology: Topology, request_id: str) -> str:
    on_replica = await ran_on(topology.replica_url, request_id)
    on_primary = await ran_on(topology.primary_url, request_id)
    assert on_replica != on_primary, f"{request_id}: replica {on_replica}, primary {on_primary}"
    return "replica" if on_replica else "primary"


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.2)


async def test_reads_on_the_replica_writes_on_the_primary_and_read_your_writes(
    topology: Topology, port: int
) -> None:
    recovering = await fetch(topology.replica_url, "SELECT pg_is_in_recovery() AS r")
    assert recovering[0]["r"] is True  # guard: the replica is one
    slot = (
        await fetch(
            topology.primary_url,
            "SELECT id, service_id, capacity - taken AS free FROM slot WHERE status = 'open' "
            "AND starts_at > now() + interval '1 day' AND capacity - taken >= 2 "
            "ORDER BY id LIMIT 1",
        )
    )[0]
    writer, other = Caller(port, "127.0.0.1"), Caller(port, "127.0.0.2")
    start = datetime.now(UTC)
    seats = {
        "s": to_global_id("Service", slot["service_id"]),
        "from": start.isoformat(),
        "to": (start + timedelta(days=60)).isoformat(),
    }

    def remaining(data: dict[str, Any]) -> int:
        by_id = {item["id"]: item["remaining"] for item in data["slots"]}
        return int(by_id[to_global_id("Slot", slot["id"])])

    # Queries go to the replica (the watcher finds it fresh within a check or two).
    await eventually(lambda: _served_by(topology, other, LIST, "replica"))
    request_id, data = await other.send(SEATS, **seats)
    assert await where(topology, request_id) == "replica"
    assert remaining(data) == slot["free"]
    # A nearby page with no filter too: its one statement runs on the replica's engine.
    request_id, data = await other.send(NEAR)
    assert await where(topology, request_id) == "replica"
    assert len(data["providers"]["edges"]) == 3

    # The replica stops replaying: it keeps answering, with what it had.
    await fetch(topology.replica_url, "SELECT pg_wal_replay_pause()")
    try:
        request_id, _ = await writer.send(
            RESERVE, slot=to_global_id("Slot", slot["id"]), key=str(uuid.uuid4())
        )
        assert await where(topology, request_id) == "primary"
        # The writer reads its write (from the primary) ...
        request_id, data = await writer.send(SEATS, **seats)
        assert await where(topology, request_id) == "primary"
        assert remaining(data) == slot["free"] - 1
        # ... another caller reads from the replica, which has not replayed it yet ...
        request_id, data = await other.send(SEATS, **seats)
        assert await where(topology, request_id) == "replica"
        assert remaining(data) == slot["free"]
        # ... until the replica lags by more than the limit: then it is skipped.
        await eventually(lambda: _served_by(topology, other, LIST, "primary"), MAX_LAG * 4)
    finally:
        await fetch(topology.replica_url, "SELECT pg_wal_replay_resume()")
    # Caught up, it is used again, and has the write.
    await eventually(lambda: _served_by(topology, other, LIST, "replica"))
    request_id, data = await other.send(SEATS, **seats)
    assert await where(topology, request_id) == "replica"
    assert remaining(data) == slot["free"] - 1


async def test_rest_routes_read_from_the_replica_and_a_writer_from_the_primary(
    topology: Topology, port: int
) -> None:
    slot = (
        await fetch(
            topology.primary_url,
            "SELECT id FROM slot WHERE status = 'open' AND starts_at > now() + interval '1 day' "
            "AND capacity - taken >= 1 ORDER BY id DESC LIMIT 1",
        )
    )[0]
    writer, other = Caller(port, "127.0.0.6"), Caller(port, "127.0.0.7")
    await eventually(lambda: _served_by(topology, other, LIST, "replica"))
    for path in (HSDS_PAGE, EXPORT):
        assert await where(topology, await writer.get(path)) == "replica", path
    # the writer writes: its REST reads stay on the primary, another caller's do not
    await writer.send(RESERVE, slot=to_global_id("Slot", slot["id"]), key=str(uuid.uuid4()))
    for path in (HSDS_PAGE, EXPORT):
        assert await where(topology, await writer.get(path)) == "primary", path
        assert await where(topology, await other.get(path)) == "replica", path


async def test_a_stopped_replica_is_skipped_with_no_failed_request(
    topology: Topology, port: int
) -> None:
    other = Caller(port, "127.0.0.3")
    await eventually(lambda: _served_by(topology, other, LIST, "replica"))
    await asyncio.to_thread(topology.replica.stop, "immediate")
    try:
        served = []
        for _ in range(30):  # each must succeed (Caller.send asserts it): none fails
            request_id, data = await other.send(LIST)
            assert len(data["providers"]["edges"]) == 3
            served.append(await ran_on(topology.primary_url, request_id))
        assert all(served)
    finally:
        await asyncio.to_thread(topology.replica.start)
    await eventually(lambda: _served_by(topology, other, LIST, "replica"))


async def _served_by(topology: Topology, caller: Caller, query: str, server: str) -> bool:
    request_id, _ = await caller.send(query)
    return await where(topology, request_id) == server


@contextlib.contextmanager
def unwatched(topology: Topology, logs: Path, **env: str) -> Iterator[int]:
    """A server whose watcher looks at the replica once, at start-up: a replica stopped
    afterwards is still taken for fresh, so its first read fails mid-way."""
    env = {
        **SERVER_ENV,
        "AMBROGIO_DATABASE_REPLICA_URLS": topology.replica_url,
        "AMBROGIO_REPLICA_CHECK_SECONDS": "3600",
        **env,
    }
    with serving(topology.primary_url, logs, env=env) as (p,):
        yield p


@pytest.fixture
def unwatched_port(topology: Topology, tmp_path: Path) -> Iterator[int]:
    with unwatched(topology, tmp_path) as p:
        yield p


@pytest.fixture
def metered_port(topology: Topology, tmp_path: Path) -> Iterator[int]:
    """``unwatched_port`` with a rate limit: 10 points a second refill, so a bucket a few
    seconds after a charge of MANY is not full. Each request then also charges its bucket on
    the primary (``pg_stat_activity`` of the primary names it too)."""
    with unwatched(topology, tmp_path, AMBROGIO_RATE_LIMIT_ANONYMOUS="600") as p:
        yield p


@pytest.mark.parametrize(
    "read",
    [("graphql", NEAR), ("graphql", LIST), ("rest", HSDS_PAGE), ("rest", EXPORT)],
    ids=["nearby-statement", "session", "hsds", "export"],
)
async def test_a_read_whose_replica_fails_runs_again_on_the_primary(
    topology: Topology, unwatched_port: int, tmp_path: Path, read: tuple[str, str]
) -> None:
    caller = Caller(unwatched_port, "127.0.0.4")
    kind, what = read

    async def send() -> str:
        if kind == "rest":
            return await caller.get(what)
        request_id, data = await caller.send(what)  # asserts it has no error
        assert len(data["providers"]["edges"]) == 3
        return request_id

    request_id = await send()
    assert await where(topology, request_id) == "replica"  # guard: the replica was in use
    await asyncio.to_thread(topology.replica.stop, "immediate")
    try:
        request_id = await send()
        assert await ran_on(topology.primary_url, request_id)
        log = (tmp_path / f"serve-{unwatched_port}.log").read_text(errors="replace")
        assert "failed a read; skipped" in log  # it was tried on the replica first
    finally:
        await asyncio.to_thread(topology.replica.start)


async def test_a_read_run_again_on_the_primary_is_charged_once(
    topology: Topology, metered_port: int
) -> None:
    address = "127.0.0.5"
    caller = Caller(metered_port, address)

    async def bucket() -> tuple[float, datetime]:
        (row,) = await fetch(
            topology.primary_url,
            "SELECT tokens, updated_at FROM rate_bucket WHERE key = $1",
            f"ip:{address}",
        )
        return float(row["tokens"]), row["updated_at"]

    request_id, _ = await caller.answer(MANY)
    assert await ran_on(topology.replica_url, request_id)  # guard: the replica was in use
    tokens, at = await bucket()
    await asyncio.to_thread(topology.replica.stop, "immediate")
    try:
        _, body = await caller.answer(MANY)  # fails on the replica, runs on the primary
    finally:
        await asyncio.to_thread(topology.replica.start)
    cost = body["extensions"]["cost"]
    assert cost == 100
    left, then = await bucket()
    refilled = 600 / 60 * (then - at).total_seconds()
    assert tokens + refilled < 600, "the bucket was not full, so nothing was lost to its cap"
    assert (tokens + refilled - left) / cost == pytest.approx(1, abs=0.01)
