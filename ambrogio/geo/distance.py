"""Metres from a point to a provider or a service: to its nearest published, located location.

One definition for every reader (the nearby page, the name and relevance orders, counts), so a
provider's distance is the same number whichever order lists it. NULL when it has no such
location.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import aliased

from ambrogio.catalogue.visibility import PUBLISHED
from ambrogio.db.models import Location, Organization, Service, ServiceAtLocation
from ambrogio.geo.point import geography


def provider_distance(point: ColumnElement[object]) -> ColumnElement[float]:
    """Correlated with the enclosing query's ``Organization``."""
    near = aliased(Location)
    return (
        select(func.min(func.ST_Distance(geography(near.geom), point)))
        .where(near.organization_id == Organization.id)
        .where(near.status == PUBLISHED, near.geom.is_not(None))
        .scalar_subquery()
    )


def service_distance(point: ColumnElement[object]) -> ColumnElement[float]:
    """Correlated with the enclosing query's ``Service``."""
    near = aliased(Location)
    at = aliased(ServiceAtLocation)
    return (
        select(func.min(func.ST_Distance(geography(near.geom), point)))
        .select_from(at)
        .join(near, near.id == at.location_id)
        .where(at.service_id == Service.id)
        .where(near.status == PUBLISHED, near.geom.is_not(None))
        .scalar_subquery()
    )
