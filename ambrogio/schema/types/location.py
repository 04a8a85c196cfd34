"""Location: a place where a provider works (HSDS location)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from ambrogio.context import Context
from ambrogio.db import models
from ambrogio.geo.convert import geojson, lat_lon
from ambrogio.ids import to_global_id
from ambrogio.schema.types.comune import Comune
from ambrogio.schema.types.enums import GeocodePrecision, Status
from ambrogio.schema.types.hours import OpeningHours
from ambrogio.schema.types.node import Node

if TYPE_CHECKING:
    from ambrogio.schema.types.provider import Provider
    from ambrogio.schema.types.service import Service

Info = strawberry.Info[Context, None]


@strawberry.type(description="A place where a provider works; the point may be unknown.")
class Location(Node):
    pk: strawberry.Private[uuid.UUID]
    provider_pk: strawberry.Private[uuid.UUID]
    comune_istat: strawberry.Private[str | None]
    _geom: strawberry.Private[Any]
    name: str | None
    lat: float | None = strawberry.field(description="WGS84 latitude; null when not located.")
    lon: float | None = strawberry.field(description="WGS84 longitude; null when not located.")
    geocode_precision: GeocodePrecision | None = strawberry.field(
        description="How the point was obtained: EXACT, ADDRESS (geocoded) or COMUNE (the "
        "comune's centroid: show it as approximate); null without a point."
    )
    outside_territory: bool = strawberry.field(
        description="The point lies outside the territory's envelope (kept, flagged for review)."
    )
    address: str | None
    cap: str | None
    wheelchair_accessible: bool | None
    accessibility: str | None
    opening_hours: str | None = strawberry.field(
        description="Opening hours in OpenStreetMap `opening_hours` syntax."
    )
    verified_at: datetime | None
    verified_by: str | None
    version: int = strawberry.field(description="Optimistic-concurrency version of the record.")
    status: Status = strawberry.field(
        description="Editorial state. Public lists and `node` show PUBLISHED records only; "
        "editing payloads also return drafts."
    )

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

    @strawberry.field
    async def comune(self, info: Info) -> Comune | None:
        return await Comune.load(info, self.comune_istat)

    @strawberry.field
    async def provider(
        self, info: Info
    ) -> Annotated[Provider, strawberry.lazy("ambrogio.schema.types.provider")] | None:
        from ambrogio.schema.types.provider import Provider

        row = await info.context.loaders.provider.load(self.provider_pk)
        return Provider.from_row(row) if row else None

    @strawberry.field(description="Published services offered at this location.")
    async def services(
        self, info: Info
    ) -> list[Annotated[Service, strawberry.lazy("ambrogio.schema.types.service")]]:
        from ambrogio.schema.types.service import Service

        rows = await info.context.loaders.location_services.load(self.pk)
        return [Service.from_row(row) for row in rows]
