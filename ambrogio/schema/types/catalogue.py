"""The catalogue's three node types, which refer to one another: a provider (HSDS
organization), its locations (HSDS location) and its services (HSDS service).

They share one module because each resolves the others' fields (a provider's locations, a
location's provider and services, a service's provider and locations): in three modules they
would import one another.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from ambrogio.context import Context
from ambrogio.db import models
from ambrogio.geo.convert import geojson, lat_lon
from ambrogio.ids import to_global_id
from ambrogio.schema.types.category import Category
from ambrogio.schema.types.comune import Comune
from ambrogio.schema.types.enums import (
    Delivery,
    GeocodePrecision,
    PriceUnit,
    ProviderKind,
    Status,
    TargetGroup,
    TuirCategory,
)
from ambrogio.schema.types.hours import OpeningHours
from ambrogio.schema.types.node import Node
from ambrogio.schema.types.shared import (
    ADDRESS,
    CAP,
    CREATED_AT,
    DESCRIPTION,
    EMAIL,
    EXTERNAL_ID,
    NAME,
    PHONE,
    SOURCE,
    STATUS,
    UPDATED_AT,
    VERIFIED_AT,
    VERIFIED_BY,
    VERSION,
    WEBSITE,
)

Info = strawberry.Info[Context, None]


# The attributes ``Provider.from_row`` copies from the same-named column unchanged.
PROVIDER_PLAIN_COLUMNS = frozenset(
    {
        "name",
        "tax_code",
        "runts_id",
        "description",
        "email",
        "phone",
        "website",
        "source",
        "external_id",
        "created_at",
        "updated_at",
        "verified_at",
        "verified_by",
        "version",
    }
)


@strawberry.type(description="A provider: cooperative, association, business or public body.")
class Provider(Node):
    pk: strawberry.Private[uuid.UUID]
    name: str = strawberry.field(description=NAME)
    kind: ProviderKind = strawberry.field(description="Its legal form.")
    tax_code: str | None = strawberry.field(description="Codice fiscale or partita IVA.")
    runts_id: str | None = strawberry.field(description="RUNTS registration (third sector).")
    description: str | None = strawberry.field(description=DESCRIPTION)
    email: str | None = strawberry.field(description=EMAIL)
    phone: str | None = strawberry.field(description=PHONE)
    website: str | None = strawberry.field(description=WEBSITE)
    source: str = strawberry.field(description=SOURCE)
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    created_at: datetime = strawberry.field(description=CREATED_AT)
    updated_at: datetime = strawberry.field(description=UPDATED_AT)
    verified_at: datetime | None = strawberry.field(description=VERIFIED_AT)
    verified_by: str | None = strawberry.field(description=VERIFIED_BY)
    version: int = strawberry.field(description=VERSION)
    status: Status = strawberry.field(description=STATUS)

    @classmethod
    def from_row(cls, row: models.Organization) -> Provider:
        return cls(
            id=strawberry.ID(to_global_id("Provider", row.id)),
            pk=row.id,
            name=row.name,
            kind=ProviderKind(row.kind),
            tax_code=row.tax_code,
            runts_id=row.runts_id,
            description=row.description,
            email=row.email,
            phone=row.phone,
            website=row.website,
            source=row.source,
            external_id=row.external_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            verified_at=row.verified_at,
            verified_by=row.verified_by,
            version=row.version,
            status=Status(row.status),
        )

    @classmethod
    def from_columns(cls, columns: tuple[str, ...], row: Any) -> Provider:
        """A provider holding only its ids and ``columns`` (among ``PROVIDER_PLAIN_COLUMNS``), as
        ``from_row`` sets them: for a reader that reads nothing else (a compiled plan), from
        a row that has only these. Any other attribute is missing (it raises when read)."""
        node = cls.__new__(cls)
        node.id = strawberry.ID(to_global_id("Provider", row.id))
        node.pk = row.id
        for name in columns:
            setattr(node, name, getattr(row, name))
        return node

    @strawberry.field(description="The provider's published locations.")
    async def locations(self, info: Info) -> list[Location]:
        rows = await info.context.loaders.provider_locations.load(self.pk)
        return [Location.from_row(row) for row in rows]

    @strawberry.field(description="The provider's published services.")
    async def services(self, info: Info) -> list[Service]:
        rows = await info.context.loaders.provider_services.load(self.pk)
        return [Service.from_row(row) for row in rows]


@strawberry.type(description="A place where a provider works; the point may be unknown.")
class Location(Node):
    pk: strawberry.Private[uuid.UUID]
    provider_pk: strawberry.Private[uuid.UUID]
    comune_istat: strawberry.Private[str | None]
    _geom: strawberry.Private[Any]
    name: str | None = strawberry.field(
        description="The place's own name (`Sede di Lecco`, `Centro diurno`); null when the "
        "provider's name says it."
    )
    lat: float | None = strawberry.field(description="WGS84 latitude; null when not located.")
    lon: float | None = strawberry.field(description="WGS84 longitude; null when not located.")
    geocode_precision: GeocodePrecision | None = strawberry.field(
        description="How the point was obtained: EXACT, ADDRESS (geocoded) or COMUNE (the "
        "comune's centroid: show it as approximate); null without a point."
    )
    outside_territory: bool = strawberry.field(
        description="The place lies outside the territory (its comune is in none of the "
        "territory's provinces or regions; without a comune, outside its envelope): kept, "
        "flagged for review."
    )
    comune_precision: str | None = strawberry.field(
        description="How the comune was found: `given` (by the record), `boundary` (the point "
        "lies in it) or `centroid` (the nearest centroid: near a border, check it); null when "
        "not recorded."
    )
    address: str | None = strawberry.field(description=ADDRESS)
    cap: str | None = strawberry.field(description=CAP)
    wheelchair_accessible: bool | None = strawberry.field(
        description="Whether a wheelchair user can get in and use the place; null when not "
        "known (the `wheelchairAccessible` filter keeps `true` only)."
    )
    accessibility: str | None = strawberry.field(
        description="Free text on access (steps, lifts, toilets, parking); null if none."
    )
    opening_hours: str | None = strawberry.field(
        description="Opening hours in OpenStreetMap `opening_hours` syntax."
    )
    verified_at: datetime | None = strawberry.field(description=VERIFIED_AT)
    verified_by: str | None = strawberry.field(description=VERIFIED_BY)
    version: int = strawberry.field(description=VERSION)
    status: Status = strawberry.field(description=STATUS)

    @classmethod
    def from_row(cls, row: models.Location) -> Location:
        point = lat_lon(row.geom)
        return cls(
            id=strawberry.ID(to_global_id("Location", row.id)),
            pk=row.id,
            provider_pk=row.organization_id,
            comune_istat=row.comune_istat,
            _geom=row.geom,
            name=row.name,
            lat=point[0] if point else None,
            lon=point[1] if point else None,
            geocode_precision=GeocodePrecision(row.geocode_precision)
            if row.geocode_precision
            else None,
            outside_territory=bool(row.outside_territory),
            comune_precision=row.comune_precision,
            address=row.address,
            cap=row.cap,
            wheelchair_accessible=row.wheelchair_accessible,
            accessibility=row.accessibility,
            opening_hours=row.opening_hours,
            verified_at=row.verified_at,
            verified_by=row.verified_by,
            version=row.version,
            status=Status(row.status),
        )

    @strawberry.field(description="The point as a GeoJSON geometry, or null.")
    def geojson(self) -> JSON | None:
        return cast(JSON, geojson(self._geom))

    @strawberry.field(
        description="`openingHours` parsed: open at a time, next change, day by day; null "
        "without opening hours."
    )
    def hours(self) -> OpeningHours | None:
        return OpeningHours.of(self.opening_hours, self.comune_istat)

    @strawberry.field(
        description="The comune the place lies in (see `comunePrecision`); null when unknown."
    )
    async def comune(self, info: Info) -> Comune | None:
        return await Comune.load(info, self.comune_istat)

    @strawberry.field(description="The provider that works here; null if no longer public.")
    async def provider(self, info: Info) -> Provider | None:
        row = await info.context.loaders.provider.load(self.provider_pk)
        return Provider.from_row(row) if row else None

    @strawberry.field(description="Published services offered at this location.")
    async def services(self, info: Info) -> list[Service]:
        rows = await info.context.loaders.location_services.load(self.pk)
        return [Service.from_row(row) for row in rows]


@strawberry.type(description="A price of a service: `amount` in `currency` per `unit`.")
class CostOption:
    amount: float | None = strawberry.field(
        description="The price in `currency` (euros, two decimals); null for FREE or a price "
        "on request."
    )
    currency: str = strawberry.field(description="ISO 4217 currency code: `EUR`.")
    unit: PriceUnit = strawberry.field(description="What the amount pays for.")
    description: str | None = strawberry.field(
        description="Conditions of this price (`with ISEE under 15,000 euros`); null if none."
    )

    @classmethod
    def from_row(cls, row: models.CostOption) -> CostOption:
        return cls(
            amount=float(row.amount) if row.amount is not None else None,
            currency=row.currency,
            unit=PriceUnit(row.unit),
            description=row.description,
        )


@strawberry.type(description="A service a provider offers, on site, at home or online.")
class Service(Node):
    pk: strawberry.Private[uuid.UUID]
    provider_pk: strawberry.Private[uuid.UUID]
    area_codes: strawberry.Private[list[str]]
    _area: strawberry.Private[Any]
    name: str = strawberry.field(description=NAME)
    description: str | None = strawberry.field(description=DESCRIPTION)
    welfare_eligible: bool = strawberry.field(
        description="Whether company welfare credit can pay for it."
    )
    tuir_category: TuirCategory = strawberry.field(
        description="The art. 51 TUIR category a company may pay it under tax-free; NONE when "
        "it may not."
    )
    target_groups: list[TargetGroup] = strawberry.field(
        description="Who it is meant for; empty: anybody."
    )
    min_age: int | None = strawberry.field(
        description="Youngest age served, in years (inclusive); null: no lower limit."
    )
    max_age: int | None = strawberry.field(
        description="Oldest age served, in years (inclusive); null: no upper limit."
    )
    languages: list[str] = strawberry.field(description="ISO 639-1 codes.")
    delivery: list[Delivery] = strawberry.field(
        description="How it reaches people: on site, at home, online (one or more)."
    )
    source: str = strawberry.field(description=SOURCE)
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    created_at: datetime = strawberry.field(description=CREATED_AT)
    updated_at: datetime = strawberry.field(description=UPDATED_AT)
    verified_at: datetime | None = strawberry.field(description=VERIFIED_AT)
    verified_by: str | None = strawberry.field(description=VERIFIED_BY)
    version: int = strawberry.field(description=VERSION)
    status: Status = strawberry.field(description=STATUS)

    @classmethod
    def from_row(cls, row: models.Service) -> Service:
        return cls(
            id=strawberry.ID(to_global_id("Service", row.id)),
            pk=row.id,
            provider_pk=row.organization_id,
            area_codes=list(row.service_area_comuni),
            _area=row.service_area,
            name=row.name,
            description=row.description,
            welfare_eligible=row.welfare_eligible,
            tuir_category=TuirCategory(row.tuir_category),
            target_groups=[TargetGroup(value) for value in row.target_groups],
            min_age=row.min_age,
            max_age=row.max_age,
            languages=list(row.languages),
            delivery=[Delivery(value) for value in row.delivery],
            source=row.source,
            external_id=row.external_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            verified_at=row.verified_at,
            verified_by=row.verified_by,
            version=row.version,
            status=Status(row.status),
        )

    @strawberry.field(description="The provider offering it; null if no longer public.")
    async def provider(self, info: Info) -> Provider | None:
        row = await info.context.loaders.provider.load(self.provider_pk)
        return Provider.from_row(row) if row else None

    @strawberry.field(
        description="The taxonomy categories it is filed under (most specific ones; "
        "`ServiceFilter.categories` also matches their parents)."
    )
    async def categories(self, info: Info) -> list[Category]:
        rows = await info.context.loaders.service_categories.load(self.pk)
        return [Category.from_row(row) for row in rows]

    @strawberry.field(
        description="Its prices, one per unit or condition; empty when not published."
    )
    async def cost_options(self, info: Info) -> list[CostOption]:
        rows = await info.context.loaders.service_cost_options.load(self.pk)
        return [CostOption.from_row(row) for row in rows]

    @strawberry.field(description="Published locations where the service is offered on site.")
    async def locations(self, info: Info) -> list[Location]:
        rows = await info.context.loaders.service_locations.load(self.pk)
        return [Location.from_row(row) for row in rows]

    @strawberry.field(description="The comuni an at-home service reaches.")
    async def service_area_comuni(self, info: Info) -> list[Comune]:
        return await Comune.load_many(info, self.area_codes)

    @strawberry.field(description="An explicit service area as a GeoJSON MultiPolygon, or null.")
    def service_area(self) -> JSON | None:
        return cast(JSON, geojson(self._area))
