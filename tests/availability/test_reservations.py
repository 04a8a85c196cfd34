"""Reservations: never overbooked under real concurrency, idempotent, clear conflicts."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.app import build_app
from ambrogio.db.session import create_engine
from ambrogio.ids import from_global_id, to_global_id

RESERVE = """
mutation Reserve($slot: ID!, $key: String!, $seats: Int) {
  reserveSlot(slotId: $slot, idempotencyKey: $key, seats: $seats) {
    id seats cancelled reservationToken slot { remaining capacity }
  }
}
"""

CANCEL = """
mutation Cancel($reservation: ID!, $key: String!, $token: String) {
  cancelReservation(reservationId: $reservation, idempotencyKey: $key, reservationToken: $token) {
    id cancelled slot { remaining }
  }
}
"""

SLOTS = """
query Slots($service: ID!, $from: DateTime!, $to: DateTime!) {
  slots(serviceId: $service, from: $from, to: $to) { id startsAt remaining capacity cancelled }
}
"""

CONCURRENCY = 200


@pytest.fixture(scope="module")
async def service_id(engine: AsyncEngine) -> uuid.UUID:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text(
                "SELECT s.id FROM service s JOIN organization o ON o.id = s.organization_id"
                " WHERE s.status = 'published' AND o.status = 'published' ORDER BY s.id LIMIT 1"
            )
        )
    assert found is not None
    return found


@pytest.fixture
async def new_slot(engine: AsyncEngine, service_id: uuid.UUID):
    made: list[uuid.UUID] = []

    async def make(
        capacity: int = 10, starts_in: timedelta = timedelta(days=1), status: str = "open"
    ):
        slot = uuid.uuid4()
        start = datetime.now(UTC) + starts_in
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO slot (id, service_id, starts_at, ends_at, capacity, status,"
                    " source, external_id) VALUES (:id, :service, :start, :end, :capacity,"
                    " :status, 'test-slots', :ext)"
                ),
                {
                    "id": slot,
                    "ext": str(slot),
                    "service": service_id,
                    "start": start,
                    "end": start + timedelta(hours=1),
                    "capacity": capacity,
                    "status": status,
                },
            )
        made.append(slot)
        return slot

    yield make
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM slot WHERE source = 'test-slots'"))
        await conn.execute(text("DELETE FROM idempotency_key"))


@pytest.fixture
async def wide_client(settings, db_url) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose app has a pool as large as the crowd: one connection per request."""
    engine = create_engine(
        settings.model_copy(update={"db_pool_size": CONCURRENCY + 10, "db_max_overflow": 0}),
        db_url,
    )
    app = build_app(settings, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ambrogio.test") as http:
            yield http
    await engine.dispose()


async def _post(
    client: httpx.AsyncClient, query: str, _headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=_headers or {}
    )
    assert response.status_code < 500
    return response.json()


async def _taken(engine: AsyncEngine, slot: uuid.UUID) -> tuple[int, int]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT s.taken, (SELECT coalesce(sum(seats), 0) FROM reservation r"
                    " WHERE r.slot_id = s.id AND r.status = 'confirmed') FROM slot s"
                    " WHERE s.id = :id"
                ),
                {"id": slot},
            )
        ).one()
    return int(row[0]), int(row[1])


async def _connections(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            )
        )


async def test_a_crowd_never_overbooks(wide_client, new_slot, engine) -> None:
    slot = to_global_id("Slot", await new_slot(capacity=10))

    bodies = await asyncio.gather(
        *(_post(wide_client, RESERVE, slot=slot, key=f"crowd-{i}") for i in range(CONCURRENCY))
    )

    booked = [b for b in bodies if not b.get("errors")]
    refused = [b for b in bodies if b.get("errors")]
    assert len(booked) == 10
    assert len(refused) == CONCURRENCY - 10
    assert all(b["errors"][0]["extensions"]["code"] == "CONFLICT" for b in refused)
    assert all("full" in b["errors"][0]["message"] for b in refused)
    assert await _taken(engine, uuid.UUID(from_global_id(slot)[1])) == (10, 10)
    # The pool opens a connection only when none is free: many open ones mean the requests
    # really overlapped at the database, each on its own connection.
    assert await _connections(engine) > 50


