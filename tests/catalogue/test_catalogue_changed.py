"""``catalogueChanged``: the change feed live over graphql-transport-ws, from another server
process, for the records in an area only."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import to_global_id
from tests.support.servers import serving

SUBSCRIBE = """
subscription Live($near: LatLonInput, $r: Float, $comuni: [String!]) {
  catalogueChanged(near: $near, radiusMeters: $r, comuni: $comuni) { type id change published }
}
"""

# Two published locations more than 20 km apart, with their comuni.
PAIR = """
SELECT a.id, ST_Y(a.geom), ST_X(a.geom), a.comune_istat, b.id
FROM location a JOIN location b
  ON ST_Distance(a.geom::geography, b.geom::geography) > 20000
JOIN organization oa ON oa.id = a.organization_id
JOIN organization ob ON ob.id = b.organization_id
WHERE a.status = 'published' AND b.status = 'published' AND a.comune_istat IS NOT NULL
  AND oa.status = 'published' AND ob.status = 'published'
  AND oa.merged_into_id IS NULL AND ob.merged_into_id IS NULL
ORDER BY a.id, b.id LIMIT 1
"""


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with serving(db_url, tmp_path_factory.mktemp("catalogue-live")) as (port,):
        yield port


async def subscribe(port: int, variables: dict[str, Any]) -> Any:
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]
    )
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    payload = {"query": SUBSCRIBE, "variables": variables}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return ws


async def touch(engine: AsyncEngine, location: uuid.UUID) -> None:
    """An edit of the location (its update time): the trigger notifies at commit."""
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE location SET updated_at = clock_timestamp() WHERE id = :l"),
            {"l": location},
        )


async def first_change(ws: Any, engine: AsyncEngine, far: uuid.UUID, near: uuid.UUID) -> Any:
    """Edit the far location, then the near one, until the subscription answers (the first
    edits may come before the server registered the subscriber); the first answer."""
    deadline = time.monotonic() + 15
    while True:
        await touch(engine, far)
        await touch(engine, near)
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=0.5))
        except TimeoutError:
            assert time.monotonic() < deadline, "the subscription never answered"
            continue
        assert message["type"] == "next" and message["payload"].get("data"), message
        return message["payload"]["data"]["catalogueChanged"]


@pytest.fixture
async def pair(engine: AsyncEngine) -> Any:
    async with engine.connect() as conn:
        found = (await conn.execute(text(PAIR))).one()
        stamps = (
            await conn.execute(
                text("SELECT id, updated_at FROM location WHERE id IN (:a, :b)"),
                {"a": found[0], "b": found[4]},
            )
        ).all()
    yield found
    async with engine.begin() as conn:
        for key, stamp in stamps:
            await conn.execute(
                text("UPDATE location SET updated_at = :t WHERE id = :l"), {"t": stamp, "l": key}
            )


@pytest.mark.parametrize("by", ["near", "comuni"])
async def test_a_subscriber_sees_the_changes_in_its_area_only(server, engine, pair, by) -> None:
    here, lat, lon, comune, there = pair
    area = {"near": {"lat": lat, "lon": lon}, "r": 1000.0} if by == "near" else {"comuni": [comune]}
    ws = await subscribe(server, area)
    try:
        change = await first_change(ws, engine, far=there, near=here)
    finally:
        await ws.close()

    # the far edit, committed first each time, never comes; the near one does
    assert change == {
        "type": "Location",
        "id": to_global_id("Location", here),
        "change": "UPDATE",
        "published": True,
    }


@pytest.mark.parametrize(
    "variables",
    [{}, {"near": {"lat": 45.85, "lon": 9.39}}, {"comuni": ["97042"]}, {"comuni": []}],
)
async def test_an_area_is_required_and_checked(server, variables) -> None:
    ws = await subscribe(server, variables)
    try:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
    finally:
        await ws.close()

    assert message["type"] == "next" or message["type"] == "error", message
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_one_statement_changing_places_far_and_near_brings_the_near_one(
    server: int, engine: AsyncEngine, pair: Any
) -> None:
    here, lat, lon, _, there = pair
    ws = await subscribe(server, {"near": {"lat": lat, "lon": lon}, "r": 1000.0})
    try:
        deadline = time.monotonic() + 15
        while True:
            # given one statement writing both (one notification for a range of entries)
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "UPDATE location SET updated_at = clock_timestamp() "
                        "WHERE id IN (:far, :near)"
                    ),
                    {"far": there, "near": here},
                )
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=0.5))
            except TimeoutError:
                assert time.monotonic() < deadline, "the subscription never answered"
                continue
            break
        # then the near change comes, and nothing else with it
        assert message["payload"]["data"]["catalogueChanged"]["id"] == to_global_id(
            "Location", here
        )
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), timeout=0.5)
    finally:
        await ws.close()
