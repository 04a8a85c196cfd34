"""``slotAvailabilityChanged``: slots of one service, or near a point, as their seats change."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

import strawberry
from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from ambrogio import ids
from ambrogio.catalogue.visibility import PUBLISHED, service_visible
from ambrogio.context import Context
from ambrogio.db.models import Location, Service, ServiceAtLocation
from ambrogio.db.models import Slot as SlotRow
from ambrogio.errors import BadUserInput, NotFound, Unavailable
from ambrogio.geo.point import LatLon, checked_radius, geography
from ambrogio.schema.types.availability import Slot
from ambrogio.schema.types.inputs import LatLonInput

Info = strawberry.Info[Context, None]


def _near(point: LatLon, radius: float) -> ColumnElement[bool]:
    """The slot's own location is within the radius, or (without one) a location of its service."""
    place = aliased(Location)
    at = aliased(ServiceAtLocation)

    def within(location: type[Location]) -> ColumnElement[bool]:
        return and_(
            location.status == PUBLISHED,
            func.ST_DWithin(geography(location.geom), point.geography(), literal(radius)),
        )

    own = exists().where(place.id == SlotRow.location_id, within(place))
    other = aliased(Location)
    of_service = (
        select(literal(1))
        .select_from(at)
        .join(other, other.id == at.location_id)
        .where(at.service_id == SlotRow.service_id, within(other))
        .correlate(SlotRow)
        .exists()
    )
    return or_(own, and_(SlotRow.location_id.is_(None), of_service))


async def slot_availability_changed(
    info: Info,
    service_id: strawberry.ID | None,
    near: LatLonInput | None,
    radius_m: float | None,
) -> AsyncGenerator[Slot, None]:
    if (service_id is None) == (near is None):
        raise BadUserInput("serviceId", service_id, "give exactly one of serviceId or near")
    match: ColumnElement[bool]
    if service_id is not None:
        if radius_m is not None:
            raise BadUserInput("radiusMeters", radius_m, "goes with `near`, not `serviceId`")
        service = ids.decode(service_id, "Service", "serviceId")
        if await info.context.loaders.service.load(service) is None:
            raise NotFound(f"serviceId: no service {service_id!r} is visible")
        match = SlotRow.service_id == service
    else:
        assert near is not None
        point = LatLon.checked(near.lat, near.lon, "near")
        radius = checked_radius(radius_m)
        if radius is None:
            raise BadUserInput("radiusMeters", radius_m, "is required with `near`")
        match = _near(point, radius)
    changes = info.context.slot_changes
    if changes is None:
        raise Unavailable("slotAvailabilityChanged: live updates are unavailable; retry later")
    visible = SlotRow.service_id.in_(select(Service.id).where(service_visible()))
    async with changes.subscribe() as queue:
        while True:
            slot_id: uuid.UUID = await queue.get()
            async with info.context.sessionmaker() as session:
                row = await session.scalar(
                    select(SlotRow).where(SlotRow.id == slot_id, visible, match)
                )
            if row is not None:
                yield Slot.from_row(row)
