"""``slots``, ``reserveSlot`` and ``cancelReservation``."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import strawberry

from ambrogio import ids, validation
from ambrogio.auth.permissions import reviews_directly
from ambrogio.availability import publishing, reservations
from ambrogio.catalogue import listings as q
from ambrogio.context import Context
from ambrogio.db import audit
from ambrogio.db.models import Location as LocationRow
from ambrogio.db.models import Reservation as ReservationRow
from ambrogio.db.models import Service as ServiceRow
from ambrogio.editing import scope
from ambrogio.editing.entities import Entity
from ambrogio.enums import Status
from ambrogio.errors import BadUserInput, NotFound
from ambrogio.hours.calendar import local
from ambrogio.schema.types.availability import PublishedSlots, Reservation, Slot

Info = strawberry.Info[Context, None]


async def slots(info: Info, service_id: str, start: datetime, end: datetime) -> list[Slot]:
    service = ids.decode(service_id, "Service", "serviceId")
    start, end = validation.time_window("from", start, "to", end)
    if await info.context.loaders.service.load(service) is None:
        raise NotFound(f"serviceId: no service {service_id!r} is visible")
    async with info.context.sessionmaker() as session:
        rows = (await session.scalars(q.slots_of_service(service, start, end))).all()
    return [Slot.from_row(row) for row in rows]


async def _reservation(
    info: Info, reservation_id: uuid.UUID, token: str | None = None
) -> Reservation:
    # Read after the commit, from a new session: the replayed and the first response agree.
    # A replay may name a reservation that is gone since (its slot was withdrawn and deleted,
    # which deletes its reservations): the stored outcome then has nothing left to show.
    async with info.context.sessionmaker() as session:
        row = await session.get(ReservationRow, reservation_id)
    if row is None:
        raise NotFound(
            f"reservationId: reservation {ids.to_global_id('Reservation', reservation_id)!r}"
            " no longer exists; its slot was withdrawn"
        )
    return Reservation.from_row(row, token)


def _owner(info: Info, token: str | None = None) -> reservations.Owner:
    caller = info.context.caller
    return reservations.Owner(
        caller=None if caller.anonymous else caller.key,
        token=token,
        cancels_any=reviews_directly(caller),
        actor=caller.actor,
        request_id=info.context.request_id,
    )


async def publish_slots(
    info: Info,
    service_id: str,
    rule: str | None,
    first: date | None,
    days: int,
    minutes: int,
    start: datetime | None,
    end: datetime | None,
    capacity: int,
    location_id: str | None,
) -> PublishedSlots:
    """Publish bookable slots of a service: from a recurring rule, or one range.

    Slots are availability, not catalogue content: whoever may edit the service (a mapper
    within their comuni, a reviewer, an API key with the ``edit`` scope) publishes them at once,
    and an audit event records it.
    """
    service = ids.decode(service_id, "Service", "serviceId")
    location = ids.decode(location_id, "Location", "locationId") if location_id else None
    if rule is not None:
        if start is not None or end is not None:
            raise BadUserInput("rule", rule, "goes without `start` and `end`")
        day = first or local(datetime.now(UTC)).date()
        ranges = publishing.recurring_ranges(rule, day, days, minutes)
    elif start is not None and end is not None:
        ranges = [publishing.checked_range(start, end)]
    else:
        raise BadUserInput("rule", None, "is required, or `start` and `end`")
    caller = info.context.caller
    async with info.context.sessionmaker() as session, session.begin():
        row = await session.get(ServiceRow, service)
        if row is None or row.status == Status.ARCHIVED.value:
            raise NotFound(f"serviceId: no service {service_id!r}")
        await scope.check(session, caller, Entity.SERVICE, row, {})
        if location is not None:
            where = await session.get(LocationRow, location)
            if where is None or where.organization_id != row.organization_id:
                raise BadUserInput(
                    "locationId", location_id, "is no location of the service's provider"
                )
        created = await publishing.publish_slots(session, service, ranges, capacity, location)
        await audit.record(
            session,
            actor=caller.actor,
            action="publish_slots",
            entity_type=Entity.SERVICE.value,
            entity_id=service,
            before=None,
            after={
                "rule": rule,
                "requested": len(ranges),
                "created": created,
                "capacity": capacity,
            },
            request_id=info.context.request_id,
        )
    window = (ranges[0][0], ranges[-1][1]) if ranges else None
    slots: list[Slot] = []
    if window is not None:
        async with info.context.sessionmaker() as session:
            rows = (await session.scalars(q.slots_of_service(service, *window))).all()
        slots = [Slot.from_row(slot) for slot in rows]
    return PublishedSlots(created=created, requested=len(ranges), slots=slots)


async def reserve_slot(info: Info, slot_id: str, idempotency_key: str, seats: int) -> Reservation:
    slot = ids.decode(slot_id, "Slot", "slotId")
    booked = await reservations.reserve(
        info.context.sessionmaker, _owner(info), slot, idempotency_key, seats
    )
    return await _reservation(info, booked.reservation_id, booked.token)


async def cancel_reservation(
    info: Info, reservation_id: str, idempotency_key: str, reservation_token: str | None
) -> Reservation:
    reservation = ids.decode(reservation_id, "Reservation", "reservationId")
    cancelled = await reservations.cancel(
        info.context.sessionmaker, _owner(info, reservation_token), reservation, idempotency_key
    )
    return await _reservation(info, cancelled)
