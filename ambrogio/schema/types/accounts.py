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


@strawberry.type(description="A new API key, shown whole this once.")
class NewApiKey:
    key: str = strawberry.field(
        description="The whole key, to send as 'X-API-Key'. Shown only in this response."
    )
    api_key: ApiKey