async def test_repeated_keys_book_once_and_replay_the_same_response(
    wide_client, new_slot, engine, login
) -> None:
    # A signed-in caller's retries replay the first response (anonymous ones: below).
    user = await login("retrier", "mapper")
    slot = to_global_id("Slot", await new_slot(capacity=10))
    keys = [f"retry-{i % 20}" for i in range(CONCURRENCY)]

    bodies = await asyncio.gather(
        *(_post(wide_client, RESERVE, user, slot=slot, key=k) for k in keys)
    )

    by_key: dict[str, set[str]] = defaultdict(set)
    for key, body in zip(keys, bodies, strict=True):
        if body.get("errors"):
            by_key[key].add(body["errors"][0]["extensions"]["code"])
        else:
            by_key[key].add(body["data"]["reserveSlot"]["id"])
    assert all(len(outcomes) == 1 for outcomes in by_key.values()), by_key
    reservations = Counter(
        outcome for outcomes in by_key.values() for outcome in outcomes if outcome != "CONFLICT"
    )
    assert len(reservations) == 10
    assert await _taken(engine, uuid.UUID(from_global_id(slot)[1])) == (10, 10)


async def test_repeated_anonymous_keys_book_once_and_never_replay_the_reservation(
    wide_client, new_slot, engine
) -> None:
    slot = to_global_id("Slot", await new_slot(capacity=10))
    keys = [f"anon-retry-{i % 20}" for i in range(CONCURRENCY)]

    bodies = await asyncio.gather(*(_post(wide_client, RESERVE, slot=slot, key=k) for k in keys))

    booked: Counter[str] = Counter()
    for key, body in zip(keys, bodies, strict=True):
        if body.get("errors"):
            assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
            assert body.get("data") is None
        else:
            booked[key] += 1
    # Each key booked at most once, and only its first request saw the reservation.
    assert sum(booked.values()) == 10 and set(booked.values()) == {1}
    assert await _taken(engine, uuid.UUID(from_global_id(slot)[1])) == (10, 10)


async def test_same_key_other_arguments_is_a_conflict(gql, new_slot) -> None:
    slot = to_global_id("Slot", await new_slot())
    first = await gql(RESERVE, slot=slot, key="k-args", seats=1)
    again = await gql(RESERVE, slot=slot, key="k-args", seats=2)

    assert first.errors == []
    assert again.codes == ["CONFLICT"] and "k-args" in again.errors[0]["message"]


async def test_past_cancelled_and_full_slots_are_conflicts(gql, new_slot) -> None:
    past = to_global_id("Slot", await new_slot(starts_in=timedelta(hours=-2)))
    cancelled = to_global_id("Slot", await new_slot(status="cancelled"))
    small = to_global_id("Slot", await new_slot(capacity=2))

    results = {
        "started": await gql(RESERVE, slot=past, key="k1"),
        "cancelled": await gql(RESERVE, slot=cancelled, key="k2"),
        "full": await gql(RESERVE, slot=small, key="k3", seats=3),
    }

    for reason, result in results.items():
        assert result.codes == ["CONFLICT"], reason
        assert reason in result.errors[0]["message"]


async def test_cancelling_frees_the_seats_once(gql, new_slot) -> None:
    slot = to_global_id("Slot", await new_slot(capacity=3))
    booked = await gql(RESERVE, slot=slot, key="c-book", seats=2)
    reservation = booked.data["reserveSlot"]["id"]
    token = booked.data["reserveSlot"]["reservationToken"]
    assert booked.data["reserveSlot"]["slot"]["remaining"] == 1

    cancelled = await gql(CANCEL, reservation=reservation, key="c-cancel", token=token)
    replayed = await gql(CANCEL, reservation=reservation, key="c-cancel", token=token)
    twice = await gql(CANCEL, reservation=reservation, key="c-cancel-again", token=token)

    assert cancelled.data["cancelReservation"] == {
        "id": reservation,
        "cancelled": True,
        "slot": {"remaining": 3},
    }
    assert replayed.data == cancelled.data
    assert twice.codes == ["CONFLICT"]


