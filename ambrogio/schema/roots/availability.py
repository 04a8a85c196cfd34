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
        slot_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The slot's global id (from `slots`); `NOT_FOUND` if there is none."
            ),
        ],
        idempotency_key: Annotated[str, strawberry.argument(description=KEY)],
        seats: Annotated[
            int,
            strawberry.argument(
                description="How many seats, 1 or more (default 1), at most those `remaining`."
            ),
        ] = 1,
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
        service_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The service's global id; `NOT_FOUND` if archived."),
        ],
        capacity: Annotated[
            int, strawberry.argument(description="Seats in each slot, 1 or more (default 1).")
        ] = 1,
        rule: Annotated[
            str | None,
            strawberry.argument(
                description="When it is bookable, in OpenStreetMap `opening_hours` syntax read "
                "as Europe/Rome wall-clock time; at most 5000 slots in all. Give it, or "
                "`start` and `end`."
            ),
        ] = None,
        first: Annotated[
            date | None,
            strawberry.argument(description="The rule's first day; today in Rome if omitted."),
        ] = None,
        days: Annotated[
            int,
            strawberry.argument(
                description="Days the rule covers from `first`, 1–92 (default 28)."
            ),
        ] = 28,
        minutes: Annotated[
            int,
            strawberry.argument(
                description="Length of each slot cut from the rule's open periods, 5–1440 "
                "minutes (default 60)."
            ),
        ] = 60,
        start: Annotated[
            datetime | None,
            strawberry.argument(
                description="One slot instead of a rule: its start, with an offset "
                "(`2026-12-07T09:00:00+01:00`)."
            ),
        ] = None,
        end: Annotated[
            datetime | None,
            strawberry.argument(
                description="The single slot's end, after `start`, with an offset."
            ),
        ] = None,
        location_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Where the slots take place: a location of the service's provider "
                "(else `BAD_USER_INPUT`); null for at-home or online services."
            ),
        ] = None,
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
        reservation_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The reservation's global id (`Reservation.id`)."),
        ],
        idempotency_key: Annotated[str, strawberry.argument(description=KEY)],
        reservation_token: Annotated[str | None, strawberry.argument(description=TOKEN)] = None,
    ) -> Reservation:
        return await availability.cancel_reservation(
            info, reservation_id, idempotency_key, reservation_token
        )
