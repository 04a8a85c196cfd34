"""Service: what a provider offers (HSDS service)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from ambrogio.context import Context
from ambrogio.db import models
from ambrogio.geo.convert import geojson
from ambrogio.ids import to_global_id
from ambrogio.schema.types.category import Category
from ambrogio.schema.types.comune import Comune
from ambrogio.schema.types.enums import Delivery, PriceUnit, Status, TargetGroup, TuirCategory
from ambrogio.schema.types.location import Location
from ambrogio.schema.types.node import Node

if TYPE_CHECKING:
    from ambrogio.schema.types.provider import Provider

Info = strawberry.Info[Context, None]


@strawberry.type(description="A price of a service: `amount` in `currency` per `unit`.")
class CostOption:
    amount: float | None
    currency: str
    unit: PriceUnit
    description: str | None

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
    name: str
    description: str | None
    welfare_eligible: bool = strawberry.field(
        description="Whether company welfare credit can pay for it."
    )
    tuir_category: TuirCategory
    target_groups: list[TargetGroup]
    min_age: int | None
    max_age: int | None
    languages: list[str] = strawberry.field(description="ISO 639-1 codes.")
    delivery: list[Delivery]
    source: str
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    verified_at: datetime | None
    verified_by: str | None
    version: int
    status: Status = strawberry.field(
        description="Editorial state. Public lists and `node` show PUBLISHED records only; "
        "editing payloads also return drafts."
    )

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

    @strawberry.field
    async def provider(
        self, info: Info
    ) -> Annotated[Provider, strawberry.lazy("ambrogio.schema.types.provider")] | None:
        from ambrogio.schema.types.provider import Provider

        row = await info.context.loaders.provider.load(self.provider_pk)
        return Provider.from_row(row) if row else None

    @strawberry.field
    async def categories(self, info: Info) -> list[Category]:
        rows = await info.context.loaders.service_categories.load(self.pk)
        return [Category.from_row(row) for row in rows]

    @strawberry.field
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
