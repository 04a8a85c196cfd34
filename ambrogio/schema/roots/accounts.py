"""Root fields of accounts: who am I, and the API keys of third-party clients (admins)."""

from __future__ import annotations

from typing import Annotated

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

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Every API key, newest first. Admins only: `FORBIDDEN` for anyone else, "
        "`UNAUTHENTICATED` without a token.",
    )
    async def api_keys(
        self,
        info: Info,
        include_revoked: Annotated[
            bool,
            strawberry.argument(description="Also the revoked keys (false by default)."),
        ] = False,
    ) -> list[ApiKey]:
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
        name: Annotated[
            str,
            strawberry.argument(
                description="What the key is for, e.g. the client's name (1–100 characters)."
            ),
        ],
        scopes: Annotated[
            list[Scope] | None,
            strawberry.argument(
                description="What it may do besides READ (every key reads): EDIT, IMPORT. "
                "Null or empty: read only."
            ),
        ] = None,
        rate_limit_per_minute: Annotated[
            int,
            strawberry.argument(
                description="Its token bucket: cost points a minute, 1 to "
                f"{keys.MAX_RATE_LIMIT:,} (default {keys.DEFAULT_RATE_LIMIT:,}); a page of 20 "
                "costs about 20 to 100."
            ),
        ] = keys.DEFAULT_RATE_LIMIT,
    ) -> NewApiKey:
        return await accounts.create_api_key(info, name, list(scopes or []), rate_limit_per_minute)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Revoke an API key (admins): it fails from its next request.",
    )
    async def revoke_api_key(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The key's public prefix (`ApiKey.id`); `NOT_FOUND` if unknown."
            ),
        ],
    ) -> ApiKey:
        return await accounts.revoke_api_key(info, str(id))
