"""``slotAvailabilityChanged``: slots of one service, or near a point, as their seats change."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

import strawberry

from ambrogio import ids
from ambrogio.availability import live
from ambrogio.context import Context
from ambrogio.db import faults
from ambrogio.db.notifications import SLOT_CHANNEL
from ambrogio.errors import BadUserInput, NotFound, Unavailable
from ambrogio.resolvers.search import checked_circle
from ambrogio.schema.types.availability import Slot
from ambrogio.schema.types.inputs import LatLonInput

Info = strawberry.Info[Context, None]


async def slot_availability_changed(
    info: Info,
    service_id: strawberry.ID | None,
    near: LatLonInput | None,
    radius_m: float | None,
) -> AsyncGenerator[Slot, None]:
    if (service_id is None) == (near is None):
        raise BadUserInput("serviceId", service_id, "give exactly one of serviceId or near")
    if service_id is not None:
        if radius_m is not None:
            raise BadUserInput("radiusMeters", radius_m, "goes with `near`, not `serviceId`")
        service = ids.decode(service_id, "Service", "serviceId")
        if await info.context.loaders.service.load(service) is None:
            raise NotFound(f"serviceId: no service {service_id!r} is visible")
        watched = live.of_service(service)
    else:
        assert near is not None
        watched = live.near(*checked_circle(near, radius_m))
    changes = info.context.notifications
    if changes is None:
        raise Unavailable("slotAvailabilityChanged: live updates are unavailable; retry later")
    async with changes.subscribe(SLOT_CHANNEL) as queue:
        while True:
            try:
                slot_id = uuid.UUID(await queue.get())
            except ValueError:
                continue
            row = None
            with faults.tolerated():
                async with info.context.sessionmaker() as session:
                    row = await session.scalar(live.changed_slot(slot_id, watched))
            if row is not None:
                yield Slot.from_row(row)
