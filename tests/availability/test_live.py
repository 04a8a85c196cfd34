"""Live slot updates across two server processes on one database (graphql-transport-ws)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import to_global_id
from tests.support.servers import serving

SUBSCRIBE = """
subscription Changes($service: ID, $near: LatLonInput, $r: Float) {
  slotAvailabilityChanged(serviceId: $service, near: $near, radiusMeters: $r) {
    id remaining capacity
  }
}
"""

RESERVE = """
mutation Reserve($slot: ID!, $key: String!) {
  reserveSlot(slotId: $slot, idempotencyKey: $key) { id }
}
"""


@pytest.fixture(scope="module")
def servers(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, ...]]:
    """Two `ambrogio serve` processes on the test database, once both answer ``/readyz``."""
    with serving(db_url, tmp_path_factory.mktemp("live"), count=2) as ports:
        yield ports


# A slot of a visible service at a published location, or (with :lat, :lon) the first one
# more than 10 km from there.
SITE = """
    SELECT s.id, l.id, ST_Y(l.geom), ST_X(l.geom) FROM service s
    JOIN organization o ON o.id = s.organization_id
    JOIN service_at_location sal ON sal.service_id = s.id
    JOIN location l ON l.id = sal.location_id
    WHERE s.status = 'published' AND o.status = 'published' AND o.merged_into_id IS NULL
      AND l.status = 'published' AND l.geom IS NOT NULL
"""
FAR_SITE = """
      AND ST_Distance(l.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
          > 10000
"""


@pytest.fixture
async def slot(engine: AsyncEngine):
    """The slot the tests reserve, and probes: ``probe`` (same service and location),
    ``far_probe`` and ``far_barrier`` (at a visible service's location more than 10 km away,
    ``far``).

    A subscriber shows it is live by answering a notification of a probe it watches: no
    message of the reserved slot can be mistaken for a probe's."""
    async with engine.begin() as conn:
        here = (await conn.execute(text(SITE + " ORDER BY s.id LIMIT 1"))).one()
        there = (
            await conn.execute(
                text(SITE + FAR_SITE + " ORDER BY s.id LIMIT 1"), {"lat": here[2], "lon": here[3]}
            )
        ).one()
        sites = {"slot": here, "probe": here, "far_probe": there, "far_barrier": there}
        ids = {name: uuid.uuid4() for name in sites}
        start = datetime.now(UTC) + timedelta(days=2)
        for name, site in sites.items():
            await conn.execute(
                text(
                    "INSERT INTO slot (id, service_id, location_id, starts_at, ends_at, capacity,"
                    " source, external_id) VALUES (:id, :service, :location, :start, :end, 5,"
                    " 'test-live', :ext)"
                ),
                {
                    "id": ids[name],
                    "ext": str(ids[name]),
                    "service": site[0],
                    "location": site[1],
                    "start": start,
                    "end": start + timedelta(hours=1),
                },
            )
    yield {
        "id": ids["slot"],
        "probe": ids["probe"],
        "far_probe": ids["far_probe"],
        "far_barrier": ids["far_barrier"],
        "service": here[0],
        "lat": here[2],
        "lon": here[3],
        "far": {"lat": there[2], "lon": there[3]},
    }
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM slot WHERE source = 'test-live'"))


async def _subscribe(port: int, variables: dict[str, Any]) -> Any:
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]
    )
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": variables},
            }
        )
    )
    return ws


async def _notify(engine: AsyncEngine, slot_id: uuid.UUID) -> None:
    """What the slot trigger sends when seats change, without changing any."""
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_notify('ambrogio_slot', :id)"), {"id": str(slot_id)})


async def _live(ws: Any, engine: AsyncEngine, probe: uuid.UUID) -> None:
    """Return once the subscription is live: it answered a notification of ``probe``.

    A notification sent before the server registered the subscriber is lost, so it is sent
    again until one is answered (10 s at most); answers to the later ones are skipped by
    ``_next``."""
    deadline = time.monotonic() + 10
    while True:
        await _notify(engine, probe)
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=0.25))
        except TimeoutError:
            assert time.monotonic() < deadline, "the subscription never went live"
            continue
        assert message["type"] == "next", message
        assert message["payload"]["data"]["slotAvailabilityChanged"]["id"] == (
            to_global_id("Slot", probe)
        ), message
        return


async def _reserve(port: int, slot_id: uuid.UUID, key: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"http://127.0.0.1:{port}/graphql",
            json={
                "query": RESERVE,
                "variables": {"slot": to_global_id("Slot", slot_id), "key": key},
            },
        )
    assert response.json().get("errors") is None, response.json()


async def _next(ws: Any, skip: uuid.UUID | None = None) -> dict[str, Any]:
    """The next change sent, past any answers to notifications of the ``skip`` probe."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        assert message["type"] == "next", message
        data: dict[str, Any] = message["payload"]["data"]["slotAvailabilityChanged"]
        if skip is None or data["id"] != to_global_id("Slot", skip):
            return data


async def _ids_until(ws: Any, slot_id: uuid.UUID) -> set[str]:
    """The slots sent before ``slot_id`` (which must come, within 10 s each)."""
    seen: set[str] = set()
    while (change := await _next(ws))["id"] != to_global_id("Slot", slot_id):
        seen.add(change["id"])
    return seen


async def test_a_reservation_on_one_process_reaches_a_subscriber_of_the_other(
    servers, slot, engine
) -> None:
    first, second = servers
    ws = await _subscribe(first, {"service": to_global_id("Service", slot["service"])})
    try:
        await _live(ws, engine, slot["probe"])
        await _reserve(second, slot["id"], f"live-{uuid.uuid4()}")

        change = await _next(ws, skip=slot["probe"])

        assert change == {"id": to_global_id("Slot", slot["id"]), "remaining": 4, "capacity": 5}
    finally:
        await ws.close()


async def test_subscribers_near_a_point_see_the_slots_there(servers, slot, engine) -> None:
    first, second = servers
    here = {"lat": slot["lat"], "lon": slot["lon"]}
    near_ws = await _subscribe(first, {"near": here, "r": 500.0})
    far_ws = await _subscribe(first, {"near": slot["far"], "r": 500.0})
    try:
        await _live(near_ws, engine, slot["probe"])
        await _live(far_ws, engine, slot["far_probe"])
        await _reserve(second, slot["id"], f"live-{uuid.uuid4()}")

        change = await _next(near_ws, skip=slot["probe"])

        assert change["id"] == to_global_id("Slot", slot["id"])
        # Notifications arrive in commit order: had the far subscriber been sent the reserved
        # slot, it would be sent it before its answer to a barrier notified after.
        await _notify(engine, slot["far_barrier"])
        before_barrier = await _ids_until(far_ws, slot["far_barrier"])
        assert before_barrier <= {to_global_id("Slot", slot["far_probe"])}, before_barrier
    finally:
        await near_ws.close()
        await far_ws.close()


@pytest.mark.parametrize(
    "variables",
    [{}, {"service": to_global_id("Service", uuid.uuid4()), "near": {"lat": 45.8, "lon": 9.4}}],
)
async def test_exactly_one_of_service_or_near(servers, variables) -> None:
    ws = await _subscribe(servers[0], variables)
    try:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
    finally:
        await ws.close()

    assert message["type"] in {"error", "next"}
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
