"""Mutations of the availability capability: reservations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ambrogio.context import Context
from ambrogio.resolvers import availability
from ambrogio.schema.availability import Reservation

Info = strawberry.Info[Context, None]

KEY = (
    "Your unique key for this request (1–255 characters). Retrying with the same key returns "
    "the first response and never books twice; the same key with other arguments is a CONFLICT."
)


@strawberry.type
class AvailabilityMutation:
    @strawberry.mutation(
        description="Take `seats` on a slot. CONFLICT when the slot is full, started or "
        "cancelled; never more seats than capacity, whatever the concurrency."
    )
    async def reserve_slot(
        self,
        info: Info,
        slot_id: strawberry.ID,
        idempotency_key: Annotated[str, strawberry.argument(description=KEY)],
        seats: int = 1,
    ) -> Reservation:
        return await availability.reserve_slot(info, slot_id, idempotency_key, seats)

    @strawberry.mutation(description="Cancel one of your reservations; its seats are freed.")
    async def cancel_reservation(
        self,
        info: Info,
        reservation_id: strawberry.ID,
        idempotency_key: Annotated[str, strawberry.argument(description=KEY)],
    ) -> Reservation:
        return await availability.cancel_reservation(info, reservation_id, idempotency_key)
