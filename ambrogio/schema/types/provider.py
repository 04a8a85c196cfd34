"""Provider: an organization that offers services (HSDS organization)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from ambrogio.context import Context
from ambrogio.db import models
from ambrogio.ids import to_global_id
from ambrogio.schema.types.enums import ProviderKind, Status
from ambrogio.schema.types.node import Node

if TYPE_CHECKING:
    from ambrogio.schema.types.location import Location
    from ambrogio.schema.types.service import Service

Info = strawberry.Info[Context, None]


@strawberry.type(description="A provider: cooperative, association, business or public body.")
class Provider(Node):
    pk: strawberry.Private[uuid.UUID]
    name: str
    kind: ProviderKind
    tax_code: str | None = strawberry.field(description="Codice fiscale or partita IVA.")
    runts_id: str | None = strawberry.field(description="RUNTS registration (third sector).")
    description: str | None
    email: str | None
    phone: str | None
    website: str | None
    source: str = strawberry.field(description="Where the record came from.")
    external_id: str | None = strawberry.field(description="The record's id in its source.")
    created_at: datetime
    updated_at: datetime
    verified_at: datetime | None
    verified_by: str | None = strawberry.field(description="Who last verified the record.")
    version: int = strawberry.field(description="Optimistic-concurrency version of the record.")
    status: Status = strawberry.field(
        description="Editorial state. Public lists and `node` show PUBLISHED records only; "
        "editing payloads also return drafts."
    )

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

    @strawberry.field(description="The provider's published locations.")
    async def locations(
        self, info: Info
    ) -> list[Annotated[Location, strawberry.lazy("ambrogio.schema.types.location")]]:
        from ambrogio.schema.types.location import Location

        rows = await info.context.loaders.provider_locations.load(self.pk)
        return [Location.from_row(row) for row in rows]

    @strawberry.field(description="The provider's published services.")
    async def services(
        self, info: Info
    ) -> list[Annotated[Service, strawberry.lazy("ambrogio.schema.types.service")]]:
        from ambrogio.schema.types.service import Service

        rows = await info.context.loaders.provider_services.load(self.pk)
        return [Service.from_row(row) for row in rows]
