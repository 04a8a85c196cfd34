"""Reserving and cancelling seats: never more seats than capacity, whatever the concurrency.

Why a conditional UPDATE and not SELECT … FOR UPDATE then UPDATE: one statement,
``UPDATE slot SET taken = taken + :seats WHERE … AND taken + :seats <= capacity``, takes the
row lock and re-checks the condition on the newest row version (PostgreSQL re-evaluates the
WHERE clause after waiting for a concurrent writer under READ COMMITTED). Concurrent requests
queue on the row one at a time, each either fits or matches no row; there is no window between
a read and a write, no retry loop, and the ``taken <= capacity`` CHECK backs it up.

Idempotency follows Stripe's model. The (caller, key) row is claimed first, in the same
transaction as the reservation: a concurrent retry with the same key waits on the primary key
until the first commits, then replays its stored outcome — success or the expected error — and
never books twice. The same key with other arguments is a CONFLICT. Keys are kept at least 24
hours (``purge_idempotency_keys``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.catalogue.visibility import service_visible
from ambrogio.db.models import IdempotencyKey, Reservation, Service, Slot
from ambrogio.errors import AmbrogioError, BadUserInput, Conflict, NotFound

KEEP_KEYS = timedelta(hours=24)
MAX_KEY_LENGTH = 255
ERRORS: dict[str, type[AmbrogioError]] = {"CONFLICT": Conflict, "NOT_FOUND": NotFound}

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Outcome:
    """What a first request produced; its retries get the same."""

    reservation_id: uuid.UUID | None = None
    error_code: str | None = None
    error_message: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.reservation_id is not None:
            return {"reservation": str(self.reservation_id)}
        return {"error": {"code": self.error_code, "message": self.error_message}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        if "reservation" in data:
            return cls(reservation_id=uuid.UUID(data["reservation"]))
        return cls(error_code=data["error"]["code"], error_message=data["error"]["message"])

    def result(self) -> uuid.UUID:
        if self.reservation_id is not None:
            return self.reservation_id
        raise ERRORS[self.error_code or "CONFLICT"](self.error_message or "")


def _check_key(key: str) -> None:
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise BadUserInput(
            "idempotencyKey", key, f"must be 1 to {MAX_KEY_LENGTH} characters, not blank"
        )


def _digest(operation: str, arguments: dict[str, Any]) -> str:
    payload = json.dumps({"operation": operation, **arguments}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


async def _claim(
    session: AsyncSession, caller: str, key: str, operation: str, digest: str
) -> Outcome | None:
    """Claim the key, or return the outcome already stored under it."""
    claimed = await session.execute(
        insert(IdempotencyKey)
        .values(caller=caller, key=key, operation=operation, request_hash=digest)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    )
    if claimed.first() is not None:
        return None
    stored = (
        await session.execute(
            select(IdempotencyKey).where(IdempotencyKey.caller == caller, IdempotencyKey.key == key)
        )
    ).scalar_one()
    if stored.operation != operation or stored.request_hash != digest:
        raise Conflict(
            f"idempotencyKey: {key!r} was already used for another request; "
            "use a new key for different arguments"
        )
    assert stored.response is not None
    return Outcome.from_json(stored.response)


async def _store(session: AsyncSession, caller: str, key: str, outcome: Outcome) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.caller == caller, IdempotencyKey.key == key)
        .values(response=outcome.as_json())
    )


async def _why_not(session: AsyncSession, slot_id: uuid.UUID, seats: int) -> Outcome:
    slot = (
        await session.execute(
            select(Slot, func.now() >= Slot.starts_at)
            .join(Service, Service.id == Slot.service_id)
            .where(Slot.id == slot_id, service_visible())
        )
    ).first()
    if slot is None:
        return Outcome(error_code="NOT_FOUND", error_message=f"slotId: no slot {slot_id}")
    row, started = slot
    if row.status != "open":
        reason = "the slot was cancelled"
    elif started:
        reason = "the slot has already started"
    else:
        left = row.capacity - row.taken
        reason = f"the slot is full: {left} of {row.capacity} seats left, {seats} asked"
    return Outcome(error_code="CONFLICT", error_message=f"slotId: {reason}")


async def reserve(
    sessions: Sessions, caller: str, slot_id: uuid.UUID, key: str, seats: int
) -> uuid.UUID:
    """The reservation's id; Conflict or NotFound when the slot cannot take the seats."""
    _check_key(key)
    if seats < 1:
        raise BadUserInput("seats", seats, "must be at least 1")
    digest = _digest("reserveSlot", {"slot": str(slot_id), "seats": seats})
    async with sessions() as session, session.begin():
        replay = await _claim(session, caller, key, "reserveSlot", digest)
        if replay is None:
            taken = await session.execute(
                update(Slot)
                .where(
                    Slot.id == slot_id,
                    Slot.status == "open",
                    Slot.starts_at > func.now(),
                    Slot.taken + seats <= Slot.capacity,
                    Slot.service_id.in_(select(Service.id).where(service_visible())),
                )
                .values(taken=Slot.taken + seats)
                .returning(Slot.id)
            )
            if taken.first() is None:
                outcome = await _why_not(session, slot_id, seats)
            else:
                reservation_id = uuid.uuid4()
                session.add(
                    Reservation(id=reservation_id, slot_id=slot_id, seats=seats, caller=caller)
                )
                outcome = Outcome(reservation_id=reservation_id)
            await _store(session, caller, key, outcome)
    return (replay or outcome).result()


async def cancel(sessions: Sessions, caller: str, reservation_id: uuid.UUID, key: str) -> uuid.UUID:
    """Cancel one's own reservation and give its seats back."""
    _check_key(key)
    digest = _digest("cancelReservation", {"reservation": str(reservation_id)})
    async with sessions() as session, session.begin():
        replay = await _claim(session, caller, key, "cancelReservation", digest)
        if replay is None:
            cancelled = (
                await session.execute(
                    update(Reservation)
                    .where(
                        Reservation.id == reservation_id,
                        Reservation.caller == caller,
                        Reservation.status == "confirmed",
                    )
                    .values(status="cancelled", cancelled_at=func.now())
                    .returning(Reservation.slot_id, Reservation.seats)
                )
            ).first()
            if cancelled is not None:
                await session.execute(
                    update(Slot)
                    .where(Slot.id == cancelled.slot_id)
                    .values(taken=Slot.taken - cancelled.seats)
                )
                outcome = Outcome(reservation_id=reservation_id)
            else:
                state = await session.scalar(
                    select(Reservation.status).where(
                        Reservation.id == reservation_id, Reservation.caller == caller
                    )
                )
                outcome = (
                    Outcome(
                        error_code="NOT_FOUND",
                        error_message=f"reservationId: no reservation {reservation_id} of yours",
                    )
                    if state is None
                    else Outcome(
                        error_code="CONFLICT",
                        error_message="reservationId: the reservation is already cancelled",
                    )
                )
            await _store(session, caller, key, outcome)
    return (replay or outcome).result()


async def purge_idempotency_keys(sessions: Sessions) -> int:
    """Forget keys older than 24 hours; returns how many."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < func.now() - KEEP_KEYS)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
