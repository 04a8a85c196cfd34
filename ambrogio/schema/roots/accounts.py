"""Root fields of accounts: who am I, and the API keys of third-party clients (admins)."""

from __future__ import annotations

import strawberry

from ambrogio.auth import keys
from ambrogio.auth.permissions import Scope
from ambrogio.context import Context
from ambrogio.resolvers import accounts
from ambrogio.schema.permissions import IsAdmin
from ambrogio.schema.types.accounts import ApiKey, Me, NewApiKey

Info = strawberry.Info[Context, None]


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="Who this request is made as, and what it may do.")
    def me(self, info: Info) -> Me:
        return accounts.me(info)

    @strawberry.field(permission_classes=[IsAdmin], description="API keys (admins).")
    async def api_keys(self, info: Info, include_revoked: bool = False) -> list[ApiKey]:
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
        rate_limit_per_minute: int = keys.DEFAULT_RATE_LIMIT,
    ) -> NewApiKey:
        return await accounts.create_api_key(info, name, list(scopes or []), rate_limit_per_minute)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Revoke an API key (admins): it fails from its next request.",
    )
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKey:
        return await accounts.revoke_api_key(info, str(id))
