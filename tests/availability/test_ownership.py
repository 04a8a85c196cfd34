"""Callers own what they make: client B cannot read, replay or cancel client A's reservation,
anonymous or signed in; an anonymous reservation's token, shown once, is what cancels it;
reviewers cancel anyone's, audited."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import from_global_id, to_global_id

RESERVE = """
mutation Reserve($slot: ID!, $key: String!) {
  reserveSlot(slotId: $slot, idempotencyKey: $key) { id seats reservationToken }
}
"""

CANCEL = """
mutation Cancel($reservation: ID!, $key: String!, $token: String) {
  cancelReservation(reservationId: $reservation, idempotencyKey: $key, reservationToken: $token) {
    id cancelled
  }
}
"""

SOURCE = "test-ownership"


@pytest.fixture
async def slot(engine: AsyncEngine) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    async def make() -> str:
        made = uuid.uuid4()
        start = datetime.now(UTC) + timedelta(days=2)
        async with engine.begin() as conn:
            service = await conn.scalar(
                text(
                    "SELECT s.id FROM service s JOIN organization o ON o.id = s.organization_id"
                    " WHERE s.status = 'published' AND o.status = 'published'"
                    " ORDER BY s.id LIMIT 1"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO slot (id, service_id, starts_at, ends_at, capacity, status,"
                    " source, external_id) VALUES (:id, :service, :start, :end, 10, 'open',"
                    " :source, :ext)"
                ),
                {
                    "id": made,
                    "service": service,
                    "start": start,
                    "end": start + timedelta(hours=1),
                    "source": SOURCE,
                    "ext": str(made),
                },
            )
        return to_global_id("Slot", made)

    yield make
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "DELETE FROM audit_event WHERE action = 'cancel_reservation' AND entity_id IN"
                " (SELECT r.id FROM reservation r JOIN slot s ON s.id = r.slot_id"
                " WHERE s.source = :source)"
            ),
            {"source": SOURCE},
        )
        await conn.execute(text("DELETE FROM slot WHERE source = :source"), {"source": SOURCE})
        await conn.execute(text("DELETE FROM idempotency_key WHERE key LIKE 'own-%'"))


async def taken(engine: AsyncEngine, slot: str) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                text("SELECT taken FROM slot WHERE id = :id"), {"id": from_global_id(slot)[1]}
            )
        )


async def test_anonymous_b_cannot_read_replay_or_cancel_anonymous_as_reservation(
    gql: Any, slot: Callable[[], Awaitable[str]], engine: AsyncEngine
) -> None:
    where = await slot()
    a = await gql(RESERVE, slot=where, key="own-k")
    reservation, token = a.data["reserveSlot"]["id"], a.data["reserveSlot"]["reservationToken"]
    b_other = await gql(RESERVE, slot=await slot(), key="own-b")
    b_token = b_other.data["reserveSlot"]["reservationToken"]

    b_replay = await gql(RESERVE, slot=where, key="own-k")
    b_no_token = await gql(CANCEL, reservation=reservation, key="own-c1")
    b_forged = await gql(CANCEL, reservation=reservation, key="own-c2", token="rsv_guess")
    b_own_token = await gql(CANCEL, reservation=reservation, key="own-c3", token=b_token)
    b_not_a_token = await gql(CANCEL, reservation=reservation, key="own-c4", token="guess")

    assert token.startswith("rsv_") and len(token) > 40
    assert token != b_token
    # replay: the same key does not give A's reservation (nor its token) to anyone
    assert b_replay.codes == ["CONFLICT"] and b_replay.data is None
    assert reservation not in str(b_replay.errors) and token not in str(b_replay.errors)
    assert b_no_token.codes == ["BAD_USER_INPUT"]
    assert b_no_token.errors[0]["extensions"]["field"] == "reservationToken"
    assert b_forged.codes == ["NOT_FOUND"] and b_own_token.codes == ["NOT_FOUND"]
    assert b_not_a_token.codes == ["BAD_USER_INPUT"]
    assert await taken(engine, where) == 1

    a_cancel = await gql(CANCEL, reservation=reservation, key="own-c1", token=token)

    # A's cancellation key "own-c1" is A's (scoped to the token), not B's refused attempt
    assert a_cancel.errors == [] and a_cancel.data["cancelReservation"]["cancelled"] is True
    assert await taken(engine, where) == 0


async def test_the_token_is_kept_only_as_a_digest(
    gql: Any, slot: Callable[[], Awaitable[str]], engine: AsyncEngine
) -> None:
    made = await gql(RESERVE, slot=await slot(), key="own-digest")
    token = made.data["reserveSlot"]["reservationToken"]
    key = from_global_id(made.data["reserveSlot"]["id"])[1]

    async with engine.connect() as conn:
        owner = await conn.scalar(
            text("SELECT caller FROM reservation WHERE id = :id"), {"id": key}
        )
        stored = await conn.scalar(
            text("SELECT response::text FROM idempotency_key WHERE key = 'own-digest'")
        )

    assert owner == "token:" + hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored


async def test_signed_in_b_cannot_replay_or_cancel_as_reservation(
    gql: Any, slot: Callable[[], Awaitable[str]], engine: AsyncEngine, login: Any
) -> None:
    where = await slot()
    ada, bea = await login("own-ada", "mapper"), await login("own-bea", "mapper")
    a = await gql(RESERVE, _headers=ada, slot=where, key="own-same")
    a_again = await gql(RESERVE, _headers=ada, slot=where, key="own-same")
    b = await gql(RESERVE, _headers=bea, slot=where, key="own-same")
    reservation = a.data["reserveSlot"]["id"]

    b_cancel = await gql(CANCEL, _headers=bea, reservation=reservation, key="own-x")
    anonymous_cancel = await gql(CANCEL, reservation=reservation, key="own-y", token="rsv_x")

    # A's retry replays A's reservation; B's same key is B's own, new reservation
    assert a_again.data == a.data and a.data["reserveSlot"]["reservationToken"] is None
    assert b.errors == [] and b.data["reserveSlot"]["id"] != reservation
    assert b_cancel.codes == ["NOT_FOUND"] and anonymous_cancel.codes == ["NOT_FOUND"]
    assert await taken(engine, where) == 2

    a_cancel = await gql(CANCEL, _headers=ada, reservation=reservation, key="own-x")

    assert a_cancel.data["cancelReservation"]["cancelled"] is True
    assert await taken(engine, where) == 1


async def test_a_replay_after_the_slot_was_deleted_says_the_reservation_is_gone(
    gql: Any, slot: Callable[[], Awaitable[str]], engine: AsyncEngine, login: Any
) -> None:
    where = await slot()
    ada = await login("own-gone", "mapper")
    made = await gql(RESERVE, _headers=ada, slot=where, key="own-gone")
    reservation = made.data["reserveSlot"]["id"]
    async with engine.begin() as conn:
        await conn.execute(
            text("DELETE FROM slot WHERE id = :id"), {"id": from_global_id(where)[1]}
        )

    replay = await gql(RESERVE, _headers=ada, slot=where, key="own-gone")
    cancel = await gql(CANCEL, _headers=ada, reservation=reservation, key="own-gone-c")

    assert made.errors == [] and made.data["reserveSlot"]["id"]
    # the stored outcome names a reservation the slot's deletion took with it
    assert replay.codes == ["NOT_FOUND"] and replay.data is None
    assert reservation in replay.errors[0]["message"]
    assert cancel.codes == ["NOT_FOUND"]


async def test_a_user_cannot_cancel_an_anonymous_reservation_without_its_token(
    gql: Any, slot: Callable[[], Awaitable[str]], login: Any
) -> None:
    anonymous = await gql(RESERVE, slot=await slot(), key="own-anon")
    reservation = anonymous.data["reserveSlot"]["id"]
    token = anonymous.data["reserveSlot"]["reservationToken"]
    ada = await login("own-ada", "mapper")

    without = await gql(CANCEL, _headers=ada, reservation=reservation, key="own-u1")
    with_token = await gql(CANCEL, _headers=ada, reservation=reservation, key="own-u2", token=token)

    assert without.codes == ["NOT_FOUND"]
    assert with_token.data["cancelReservation"]["cancelled"] is True


async def test_a_reviewer_cancels_anyones_reservation_and_the_trail_says_so(
    gql: Any, slot: Callable[[], Awaitable[str]], engine: AsyncEngine, login: Any
) -> None:
    where = await slot()
    anonymous = await gql(RESERVE, slot=where, key="own-r1")
    ada = await login("own-ada", "mapper")
    users = await gql(RESERVE, _headers=ada, slot=where, key="own-r2")
    reviewer = await login("own-rita", "reviewer")

    results = [
        await gql(CANCEL, _headers=reviewer, reservation=made.data["reserveSlot"]["id"], key=key)
        for made, key in ((anonymous, "own-rc1"), (users, "own-rc2"))
    ]

    assert [r.data["cancelReservation"]["cancelled"] for r in results] == [True, True]
    assert await taken(engine, where) == 0
    ids = [from_global_id(made.data["reserveSlot"]["id"])[1] for made in (anonymous, users)]
    async with engine.connect() as conn:
        events = (
            await conn.execute(
                text(
                    "SELECT entity_id::text, actor, entity_type, before->>'owner'"
                    " FROM audit_event WHERE action = 'cancel_reservation'"
                    " AND entity_id::text = ANY(:ids) ORDER BY id"
                ),
                {"ids": ids},
            )
        ).all()
    assert [tuple(e)[:3] for e in events] == [
        (ids[0], "own-rita", "reservation"),
        (ids[1], "own-rita", "reservation"),
    ]
    assert events[0][3].startswith("token:") and events[1][3] == "user:own-ada"


async def test_an_owner_cancelling_their_own_is_not_an_override(
    gql: Any, slot: Callable[[], Awaitable[str]], engine: AsyncEngine, login: Any
) -> None:
    # guard for the audit above: only cancelling somebody else's is recorded
    reviewer = await login("own-rita", "reviewer")
    made = await gql(RESERVE, _headers=reviewer, slot=await slot(), key="own-self")
    reservation = made.data["reserveSlot"]["id"]

    cancelled = await gql(CANCEL, _headers=reviewer, reservation=reservation, key="own-self-c")

    assert cancelled.data["cancelReservation"]["cancelled"] is True
    async with engine.connect() as conn:
        events = await conn.scalar(
            text("SELECT count(*) FROM audit_event WHERE entity_id = :id"),
            {"id": from_global_id(reservation)[1]},
        )
    assert events == 0


async def test_a_users_reservation_stays_theirs_when_their_role_changes(
    gql: Any, slot: Callable[[], Awaitable[str]], engine: AsyncEngine, login: Any
) -> None:
    where = await slot()
    as_reviewer = await login("own-dora", "reviewer")
    made = await gql(RESERVE, _headers=as_reviewer, slot=where, key="own-role")
    as_mapper = await login("own-dora", "mapper")  # demoted: the role is read on each request

    again = await gql(RESERVE, _headers=as_mapper, slot=where, key="own-role")
    cancelled = await gql(
        CANCEL, _headers=as_mapper, reservation=made.data["reserveSlot"]["id"], key="own-role-c"
    )

    assert again.data == made.data  # the same key replays: the identity is the user
    assert cancelled.data["cancelReservation"]["cancelled"] is True
    assert await taken(engine, where) == 0
