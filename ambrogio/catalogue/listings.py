"""Statements that list the public catalogue and batch its nested fields for the loaders.

Visibility rules are in ``catalogue.visibility``. Builders here return statements and do no I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ambrogio.catalogue.pagination import keyset_page
from ambrogio.catalogue.visibility import (
    PUBLISHED,
    Stmt,
    location_visible,
    provider_visible,
    service_visible,
)
from ambrogio.db.models import (
    Comune,
    CostOption,
    Location,
    Organization,
    Reservation,
    Service,
    ServiceAtLocation,
    ServiceCategory,
    Slot,
    TaxonomyTerm,
    WelfarePoint,
)


def comuni_page(
    after: Sequence[Any] | None, limit: int, provinces: Sequence[str] | None = None
) -> Stmt:
    """By ISTAT code; only those of ``provinces`` (two-letter codes) when given."""
    stmt = select(Comune)
    if provinces is not None:
        stmt = stmt.where(Comune.province_code.in_([code.upper() for code in provinces]))
    return keyset_page(stmt, [Comune.istat_code], after, limit)


def root_categories() -> Stmt:
    return (
        select(TaxonomyTerm)
        .where(TaxonomyTerm.parent_id.is_(None), TaxonomyTerm.status == PUBLISHED)
        .where(TaxonomyTerm.vocabulary == "ambrogio")
        .order_by(TaxonomyTerm.position, TaxonomyTerm.slug)
    )


# Batches for DataLoaders: one statement per batch of keys.


def providers_by_id(ids: Sequence[uuid.UUID]) -> Stmt:
    return select(Organization).where(Organization.id.in_(ids), provider_visible())


def locations_by_id(ids: Sequence[uuid.UUID]) -> Stmt:
    return select(Location).where(Location.id.in_(ids), location_visible())


def services_by_id(ids: Sequence[uuid.UUID]) -> Stmt:
    return select(Service).where(Service.id.in_(ids), service_visible())


def welfare_points_by_id(ids: Sequence[uuid.UUID]) -> Stmt:
    return select(WelfarePoint).where(WelfarePoint.id.in_(ids), WelfarePoint.status == PUBLISHED)


def categories_by_id(ids: Sequence[uuid.UUID]) -> Stmt:
    return select(TaxonomyTerm).where(TaxonomyTerm.id.in_(ids), TaxonomyTerm.status == PUBLISHED)


def comuni_by_code(codes: Sequence[str]) -> Stmt:
    return select(Comune).where(Comune.istat_code.in_(codes))


def locations_of_providers(ids: Sequence[uuid.UUID]) -> Stmt:
    return (
        select(Location)
        .where(Location.organization_id.in_(ids), Location.status == PUBLISHED)
        .order_by(Location.organization_id, Location.name, Location.id)
    )


def services_of_providers(ids: Sequence[uuid.UUID]) -> Stmt:
    return (
        select(Service)
        .where(Service.organization_id.in_(ids), Service.status == PUBLISHED)
        .order_by(Service.organization_id, Service.name, Service.id)
    )


def locations_of_services(ids: Sequence[uuid.UUID]) -> Stmt:
    return (
        select(ServiceAtLocation.service_id, Location)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(ServiceAtLocation.service_id.in_(ids), Location.status == PUBLISHED)
        .order_by(ServiceAtLocation.service_id, Location.name, Location.id)
    )


def services_at_locations(ids: Sequence[uuid.UUID]) -> Stmt:
    return (
        select(ServiceAtLocation.location_id, Service)
        .join(Service, Service.id == ServiceAtLocation.service_id)
        .where(ServiceAtLocation.location_id.in_(ids), Service.status == PUBLISHED)
        .order_by(ServiceAtLocation.location_id, Service.name, Service.id)
    )


def categories_of_services(ids: Sequence[uuid.UUID]) -> Stmt:
    return (
        select(ServiceCategory.service_id, TaxonomyTerm)
        .join(TaxonomyTerm, TaxonomyTerm.id == ServiceCategory.term_id)
        .where(ServiceCategory.service_id.in_(ids), TaxonomyTerm.status == PUBLISHED)
        .order_by(ServiceCategory.service_id, TaxonomyTerm.position, TaxonomyTerm.slug)
    )


def cost_options_of_services(ids: Sequence[uuid.UUID]) -> Stmt:
    return (
        select(CostOption)
        .where(CostOption.service_id.in_(ids))
        .order_by(CostOption.service_id, CostOption.amount.nulls_first(), CostOption.id)
    )


def children_of_categories(ids: Sequence[uuid.UUID]) -> Stmt:
    return (
        select(TaxonomyTerm)
        .where(TaxonomyTerm.parent_id.in_(ids), TaxonomyTerm.status == PUBLISHED)
        .order_by(TaxonomyTerm.parent_id, TaxonomyTerm.position, TaxonomyTerm.slug)
    )


def slots_by_id(ids: Sequence[uuid.UUID]) -> Stmt:
    visible = select(Service.id).where(service_visible())
    return select(Slot).where(Slot.id.in_(ids), Slot.service_id.in_(visible))


def reservations_by_id(ids: Sequence[uuid.UUID]) -> Stmt:
    return select(Reservation).where(Reservation.id.in_(ids))


def slots_of_service(service_id: uuid.UUID, start: datetime, end: datetime) -> Stmt:
    """Open or cancelled slots of a visible service overlapping [start, end), by start."""
    window = func.tstzrange(start, end)
    return (
        select(Slot)
        .where(Slot.service_id == service_id, Slot.during.op("&&")(window))
        .where(Slot.service_id.in_(select(Service.id).where(service_visible())))
        .order_by(Slot.starts_at, Slot.id)
    )
