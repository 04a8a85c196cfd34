"""Which changed slots a ``slotAvailabilityChanged`` subscriber is sent.

A subscriber watches the slots of one service, or the slots near a point: a slot's own
location within the radius or, for a slot without one, a location of its service. Either way
only slots of services the public sees are sent.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from ambrogio.catalogue.visibility import PUBLISHED, service_visible
from ambrogio.db.models import Location, Service, ServiceAtLocation, Slot
from ambrogio.geo.point import LatLon, geography


def of_service(service_id: uuid.UUID) -> ColumnElement[bool]:
    return Slot.service_id == service_id


def near(point: LatLon, radius: float) -> ColumnElement[bool]:
    """The slot's own location is within the radius, or (without one) a location of its service."""
    place = aliased(Location)
    at = aliased(ServiceAtLocation)

    def within(location: type[Location]) -> ColumnElement[bool]:
        return and_(
            location.status == PUBLISHED,
            func.ST_DWithin(geography(location.geom), point.geography(), literal(radius)),
        )

    own = exists().where(place.id == Slot.location_id, within(place))
    other = aliased(Location)
    of_its_service = (
        select(literal(1))
        .select_from(at)
        .join(other, other.id == at.location_id)
        .where(at.service_id == Slot.service_id, within(other))
        .correlate(Slot)
        .exists()
    )
    return or_(own, and_(Slot.location_id.is_(None), of_its_service))


def changed_slot(slot_id: uuid.UUID, watched: ColumnElement[bool]) -> Select[Slot]:
    """The slot that changed, if the subscriber watches it and the public sees its service."""
    visible = Slot.service_id.in_(select(Service.id).where(service_visible()))
    return select(Slot).where(Slot.id == slot_id, visible, watched)
