"""The published catalogue read in batches of providers, for the HSDS and GeoJSON exports.

What the public sees, and nothing else: published providers that were not merged away, and
their published locations and services (see ``ambrogio.catalogue.listings``). Each batch costs six
statements whatever its size, so an export of the whole catalogue is a few statements per
thousand providers, and memory holds one batch at a time. The reads share one read-only
repeatable-read transaction: a batch never mixes two states of the catalogue.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.catalogue.pagination import keyset_page
from ambrogio.catalogue.search import provider_modified_after
from ambrogio.catalogue.visibility import PUBLISHED, Stmt, provider_visible
from ambrogio.db.models import (
    Comune,
    CostOption,
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    ServiceCategory,
    TaxonomyTerm,
)

BATCH = 500


@dataclass(frozen=True, slots=True)
class PlacedLocation:
    location: Location
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class AreaService:
    service: Service
    # The explicit service area as a GeoJSON geometry text, or None.
    area_geojson: str | None


@dataclass(frozen=True, slots=True)
class ComuneName:
    name: str
    province_code: str


@dataclass
class Batch:
    """Providers with everything the exports write about them, keyed by owner id."""

    providers: list[Organization]
    # Every comune by ISTAT code (reference data: a few thousand rows at most).
    comuni: dict[str, ComuneName] = field(default_factory=dict)
    locations: dict[uuid.UUID, list[PlacedLocation]] = field(default_factory=dict)
    services: dict[uuid.UUID, list[AreaService]] = field(default_factory=dict)
    categories: dict[uuid.UUID, list[TaxonomyTerm]] = field(default_factory=dict)
    cost_options: dict[uuid.UUID, list[CostOption]] = field(default_factory=dict)
    # service id -> [(service_at_location id, location id)], published locations only.
    sites: dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID]]] = field(default_factory=dict)


def providers_batch(
    after: tuple[str, uuid.UUID] | None, limit: int, modified_after: datetime | None = None
) -> Stmt:
    stmt = select(Organization).where(provider_visible())
    if modified_after is not None:
        stmt = stmt.where(provider_modified_after(modified_after))
    return keyset_page(stmt, [Organization.name, Organization.id], after, limit)


def locations_of(ids: list[uuid.UUID]) -> Stmt:
    return (
        select(Location, func.ST_Y(Location.geom), func.ST_X(Location.geom))
        .where(Location.organization_id.in_(ids), Location.status == PUBLISHED)
        .order_by(Location.organization_id, Location.name, Location.id)
    )


def services_of(ids: list[uuid.UUID]) -> Stmt:
    return (
        select(Service, func.ST_AsGeoJSON(Service.service_area))
        .where(Service.organization_id.in_(ids), Service.status == PUBLISHED)
        .order_by(Service.organization_id, Service.name, Service.id)
    )


def _published_services(ids: list[uuid.UUID]) -> Select[uuid.UUID]:
    return select(Service.id).where(Service.organization_id.in_(ids), Service.status == PUBLISHED)


def categories_of(ids: list[uuid.UUID]) -> Stmt:
    return (
        select(ServiceCategory.service_id, TaxonomyTerm)
        .join(TaxonomyTerm, TaxonomyTerm.id == ServiceCategory.term_id)
        .where(ServiceCategory.service_id.in_(_published_services(ids)))
        .where(TaxonomyTerm.status == PUBLISHED)
        .order_by(ServiceCategory.service_id, TaxonomyTerm.position, TaxonomyTerm.slug)
    )


def cost_options_of(ids: list[uuid.UUID]) -> Stmt:
    return (
        select(CostOption)
        .where(CostOption.service_id.in_(_published_services(ids)))
        .order_by(CostOption.service_id, CostOption.amount.nulls_first(), CostOption.id)
    )


def sites_of(ids: list[uuid.UUID]) -> Stmt:
    return (
        select(ServiceAtLocation.id, ServiceAtLocation.service_id, ServiceAtLocation.location_id)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(ServiceAtLocation.service_id.in_(_published_services(ids)))
        .where(Location.status == PUBLISHED)
        .order_by(ServiceAtLocation.service_id, Location.name, Location.id)
    )


def comuni() -> Stmt:
    return select(Comune.istat_code, Comune.name, Comune.province_code)


async def _fill(session: AsyncSession, batch: Batch) -> None:
    ids = [provider.id for provider in batch.providers]
    locations: dict[uuid.UUID, list[PlacedLocation]] = defaultdict(list)
    for location, lat, lon in await session.execute(locations_of(ids)):
        locations[location.organization_id].append(PlacedLocation(location, lat, lon))
    services: dict[uuid.UUID, list[AreaService]] = defaultdict(list)
    for service, area in await session.execute(services_of(ids)):
        services[service.organization_id].append(AreaService(service, area))
    categories: dict[uuid.UUID, list[TaxonomyTerm]] = defaultdict(list)
    for service_id, term in await session.execute(categories_of(ids)):
        categories[service_id].append(term)
    cost_options: dict[uuid.UUID, list[CostOption]] = defaultdict(list)
    for option in (await session.scalars(cost_options_of(ids))).all():
        cost_options[option.service_id].append(option)
    sites: dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID]]] = defaultdict(list)
    for site_id, service_id, location_id in await session.execute(sites_of(ids)):
        sites[service_id].append((site_id, location_id))
    batch.locations, batch.services, batch.categories = locations, services, categories
    batch.cost_options, batch.sites = cost_options, sites


async def batch_of(session: AsyncSession, providers: list[Organization]) -> Batch:
    """A batch of these providers (already checked visible), with what the exports write."""
    names = {
        code: ComuneName(name, province) for code, name, province in await session.execute(comuni())
    }
    batch = Batch(providers, names)
    await _fill(session, batch)
    return batch


async def published_catalogue(
    sessionmaker: async_sessionmaker[AsyncSession],
    batch_size: int = BATCH,
    modified_after: datetime | None = None,
) -> AsyncIterator[Batch]:
    """The published catalogue, one batch of providers (by name, then id) at a time; with
    ``modified_after``, the providers that changed since (themselves, a location or a service:
    ``catalogue.search.provider_modified_after``), each written whole."""
    async with sessionmaker() as session:
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
        names = {
            code: ComuneName(name, province)
            for code, name, province in await session.execute(comuni())
        }
        after: tuple[str, uuid.UUID] | None = None
        while True:
            providers = list(
                (await session.scalars(providers_batch(after, batch_size, modified_after))).all()
            )
            more = len(providers) > batch_size
            providers = providers[:batch_size]
            if not providers:
                break
            batch = Batch(providers, names)
            await _fill(session, batch)
            yield batch
            if not more:
                break
            after = (providers[-1].name, providers[-1].id)
        await session.rollback()
