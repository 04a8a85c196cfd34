"""The root ``Subscription`` type (graphql-transport-ws on /graphql)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from ambrogio.context import Context
from ambrogio.resolvers import live
from ambrogio.schema.types.availability import Slot
from ambrogio.schema.types.inputs import LatLonInput

Info = strawberry.Info[Context, None]


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A slot each time its free seats or its state change, in any server "
        "process. Exactly one of `serviceId`, or `near` with `radiusMeters` (the slot's "
        "location, or without one its service's locations, within the radius)."
    )
    async def slot_availability_changed(
        self,
        info: Info,
        service_id: strawberry.ID | None = None,
        near: LatLonInput | None = None,
        radius_meters: float | None = None,
    ) -> AsyncGenerator[Slot, None]:
        async for slot in live.slot_availability_changed(info, service_id, near, radius_meters):
            yield slot
