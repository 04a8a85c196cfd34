"""GeoJSON features of a search: one Point feature per (service, published location)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.orm import aliased

from ambrogio.catalogue.visibility import PUBLISHED, Stmt
from ambrogio.db.models import (
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    ServiceCategory,
    TaxonomyTerm,
)
from ambrogio.geo.point import LatLon, geography


def service_features(
    conditions: Sequence[ColumnElement[bool]],
    point: LatLon | None,
    radius_m: float | None,
    limit: int,
) -> Stmt:
    slugs = (
        select(func.array_agg(TaxonomyTerm.slug))
        .join(ServiceCategory, ServiceCategory.term_id == TaxonomyTerm.id)
        .where(ServiceCategory.service_id == Service.id)
        .scalar_subquery()
    )
    # An alias: the visibility conditions hold their own EXISTS on ``organization``.
    owner = aliased(Organization)
    distance: ColumnElement[Any] = (
        func.ST_Distance(geography(Location.geom), point.geography())
        if point is not None
        else literal(None)
    )
    stmt = (
        select(
            Service.id,
            Service.name,
            Service.delivery,
            owner.id.label("provider_id"),
            owner.name.label("provider_name"),
            Location.id.label("location_id"),
            func.ST_Y(Location.geom).label("lat"),
            func.ST_X(Location.geom).label("lon"),
            Location.geocode_precision,
            slugs.label("categories"),
            distance.label("d"),
        )
        .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .join(owner, owner.id == Service.organization_id)
        .where(*conditions, Location.status == PUBLISHED, Location.geom.is_not(None))
    )
    if point is not None and radius_m is not None:
        stmt = stmt.where(
            func.ST_DWithin(geography(Location.geom), point.geography(), literal(radius_m))
        )
    order = [distance] if point is not None else [Service.name]
    return stmt.order_by(*order, Service.id, Location.id).limit(limit)
