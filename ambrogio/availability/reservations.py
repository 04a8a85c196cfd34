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

Callers own what they make. A signed-in user's or an API key's keys and reservations are
theirs (``Caller.key``): another caller's same key is another request, and nobody else may
cancel. An anonymous caller has no identity to scope a key to, so its reservation comes with a
secret **reservation token**, returned once, in the response that made it; only its SHA-256
digest is kept (as the reservation's owner, ``token:<digest>``), and ``cancelReservation``
requires it (the key of that cancellation is scoped to the token). Anonymous keys still never
book twice, but since anyone could send the same key, their replay never shows the reservation:
a retry of a successful anonymous reservation is a CONFLICT saying so. Reviewers and admins may
cancel anyone's reservation; each such cancellation is an audit event.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.catalogue.visibility import service_visible
from ambrogio.db import audit
from ambrogio.db.models import IdempotencyKey, Reservation, Service, Slot
from ambrogio.errors import AmbrogioError, BadUserInput, Conflict, NotFound

KEEP_KEYS = timedelta(hours=24)
MAX_KEY_LENGTH = 255
TOKEN_PREFIX = "rsv_"
# Anonymous idempotency keys share one namespace; their replays never show a reservation.
ANONYMOUS_KEYS = "anonymous"
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


@dataclass(frozen=True)
class Owner:
    """Who asks: a signed-in user's or an API key's ``Caller.key``, or None when anonymous;
    a reservation token sent with the request; whether they may cancel anyone's reservation
    (reviewers, admins), and how the audit trail names them."""

    caller: str | None
    token: str | None = None
    cancels_any: bool = False
    actor: str = "anonymous"
    request_id: str | None = None


@dataclass(frozen=True)
class Booked:
    reservation_id: uuid.UUID
    # The anonymous caller's secret, in the first response only.
    token: str | None = None


def token_owner(token: str) -> str:
    """How a reservation made anonymously names its owner: the digest of its token."""
    return "token:" + hashlib.sha256(token.encode()).hexdigest()


def _check_token(token: str) -> None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_KEY_LENGTH:
        raise BadUserInput(
            "reservationToken", token, "is not a reservation token returned by reserveSlot"
        )


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
    sessions: Sessions, owner: Owner, slot_id: uuid.UUID, key: str, seats: int
) -> Booked:
    """The reservation (and, made anonymously, its token); Conflict or NotFound when the slot
    cannot take the seats."""
    _check_key(key)
    if seats < 1:
        raise BadUserInput("seats", seats, "must be at least 1")
    digest = _digest("reserveSlot", {"slot": str(slot_id), "seats": seats})
    scope = owner.caller or ANONYMOUS_KEYS
    token = None if owner.caller else TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with sessions() as session, session.begin():
        replay = await _claim(session, scope, key, "reserveSlot", digest)
        if replay is not None and owner.caller is None and replay.reservation_id is not None:
            raise Conflict(
                f"idempotencyKey: {key!r} already made a reservation without credentials; "
                "it was shown once, with its reservationToken, to whoever sent it first. "
                "Use a new key (a random UUID) for a new reservation"
            )
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
                made_by = owner.caller or token_owner(token or "")
                session.add(
                    Reservation(id=reservation_id, slot_id=slot_id, seats=seats, caller=made_by)
                )
                outcome = Outcome(reservation_id=reservation_id)
            await _store(session, scope, key, outcome)
    if replay is not None:
        return Booked(replay.result())
    return Booked(outcome.result(), token)


async def cancel(
    sessions: Sessions, owner: Owner, reservation_id: uuid.UUID, key: str
) -> uuid.UUID:
    """Cancel a reservation one owns (by credentials or its token), or any as a reviewer, and
    give its seats back."""
    _check_key(key)
    if owner.token is not None:
        _check_token(owner.token)
    elif owner.caller is None:
        raise BadUserInput(
            "reservationToken",
            None,
            "is required without credentials: send the token reserveSlot returned",
        )
    owners = [name for name in (owner.caller, owner.token and token_owner(owner.token)) if name]
    scope = owner.caller or owners[0]
    mine = true() if owner.cancels_any else Reservation.caller.in_(owners)
    digest = _digest("cancelReservation", {"reservation": str(reservation_id)})
    async with sessions() as session, session.begin():
        replay = await _claim(session, scope, key, "cancelReservation", digest)
        if replay is None:
            cancelled = (
                await session.execute(
                    update(Reservation)
                    .where(
                        Reservation.id == reservation_id, mine, Reservation.status == "confirmed"
                    )
                    .values(status="cancelled", cancelled_at=func.now())
                    .returning(Reservation.slot_id, Reservation.seats, Reservation.caller)
                )
            ).first()
            if cancelled is not None:
                await session.execute(
                    update(Slot)
                    .where(Slot.id == cancelled.slot_id)
                    .values(taken=Slot.taken - cancelled.seats)
                )
                if cancelled.caller not in owners:
                    await _audit_override(session, owner, reservation_id, cancelled)
                outcome = Outcome(reservation_id=reservation_id)
            else:
                state = await session.scalar(
                    select(Reservation.status).where(Reservation.id == reservation_id, mine)
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
            await _store(session, scope, key, outcome)
    return (replay or outcome).result()


async def _audit_override(
    session: AsyncSession, owner: Owner, reservation_id: uuid.UUID, cancelled: Any
) -> None:
    """A reviewer or an admin cancelled somebody else's reservation: the trail says who."""
    await audit.record(
        session,
        actor=owner.actor,
        action="cancel_reservation",
        entity_type="reservation",
        entity_id=reservation_id,
        before={
            "status": "confirmed",
            "seats": cancelled.seats,
            "slot": str(cancelled.slot_id),
            "owner": cancelled.caller,
        },
        after={"status": "cancelled"},
        request_id=owner.request_id,
    )


async def purge_idempotency_keys(sessions: Sessions) -> int:
    """Forget keys older than 24 hours; returns how many."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < func.now() - KEEP_KEYS)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
