"""PostgreSQL crashing and coming back under load, over real HTTP to a running server.

Clients search and reserve on a server whose database (a throwaway cluster of this module's)
is stopped as a crash would stop it (``pg_ctl stop -m immediate``), then started again. No
request may hang past the server's timeout, every failure must be a clean ``UNAVAILABLE``, the
first success must come within seconds of the database being back (the server is never
restarted), every reservation acknowledged must be in the database afterwards (commits are
durable), and a subscriber made before the crash must receive events again.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import pytest
import websockets

from ambrogio.db.cluster import LocalCluster
from ambrogio.ids import from_global_id, to_global_id
from tests.support.clusters import fetch, load_catalogue, throwaway
from tests.support.servers import ready, serving

REQUEST_TIMEOUT = 4.0
# A request that takes longer than the server's limit plus this has hung.
SLACK = 3.0
SERVER_ENV = {
    "AMBROGIO_REQUEST_TIMEOUT_SECONDS": str(REQUEST_TIMEOUT),
    "AMBROGIO_DB_CONNECT_TIMEOUT_SECONDS": "1",
    "AMBROGIO_DB_POOL_TIMEOUT_SECONDS": "2",
    "AMBROGIO_DB_STATEMENT_TIMEOUT_MS": "3000",
}
SEARCH = """
query Near($lat: Float!, $lon: Float!) {
  providers(near: {lat: $lat, lon: $lon}, radiusMeters: 5000, first: 5) {
    edges { node { id } }
  }
}
"""
RESERVE = """
mutation Reserve($slot: ID!, $key: String!) {
  reserveSlot(slotId: $slot, idempotencyKey: $key) { id }
}
"""
SUBSCRIBE = "subscription($s: ID) { slotAvailabilityChanged(serviceId: $s) { id remaining } }"
# Slots the load reserves, made roomy enough for it (the database is this module's own).
SLOTS = """
UPDATE slot SET capacity = 1000 WHERE id IN (
  SELECT id FROM slot WHERE status = 'open' AND starts_at > now() + interval '1 day'
  ORDER BY id LIMIT 40
) RETURNING id, service_id
"""


@dataclass
class Outcome:
    kind: str
    started: float
    ended: float
    result: str  # "ok", "UNAVAILABLE", or what else came back
    reservation: str | None = None


@pytest.fixture(scope="module")
async def database(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[LocalCluster, str]]:
    with throwaway(tmp_path_factory.mktemp("faults-pg")) as cluster:
        yield cluster, await load_catalogue(cluster)


@pytest.fixture(scope="module")
def server(
    database: tuple[LocalCluster, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, Path]]:
    logs = tmp_path_factory.mktemp("faults-logs")
    with serving(database[1], logs, env=SERVER_ENV) as (port,):
        yield port, logs / f"serve-{port}.log"


def classify(response: httpx.Response) -> tuple[str, str | None]:
    """``ok`` (and the reservation's id), ``UNAVAILABLE``, or the unexpected answer."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.text[:200]}", None
    errors = body.get("errors") or []
    if not errors and response.status_code == 200:
        reservation = (body.get("data") or {}).get("reserveSlot")
        return "ok", reservation["id"] if reservation else None
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    if codes == {"UNAVAILABLE"} and response.status_code in (200, 503):
        return "UNAVAILABLE", None
    return f"{response.status_code} {json.dumps(body)[:300]}", None


async def until(condition: Callable[[], bool], within: float = 30) -> None:
    """Wait until ``condition`` holds (the machine may be busy: no fixed pause is enough)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the load never got there"
        await asyncio.sleep(0.1)


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    """How many of each result, for a failing assertion's message."""
    counts: dict[str, int] = {}
    for item in outcomes:
        counts[f"{item.kind} {item.result}"] = counts.get(f"{item.kind} {item.result}", 0) + 1
    return counts


async def client_loop(
    port: int, kind: str, slots: list[str], stop: asyncio.Event, outcomes: list[Outcome]
) -> None:
    """One client: searches (or reservations) one after another until ``stop``."""
    url = f"http://127.0.0.1:{port}/graphql"
    timeout = httpx.Timeout(REQUEST_TIMEOUT + 3 * SLACK)
    async with httpx.AsyncClient(timeout=timeout) as http:
        turn = 0
        while not stop.is_set():
            turn += 1
            if kind == "search":
                payload = {
                    "query": SEARCH,
                    "variables": {"lat": 45.85 + turn % 7 * 0.01, "lon": 9.39},
                }
            else:
                slot = slots[turn % len(slots)]
                payload = {"query": RESERVE, "variables": {"slot": slot, "key": str(uuid.uuid4())}}
            started = time.monotonic()
            try:
                response = await http.post(url, json=payload)
                result, reservation = classify(response)
            except httpx.HTTPError as error:
                result, reservation = f"transport {error!r}", None
            outcomes.append(Outcome(kind, started, time.monotonic(), result, reservation))
            if result != "ok":
                await asyncio.sleep(0.05)


async def subscribed(port: int, service: str) -> Any:
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/graphql",
        subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
    )
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    message = {
        "id": "1",
        "type": "subscribe",
        "payload": {"query": SUBSCRIBE, "variables": {"s": service}},
    }
    await ws.send(json.dumps(message))
    return ws


