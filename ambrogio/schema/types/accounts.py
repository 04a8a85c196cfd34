"""Who am I, and the API keys of third-party clients (admins)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ambrogio.auth.permissions import Scope
from ambrogio.context import Context
from ambrogio.db import models
from ambrogio.schema.permissions import IsAdmin

Info = strawberry.Info[Context, None]

strawberry.enum(
    Scope,
    name="ApiScope",
    description="What an API key may do: READ (always), EDIT records (as drafts), IMPORT files "
    "(held for review).",
)


@strawberry.type(description="The caller of this request, as Ambrogio sees them.")
class Me:
    role: str = strawberry.field(description="public, mapper, reviewer, admin or api_client.")
    name: str | None = strawberry.field(description="The user's or the API key's name.")
    scopes: list[str]
    permissions: list[str] = strawberry.field(description="edit, import, review, admin.")
    comuni: list[str] | None = strawberry.field(
        description="The ISTAT codes a mapper may edit in; null when not limited."
    )


@strawberry.type(description="A third-party client's key. Its secret is never shown again.")
class ApiKey:
    id: strawberry.ID = strawberry.field(description="The key's public prefix.")
    name: str
    scopes: list[str]
    rate_limit_per_minute: int
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: models.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(row.prefix),
            name=row.name,
            scopes=list(row.scopes),
            rate_limit_per_minute=row.rate_limit_per_minute,
            created_at=row.created_at,
            created_by=row.created_by,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type
class NewApiKey:
    key: str = strawberry.field(
        description="The whole key, to send as 'X-API-Key'. Shown only in this response."
    )
    api_key: ApiKey


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="Who this request is made as, and what it may do.")
    def me(self, info: Info) -> Me:
        from ambrogio.resolvers import accounts

        return accounts.me(info)

    @strawberry.field(permission_classes=[IsAdmin], description="API keys (admins).")
    async def api_keys(self, info: Info, include_revoked: bool = False) -> list[ApiKey]:
        from ambrogio.resolvers import accounts

        return await accounts.api_keys(info, include_revoked)


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Create an API key for a third-party client (admins). The key is in the "
        "response only; Ambrogio keeps a digest.",
    )
    async def create_api_key(
        self,
        info: Info,
        name: str,
        scopes: list[Scope] | None = None,
        rate_limit_per_minute: int = 600,
    ) -> NewApiKey:
        from ambrogio.resolvers import accounts

        return await accounts.create_api_key(info, name, list(scopes or []), rate_limit_per_minute)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Revoke an API key (admins): it fails from its next request.",
    )
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKey:
        from ambrogio.resolvers import accounts

        return await accounts.revoke_api_key(info, str(id))
