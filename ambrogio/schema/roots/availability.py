"""Mutations of the availability capability: reservations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from ambrogio.context import Context
from ambrogio.resolvers import availability
from ambrogio.schema.permissions import CanEdit
from ambrogio.schema.types.availability import PublishedSlots, Reservation

Info = strawberry.Info[Context, None]

KEY = (
    "Your unique key for this request (1–255 characters; a random UUID). Retrying with the "
    "same key never books twice and returns the first response; the same key with other "
    "arguments is a CONFLICT. Keys are scoped to your credentials (user or API key), or to "
    "the reservation token; without credentials a retry of a reservation that succeeded is a "
    "CONFLICT, since anyone could send the same key."
)
TOKEN = (
    "The `reservationToken` that `reserveSlot` returned: required to cancel a reservation made "
    "without credentials."
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

    @strawberry.mutation(
        permission_classes=[CanEdit],
        description="Publish bookable slots of a service (who may edit it: mappers within their "
        "comuni, reviewers, API keys with the EDIT scope): from a recurring `rule` in "
        "opening_hours syntax (e.g. 'Mo-Fr 09:00-12:00; PH off', Europe/Rome wall-clock) over "
        "`days` days from `first`, cut into `minutes`-long slots; or one slot from `start` to "
        "`end`. Publishing the same slots again changes nothing.",
    )
    async def publish_slots(
        self,
        info: Info,
        service_id: strawberry.ID,
        capacity: int = 1,
        rule: str | None = None,
        first: date | None = None,
        days: int = 28,
        minutes: int = 60,
        start: datetime | None = None,
        end: datetime | None = None,
        location_id: strawberry.ID | None = None,
    ) -> PublishedSlots:
        return await availability.publish_slots(
            info, service_id, rule, first, days, minutes, start, end, capacity, location_id
        )

    @strawberry.mutation(
        description="Cancel one of your reservations (by your credentials, or with its "
        "`reservationToken`); its seats are freed. Reviewers and admins may cancel anyone's, "
        "recorded in the audit trail. NOT_FOUND for a reservation that is not yours."
    )
    async def cancel_reservation(
        self,
        info: Info,
        reservation_id: strawberry.ID,
        idempotency_key: Annotated[str, strawberry.argument(description=KEY)],
        reservation_token: Annotated[str | None, strawberry.argument(description=TOKEN)] = None,
    ) -> Reservation:
        return await availability.cancel_reservation(
            info, reservation_id, idempotency_key, reservation_token
        )
