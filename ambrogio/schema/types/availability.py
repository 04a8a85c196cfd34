"""Slots, reservations, and the mutations that book seats."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from ambrogio.context import Context
from ambrogio.db import models
from ambrogio.ids import to_global_id
from ambrogio.schema.types.catalogue import Location, Service
from ambrogio.schema.types.node import Node

Info = strawberry.Info[Context, None]


@strawberry.type(description="A bookable time range of a service.")
class Slot(Node):
    pk: strawberry.Private[uuid.UUID]
    service_pk: strawberry.Private[uuid.UUID]
    location_pk: strawberry.Private[uuid.UUID | None]
    starts_at: datetime = strawberry.field(
        description="When the slot begins (an instant with its offset; published in Europe/Rome "
        "local time)."
    )
    ends_at: datetime = strawberry.field(description="When it ends; after `startsAt`.")
    capacity: int = strawberry.field(description="Seats in all, reserved or not (1 or more).")
    remaining: int = strawberry.field(description="Seats still free.")
    cancelled: bool = strawberry.field(
        description="True once the provider withdrew the slot: it takes no more reservations."
    )

    @classmethod
    def from_row(cls, row: models.Slot) -> Slot:
        return cls(
            id=strawberry.ID(to_global_id("Slot", row.id)),
            pk=row.id,
            service_pk=row.service_id,
            location_pk=row.location_id,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            capacity=row.capacity,
            remaining=row.capacity - row.taken,
            cancelled=row.status == "cancelled",
        )

    @strawberry.field(description="The service the slot books; null if it is no longer public.")
    async def service(self, info: Info) -> Service | None:
        row = await info.context.loaders.service.load(self.service_pk)
        return Service.from_row(row) if row else None

    @strawberry.field(
        description="Where it takes place; null for at-home and online services, or a location "
        "no longer public."
    )
    async def location(self, info: Info) -> Location | None:
        if self.location_pk is None:
            return None
        row = await info.context.loaders.location.load(self.location_pk)
        return Location.from_row(row) if row else None


@strawberry.type(description="What `publishSlots` did.")
class PublishedSlots:
    created: int = strawberry.field(description="Slots new in this call.")
    requested: int = strawberry.field(
        description="Slots the rule (or the single range) makes; those already published are "
        "left as they are."
    )
    slots: list[Slot] = strawberry.field(description="The service's slots in the range, now.")


@strawberry.type(description="Seats held on a slot.")
class Reservation(Node):
    slot_pk: strawberry.Private[uuid.UUID]
    seats: int = strawberry.field(description="Seats held on the slot (1 or more).")
    cancelled: bool = strawberry.field(
        description="True once cancelled (`cancelReservation`): its seats are free again."
    )
    created_at: datetime = strawberry.field(description="When it was made (UTC).")
    cancelled_at: datetime | None = strawberry.field(
        description="When it was cancelled (UTC); null while it holds."
    )
    reservation_token: str | None = strawberry.field(
        default=None,
        description="Only in the response that made a reservation without credentials: the "
        "secret that `cancelReservation` requires (as `reservationToken`). Shown once; keep "
        "it. Null for signed-in users and API keys, whose reservations are theirs.",
    )

    @classmethod
    def from_row(cls, row: models.Reservation, token: str | None = None) -> Reservation:
        return cls(
            id=strawberry.ID(to_global_id("Reservation", row.id)),
            slot_pk=row.slot_id,
            seats=row.seats,
            cancelled=row.status == "cancelled",
            created_at=row.created_at,
            cancelled_at=row.cancelled_at,
            reservation_token=token,
        )

    @strawberry.field(description="The slot the seats are held on.")
    async def slot(self, info: Info) -> Slot | None:
        row = await info.context.loaders.slot.load(self.slot_pk)
        return Slot.from_row(row) if row else None