async def test_slots_show_the_remaining_seats(gql, new_slot, service_id) -> None:
    slot = await new_slot(capacity=4, starts_in=timedelta(days=3))
    await gql(RESERVE, slot=to_global_id("Slot", slot), key="s-1", seats=3)
    start = datetime.now(UTC) + timedelta(days=2)

    result = await gql(
        SLOTS,
        service=to_global_id("Service", service_id),
        **{"from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat()},
    )

    assert result.errors == []
    mine = [s for s in result.data["slots"] if s["id"] == to_global_id("Slot", slot)]
    assert mine == [mine[0]] and mine[0]["remaining"] == 1 and mine[0]["capacity"] == 4


@pytest.mark.parametrize(
    ("query", "variables", "code", "field"),
    [
        (RESERVE, {"slot": "nonsense", "key": "x"}, "BAD_USER_INPUT", "slotId"),
        (
            RESERVE,
            {"slot": to_global_id("Service", uuid.uuid4()), "key": "x"},
            "BAD_USER_INPUT",
            "slotId",
        ),
        (
            RESERVE,
            {"slot": to_global_id("Slot", uuid.uuid4()), "key": "  "},
            "BAD_USER_INPUT",
            "idempotencyKey",
        ),
        (
            RESERVE,
            {"slot": to_global_id("Slot", uuid.uuid4()), "key": "x", "seats": 0},
            "BAD_USER_INPUT",
            "seats",
        ),
        (
            CANCEL,
            {"reservation": to_global_id("Slot", uuid.uuid4()), "key": "x"},
            "BAD_USER_INPUT",
            "reservationId",
        ),
    ],
)
async def test_bad_arguments_name_the_field(gql, query, variables, code, field) -> None:
    result = await gql(query, **variables)

    assert result.codes == [code]
    assert result.errors[0]["extensions"]["field"] == field


async def test_unknown_slot_is_not_found(gql) -> None:
    result = await gql(RESERVE, slot=to_global_id("Slot", uuid.uuid4()), key="nf")

    assert result.codes == ["NOT_FOUND"]


FREE = """
query Free($from: DateTime!, $to: DateTime!) {
  services(filter: {freeBetween: {from: $from, to: $to}}, first: 100) {
    edges { node { id } }
  }
}
"""


async def test_free_between_finds_services_with_a_free_seat(gql, new_slot, service_id) -> None:
    # Far beyond the demo slots (three weeks): only this test's slot is in the window.
    slot = await new_slot(capacity=1, starts_in=timedelta(days=61))
    start = datetime.now(UTC) + timedelta(days=60)
    window = {"from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat()}
    service = to_global_id("Service", service_id)

    free = await gql(FREE, **window)
    await gql(RESERVE, slot=to_global_id("Slot", slot), key="free-1")
    full = await gql(FREE, **window)
    later = await gql(
        FREE,
        **{
            "from": (start + timedelta(days=3)).isoformat(),
            "to": (start + timedelta(days=5)).isoformat(),
        },
    )

    assert [e["node"]["id"] for e in free.data["services"]["edges"]] == [service]
    assert full.data["services"]["edges"] == []
    assert later.data["services"]["edges"] == []


async def test_free_between_needs_a_proper_window(gql) -> None:
    start = datetime.now(UTC)

    backwards = await gql(
        FREE, **{"from": start.isoformat(), "to": (start - timedelta(hours=1)).isoformat()}
    )
    too_long = await gql(
        FREE, **{"from": start.isoformat(), "to": (start + timedelta(days=100)).isoformat()}
    )

    for result in (backwards, too_long):
        assert result.codes == ["BAD_USER_INPUT"]
        assert result.errors[0]["extensions"]["field"] == "filter.freeBetween.to"
