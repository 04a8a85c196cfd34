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


@strawberry.type
class EditingMutation:
    @strawberry.mutation(
        description="Create a provider. A reviewer's is published at once; anyone else's is a "
        "draft with a change request, invisible to the public until a reviewer publishes it.",
        permission_classes=[CanEdit],
    )
    async def create_provider(self, info: Info, input: ProviderInput) -> ProviderPayload:
        return await editing.create(info, editing.PROVIDER, input)

    @strawberry.mutation(
        description="Update a provider: fields left out stay, null clears. A mapper's update "
        "leaves the record as it is and returns a change request for a reviewer.",
        permission_classes=[CanEdit],
    )
    async def update_provider(
        self, info: Info, id: strawberry.ID, version: Version, input: ProviderInput
    ) -> ProviderPayload:
        return await editing.update(info, editing.PROVIDER, id, version, input)

    @strawberry.mutation(
        description="Archive a provider (a mapper's archive is a change request).",
        permission_classes=[CanEdit],
    )
    async def archive_provider(
        self, info: Info, id: strawberry.ID, version: Version
    ) -> ProviderPayload:
        return await editing.archive(info, editing.PROVIDER, id, version)

    @strawberry.mutation(
        description="Create a location of a provider (a mapper's is a draft).",
        permission_classes=[CanEdit],
    )
    async def create_location(self, info: Info, input: LocationInput) -> LocationPayload:
        return await editing.create(info, editing.LOCATION, input)

    @strawberry.mutation(
        description="Update a location: fields left out stay, null clears.",
        permission_classes=[CanEdit],
    )
    async def update_location(
        self, info: Info, id: strawberry.ID, version: Version, input: LocationInput
    ) -> LocationPayload:
        return await editing.update(info, editing.LOCATION, id, version, input)

    @strawberry.mutation(description="Archive a location.", permission_classes=[CanEdit])
    async def archive_location(
        self, info: Info, id: strawberry.ID, version: Version
    ) -> LocationPayload:
        return await editing.archive(info, editing.LOCATION, id, version)

    @strawberry.mutation(
        description="Create a service of a provider (a mapper's is a draft).",
        permission_classes=[CanEdit],
    )
    async def create_service(self, info: Info, input: ServiceInput) -> ServicePayload:
        return await editing.create(info, editing.SERVICE, input)

    @strawberry.mutation(
        description="Update a service: fields left out stay, null clears; lists are replaced.",
        permission_classes=[CanEdit],
    )
    async def update_service(
        self, info: Info, id: strawberry.ID, version: Version, input: ServiceInput
    ) -> ServicePayload:
        return await editing.update(info, editing.SERVICE, id, version, input)

    @strawberry.mutation(description="Archive a service.", permission_classes=[CanEdit])
    async def archive_service(
        self, info: Info, id: strawberry.ID, version: Version
    ) -> ServicePayload:
        return await editing.archive(info, editing.SERVICE, id, version)

    @strawberry.mutation(
        description="Create a welfare point (a mapper's is a draft).",
        permission_classes=[CanEdit],
    )
    async def create_welfare_point(
        self, info: Info, input: WelfarePointInput
    ) -> WelfarePointPayload:
        return await editing.create(info, editing.WELFARE_POINT, input)

    @strawberry.mutation(
        description="Update a welfare point: fields left out stay, null clears.",
        permission_classes=[CanEdit],
    )
    async def update_welfare_point(
        self, info: Info, id: strawberry.ID, version: Version, input: WelfarePointInput
    ) -> WelfarePointPayload:
        return await editing.update(info, editing.WELFARE_POINT, id, version, input)

    @strawberry.mutation(description="Archive a welfare point.", permission_classes=[CanEdit])
    async def archive_welfare_point(
        self, info: Info, id: strawberry.ID, version: Version
    ) -> WelfarePointPayload:
        return await editing.archive(info, editing.WELFARE_POINT, id, version)
