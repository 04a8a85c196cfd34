"""The root ``Subscription`` type (graphql-transport-ws on /graphql)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from ambrogio.context import Context
from ambrogio.resolvers import changes, live
from ambrogio.schema.types.availability import Slot
from ambrogio.schema.types.changes import Change
from ambrogio.schema.types.inputs import Near, RadiusMeters

Info = strawberry.Info[Context, None]


@strawberry.type(description="Live updates over WebSocket (`graphql-transport-ws` on `/graphql`).")
class Subscription:
    @strawberry.subscription(
        description="A slot each time its free seats or its state change, in any server "
        "process. Exactly one of `serviceId`, or `near` with `radiusMeters` (the slot's "
        "location, or without one its service's locations, within the radius)."
    )
    async def slot_availability_changed(
        self,
        info: Info,
        service_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The slots of this service (a global id); `NOT_FOUND` if not public."
            ),
        ] = None,
        near: Near = None,
        radius_meters: RadiusMeters = None,
    ) -> AsyncGenerator[Slot, None]:
        async for slot in live.slot_availability_changed(info, service_id, near, radius_meters):
            yield slot

    @strawberry.subscription(
        description="The change feed's entries live, as each change commits, for the records "
        "in an area: exactly one of `near` with `radiusMeters` (a provider by any of its "
        "locations, a service by where it is offered or the homes it reaches), or `comuni` "
        "(ISTAT codes). Deletions reach every subscriber. A live view may drop entries when a "
        "client falls far behind; to miss nothing, follow `changes`."
    )
    async def catalogue_changed(
        self,
        info: Info,
        near: Near = None,
        radius_meters: RadiusMeters = None,
        comuni: Annotated[
            list[str] | None,
            strawberry.argument(
                description="6-digit ISTAT codes (at most 250): records located in or serving "
                "any of them."
            ),
        ] = None,
    ) -> AsyncGenerator[Change, None]:
        async for change in changes.catalogue_changed(info, near, radius_meters, comuni):
            yield change
