"""Root fields of editing: create, update and archive providers, locations, services and
welfare points. Reviewers' and admins' edits apply at once; everyone else's become drafts and
change requests (see ``ambrogio.editing.changes``)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ambrogio.context import Context
from ambrogio.resolvers import editing
from ambrogio.schema.permissions import CanEdit
from ambrogio.schema.types.editing import (
    LocationInput,
    LocationPayload,
    ProviderInput,
    ProviderPayload,
    ServiceInput,
    ServicePayload,
    WelfarePointInput,
    WelfarePointPayload,
)

Info = strawberry.Info[Context, None]

VERSION = (
    "The version of the record you read. If the record moved on since, the answer is a "
    "CONFLICT whose `extensions.currentVersion` is the record's version now."
)
Version = Annotated[int, strawberry.argument(description=VERSION)]
ROLES = (
    " Mappers (within their welfare point's comuni), reviewers, admins and API keys with the "
    "EDIT scope; `UNAUTHENTICATED` without credentials, `FORBIDDEN` without the permission. "
    "Invalid fields are `BAD_USER_INPUT`, each named, and nothing is written."
)
ARCHIVE = (
    "it leaves the public catalogue and the change feed reports it (`ARCHIVE`); the record "
    "stays for the audit trail. A mapper's archive is a change request for a reviewer."
)
CREATE_INPUT = "The new record's fields; see the input type for which are required."
UPDATE_INPUT = "The fields to change: left out, a field stays; sent as null, it is cleared."


def _record_id(kind: str) -> str:
    return (
        f"The {kind}'s global id; `NOT_FOUND` if there is none, `FORBIDDEN` for a mapper when "
        "it lies outside their comuni."
    )


CreateInput = strawberry.argument(description=CREATE_INPUT)
UpdateInput = strawberry.argument(description=UPDATE_INPUT)
ProviderId = Annotated[strawberry.ID, strawberry.argument(description=_record_id("provider"))]
LocationId = Annotated[strawberry.ID, strawberry.argument(description=_record_id("location"))]
ServiceId = Annotated[strawberry.ID, strawberry.argument(description=_record_id("service"))]
WelfarePointId = Annotated[
    strawberry.ID, strawberry.argument(description=_record_id("welfare point"))
]


@strawberry.type
class EditingMutation:
    @strawberry.mutation(
        description="Create a provider. A reviewer's is published at once; anyone else's is a "
        "draft with a change request, invisible to the public until a reviewer publishes it."
        + ROLES,
        permission_classes=[CanEdit],
    )
    async def create_provider(
        self, info: Info, input: Annotated[ProviderInput, CreateInput]
    ) -> ProviderPayload:
        return await editing.create(info, editing.PROVIDER, input)

    @strawberry.mutation(
        description="Update a provider: fields left out stay, null clears. A mapper's update "
        "leaves the record as it is and returns a change request for a reviewer." + ROLES,
        permission_classes=[CanEdit],
    )
    async def update_provider(
        self,
        info: Info,
        id: ProviderId,
        version: Version,
        input: Annotated[ProviderInput, UpdateInput],
    ) -> ProviderPayload:
        return await editing.update(info, editing.PROVIDER, id, version, input)

    @strawberry.mutation(
        description="Archive a provider: " + ARCHIVE + ROLES,
        permission_classes=[CanEdit],
    )
    async def archive_provider(
        self, info: Info, id: ProviderId, version: Version
    ) -> ProviderPayload:
        return await editing.archive(info, editing.PROVIDER, id, version)

    @strawberry.mutation(
        description="Create a location of a provider (a mapper's is a draft)." + ROLES,
        permission_classes=[CanEdit],
    )
    async def create_location(
        self, info: Info, input: Annotated[LocationInput, CreateInput]
    ) -> LocationPayload:
        return await editing.create(info, editing.LOCATION, input)

    @strawberry.mutation(
        description="Update a location: fields left out stay, null clears." + ROLES,
        permission_classes=[CanEdit],
    )
    async def update_location(
        self,
        info: Info,
        id: LocationId,
        version: Version,
        input: Annotated[LocationInput, UpdateInput],
    ) -> LocationPayload:
        return await editing.update(info, editing.LOCATION, id, version, input)

    @strawberry.mutation(
        description="Archive a location: " + ARCHIVE + ROLES, permission_classes=[CanEdit]
    )
    async def archive_location(
        self, info: Info, id: LocationId, version: Version
    ) -> LocationPayload:
        return await editing.archive(info, editing.LOCATION, id, version)

    @strawberry.mutation(
        description="Create a service of a provider (a mapper's is a draft)." + ROLES,
        permission_classes=[CanEdit],
    )
    async def create_service(
        self, info: Info, input: Annotated[ServiceInput, CreateInput]
    ) -> ServicePayload:
        return await editing.create(info, editing.SERVICE, input)

    @strawberry.mutation(
        description="Update a service: fields left out stay, null clears; lists are replaced."
        + ROLES,
        permission_classes=[CanEdit],
    )
    async def update_service(
        self,
        info: Info,
        id: ServiceId,
        version: Version,
        input: Annotated[ServiceInput, UpdateInput],
    ) -> ServicePayload:
        return await editing.update(info, editing.SERVICE, id, version, input)

    @strawberry.mutation(
        description="Archive a service: " + ARCHIVE + ROLES, permission_classes=[CanEdit]
    )
    async def archive_service(self, info: Info, id: ServiceId, version: Version) -> ServicePayload:
        return await editing.archive(info, editing.SERVICE, id, version)

    @strawberry.mutation(
        description="Create a welfare point (a mapper's is a draft)." + ROLES,
        permission_classes=[CanEdit],
    )
    async def create_welfare_point(
        self, info: Info, input: Annotated[WelfarePointInput, CreateInput]
    ) -> WelfarePointPayload:
        return await editing.create(info, editing.WELFARE_POINT, input)

    @strawberry.mutation(
        description="Update a welfare point: fields left out stay, null clears." + ROLES,
        permission_classes=[CanEdit],
    )
    async def update_welfare_point(
        self,
        info: Info,
        id: WelfarePointId,
        version: Version,
        input: Annotated[WelfarePointInput, UpdateInput],
    ) -> WelfarePointPayload:
        return await editing.update(info, editing.WELFARE_POINT, id, version, input)

    @strawberry.mutation(
        description="Archive a welfare point: " + ARCHIVE + ROLES,
        permission_classes=[CanEdit],
    )
    async def archive_welfare_point(
        self, info: Info, id: WelfarePointId, version: Version
    ) -> WelfarePointPayload:
        return await editing.archive(info, editing.WELFARE_POINT, id, version)
