"""WelfarePoint: a desk where operators meet citizens and map local services."""

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
from ambrogio.schema.types.comune import Comune
from ambrogio.schema.types.enums import Status, WelfarePointKind
from ambrogio.schema.types.hours import OpeningHours
from ambrogio.schema.types.node import Node
from ambrogio.schema.types.shared import (
    ADDRESS,
    CAP,
    EMAIL,
    NAME,
    PHONE,
    STATUS,
    VERIFIED_AT,
    VERIFIED_BY,
    VERSION,
)

Info = strawberry.Info[Context, None]


@strawberry.type(description="A welfare hub or point of the network.")
class WelfarePoint(Node):
    pk: strawberry.Private[uuid.UUID]
    comune_istat: strawberry.Private[str | None]
    served_codes: strawberry.Private[list[str]]
    _geom: strawberry.Private[Any]
    name: str = strawberry.field(description=NAME)
    kind: WelfarePointKind = strawberry.field(
        description="A HUB coordinating its area, or a local POINT."
    )
    lat: float | None = strawberry.field(description="WGS84 latitude; null when not located.")
    lon: float | None = strawberry.field(description="WGS84 longitude; null when not located.")
    address: str | None = strawberry.field(description=ADDRESS)
    cap: str | None = strawberry.field(description=CAP)
    opening_hours: str | None = strawberry.field(description="OpenStreetMap `opening_hours`.")
    phone: str | None = strawberry.field(description=PHONE)
    email: str | None = strawberry.field(description=EMAIL)
    outside_territory: bool = strawberry.field(
        description="The point lies outside the configured territory: kept, flagged for review."
    )
    verified_at: datetime | None = strawberry.field(description=VERIFIED_AT)
    verified_by: str | None = strawberry.field(description=VERIFIED_BY)
    version: int = strawberry.field(description=VERSION)
    status: Status = strawberry.field(description=STATUS)

    @classmethod
    def from_row(cls, row: models.WelfarePoint) -> WelfarePoint:
        point = lat_lon(row.geom)
        return cls(
            id=strawberry.ID(to_global_id("WelfarePoint", row.id)),
            pk=row.id,
            comune_istat=row.comune_istat,
            served_codes=list(row.comuni_served),
            _geom=row.geom,
            name=row.name,
            kind=WelfarePointKind(row.kind),
            lat=point[0] if point else None,
            lon=point[1] if point else None,
            address=row.address,
            cap=row.cap,
            opening_hours=row.opening_hours,
            phone=row.phone,
            email=row.email,
            outside_territory=row.outside_territory,
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

    @strawberry.field(description="The comune it lies in; null when unknown.")
    async def comune(self, info: Info) -> Comune | None:
        return await Comune.load(info, self.comune_istat)

    @strawberry.field(description="The comuni this point serves.")
    async def comuni_served(self, info: Info) -> list[Comune]:
        return await Comune.load_many(info, self.served_codes)