async def event_after_reserving(port: int, ws: Any, slot: str, within: float) -> dict[str, Any]:
    """Reserve ``slot`` until the subscriber hears of it (a notification sent before the
    listener is back is lost); the change it received."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=10) as http:
        while True:
            assert time.monotonic() < deadline, "the subscriber never received an event again"
            await http.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": RESERVE, "variables": {"slot": slot, "key": str(uuid.uuid4())}},
            )
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=1))
            except TimeoutError:
                continue
            assert message["type"] == "next", message
            change: dict[str, Any] = message["payload"]["data"]["slotAvailabilityChanged"]
            return change


async def test_a_database_crash_under_load_fails_cleanly_and_recovers(
    database: tuple[LocalCluster, str], server: tuple[int, Path]
) -> None:
    cluster, url = database
    port, log = server
    # guard: the cluster commits durably, as make run's does (what a crash must not undo)
    assert (await fetch(url, "SHOW synchronous_commit"))[0][0] == "on"
    rows = await fetch(url, SLOTS)
    assert len(rows) >= 10  # guard: slots to reserve
    watched_slot, watched_service = rows[0]["id"], rows[0]["service_id"]
    # The load reserves other services' slots: the subscriber's events are the probe's alone.
    slots = [
        to_global_id("Slot", row["id"]) for row in rows if row["service_id"] != watched_service
    ]
    ws = await subscribed(port, to_global_id("Service", watched_service))
    await asyncio.sleep(0.5)

    stop = asyncio.Event()
    outcomes: list[Outcome] = []
    clients = [
        asyncio.create_task(client_loop(port, kind, slots, stop, outcomes))
        for kind in ("search", "search", "search", "reserve", "reserve")
    ]
    await until(lambda: sum(item.result == "ok" for item in outcomes) >= 20)
    down = time.monotonic()
    await asyncio.to_thread(cluster.stop, "immediate")
    await asyncio.sleep(1)
    assert not await asyncio.to_thread(ready, port)  # /readyz says so while the database is down
    await asyncio.sleep(2)
    await asyncio.to_thread(cluster.start)
    back = time.monotonic()

    def recovered() -> bool:
        kinds = {item.kind for item in outcomes if item.started >= back and item.result == "ok"}
        return kinds == {"search", "reserve"}

    await until(recovered)
    await asyncio.sleep(1)
    stop.set()
    await asyncio.gather(*clients)

    during = [item for item in outcomes if down <= item.started < back]
    after = [item for item in outcomes if item.started >= back and item.result == "ok"]
    failures = [item for item in outcomes if item.result != "ok"]
    # guards: there was load before, during and after the outage, and the outage was felt
    before = [item for item in outcomes if item.ended < down]
    assert sum(item.result == "ok" for item in before) >= 20, summary(before)
    assert len(during) > 10 and failures
    assert {item.kind for item in after} == {"search", "reserve"}

    slowest = max(item.ended - item.started for item in outcomes)
    assert slowest < REQUEST_TIMEOUT + SLACK, f"a request took {slowest:.1f} s"
    unclean = sorted({item.result for item in failures} - {"UNAVAILABLE"})
    assert unclean == [], unclean
    first_success = min(item.ended for item in after)
    assert first_success - back < 10, f"first success {first_success - back:.1f} s after restart"

    acknowledged = {from_global_id(item.reservation)[1] for item in outcomes if item.reservation}
    assert len(acknowledged) > 5  # guard
    present = await fetch(
        url, "SELECT id::text FROM reservation WHERE id = ANY($1::uuid[])", list(acknowledged)
    )
    assert {row["id"] for row in present} == acknowledged

    try:
        change = await event_after_reserving(port, ws, to_global_id("Slot", watched_slot), 15)
        assert change["id"] == to_global_id("Slot", watched_slot)
    finally:
        await ws.close()
    assert ready(port)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and "INTERNAL_SERVER_ERROR" not in text


# A tile of Lecco (z14) with providers in it.
TILE = "/tiles/providers/14/8619/5838.mvt"
# The server's listening connection: the one of its connections that never names a request.
LISTENER = """
SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
  AND application_name = '' AND (query LIKE 'LISTEN%' OR query = 'SELECT 1')
"""
# Cut the listener (waiting until it is gone), then change the catalogue: notified to nobody.
DEAF_RENAME = """
WITH cut AS (SELECT pg_terminate_backend(pid, 5000) FROM ({listener}) AS listener)
UPDATE organization SET name = name || ' (renamed)' WHERE id = $1 AND (SELECT count(*) FROM cut) = 1
RETURNING id
"""


async def test_the_tile_cache_never_serves_a_tile_changed_while_its_listener_was_gone(
    database: tuple[LocalCluster, str], server: tuple[int, Path]
) -> None:
    _, url = database
    port, log = server
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
        # given a tile read (and kept), and the server listening
        first = await http.get(TILE)
        assert first.status_code == 200
        shown = mapbox_vector_tile.decode(first.content)["providers"]["features"]
        provider = shown[0]["properties"]["id"]
        assert len(await fetch(url, LISTENER)) == 1  # guard: its one listening connection
        # when its listener is cut and a provider of the tile renamed before it listens again
        renamed = await fetch(url, DEAF_RENAME.format(listener=LISTENER), uuid.UUID(provider))
        assert len(renamed) == 1
        try:
            # then the tile comes with the new name (the cache emptied when it lost the listener)
            names: set[str] = set()
            for _ in range(100):
                response = await http.get(TILE)
                features = mapbox_vector_tile.decode(response.content)["providers"]["features"]
                names = {feature["properties"]["name"] for feature in features}
                if any(name.endswith(" (renamed)") for name in names):
                    break
                await asyncio.sleep(0.1)
            assert any(name.endswith(" (renamed)") for name in names), "a stale tile was served"
        finally:
            await fetch(
                url,
                "UPDATE organization SET name = left(name, -10) WHERE id = $1",
                uuid.UUID(provider),
            )
    assert "Traceback" not in log.read_text(errors="replace")
