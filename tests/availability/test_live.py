"""Live slot updates across two server processes on one database (graphql-transport-ws)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def servers(db_url: str) -> Iterator[tuple[int, int]]:
    """Two `ambrogio serve` processes on the test database."""
    ports = (_free_port(), _free_port())
    env = {**os.environ, "DATABASE_URL": db_url, "AMBROGIO_ENV": "test"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "ambrogio.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + 30
        for port in ports:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "servers did not start"
                time.sleep(0.2)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


@pytest.fixture
async def slot(engine: AsyncEngine):
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT s.id, l.id, ST_Y(l.geom), ST_X(l.geom) FROM service s"
                    " JOIN organization o ON o.id = s.organization_id"
                    " JOIN service_at_location sal ON sal.service_id = s.id"
                    " JOIN location l ON l.id = sal.location_id"
                    " WHERE s.status = 'published' AND o.status = 'published'"
                    " AND l.status = 'published' AND l.geom IS NOT NULL ORDER BY s.id LIMIT 1"
                )
            )
        ).one()
        slot_id = uuid.uuid4()
        start = datetime.now(UTC) + timedelta(days=2)
        await conn.execute(
            text(
                "INSERT INTO slot (id, service_id, location_id, starts_at, ends_at, capacity,"
                " source, external_id) VALUES (:id, :service, :location, :start, :end, 5,"
                " 'test-live', :ext)"
            ),
            {
                "id": slot_id,
                "ext": str(slot_id),
                "service": row[0],
                "location": row[1],
                "start": start,
                "end": start + timedelta(hours=1),
            },
        )
    yield {"id": slot_id, "service": row[0], "lat": row[2], "lon": row[3]}
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
    await asyncio.sleep(0.5)  # the subscription is live once its first statement ran
    return ws


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


async def _next(ws: Any) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
    assert message["type"] == "next", message
    data: dict[str, Any] = message["payload"]["data"]["slotAvailabilityChanged"]
    return data


async def test_a_reservation_on_one_process_reaches_a_subscriber_of_the_other(
    servers, slot
) -> None:
    first, second = servers
    ws = await _subscribe(first, {"service": to_global_id("Service", slot["service"])})
    try:
        await _reserve(second, slot["id"], f"live-{uuid.uuid4()}")

        change = await _next(ws)

        assert change == {"id": to_global_id("Slot", slot["id"]), "remaining": 4, "capacity": 5}
    finally:
        await ws.close()


async def test_subscribers_near_a_point_see_the_slots_there(servers, slot) -> None:
    first, second = servers
    here = {"lat": slot["lat"], "lon": slot["lon"]}
    far = {"lat": slot["lat"] + 0.5, "lon": slot["lon"]}
    near_ws = await _subscribe(first, {"near": here, "r": 500.0})
    far_ws = await _subscribe(first, {"near": far, "r": 500.0})
    try:
        await _reserve(second, slot["id"], f"live-{uuid.uuid4()}")

        change = await _next(near_ws)

        assert change["id"] == to_global_id("Slot", slot["id"])
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(far_ws.recv(), timeout=1.5)
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
