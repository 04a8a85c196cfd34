"""Who am I, and the API keys of third-party clients (admins)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ambrogio.auth.permissions import Scope
from ambrogio.db import models
from ambrogio.schema.types.enums import described

described(
    Scope,
    "What an API key may do: READ (always), EDIT records (as drafts), IMPORT files "
    "(held for review).",
    {
        "READ": "Read the public API (every key may).",
        "EDIT": "Create and edit records, as drafts and change requests.",
        "IMPORT": "Import files, held for review.",
    },
    name="ApiScope",
)


@strawberry.type(description="The caller of this request, as Ambrogio sees them.")
class Me:
    role: str = strawberry.field(
        description="public, mapper, reviewer, admin, planner or api_client."
    )
    name: str | None = strawberry.field(description="The user's or the API key's name.")
    scopes: list[str] = strawberry.field(
        description="An API key's scopes (`ApiScope` values in lower case: read, edit, "
        "import); empty for users and anonymous callers, whose role decides."
    )
    permissions: list[str] = strawberry.field(description="edit, import, review, admin.")
    comuni: list[str] | None = strawberry.field(
        description="The ISTAT codes a mapper may edit in; null when not limited."
    )


@strawberry.type(description="A third-party client's key. Its secret is never shown again.")
class ApiKey:
    id: strawberry.ID = strawberry.field(description="The key's public prefix.")
    name: str = strawberry.field(
        description="What the key is for, as the admin who created it named it (the client)."
    )
    scopes: list[str] = strawberry.field(
        description="What the key may do (read, edit, import: `ApiScope` in lower case)."
    )
    rate_limit_per_minute: int = strawberry.field(
        description="Cost points a minute the key may spend (its token bucket, shared by "
        "GraphQL operations and the REST routes); over it, requests answer HTTP 429 "
        "`RATE_LIMITED` with `Retry-After`."
    )
    created_at: datetime = strawberry.field(description="When the key was created (UTC).")
    created_by: str | None = strawberry.field(
        description="The admin who created it; null for keys created from the command line."
    )
    last_used_at: datetime | None = strawberry.field(
        description="The last request made with it (UTC, to the minute); null if never used."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked (UTC): from then on it is refused with "
        "`UNAUTHENTICATED`. Null while valid."
    )

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


@strawberry.type(description="A new API key, shown whole this once.")
class NewApiKey:
    key: str = strawberry.field(
        description="The whole key, to send as 'X-API-Key'. Shown only in this response."
    )
    api_key: ApiKey = strawberry.field(description="The key's record, as `apiKeys` lists it.")
