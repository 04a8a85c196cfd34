"""Test users and their bearer tokens."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.auth.tokens import issue_token
from ambrogio.db.models import AppUser
from ambrogio.settings import Settings


async def login(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    name: str,
    role: str,
    welfare_point_id: uuid.UUID | None = None,
) -> dict[str, str]:
    """The user ``name`` with ``role`` (created once, updated after) and the ``Authorization``
    header of a fresh token for them."""
    async with sessionmaker() as session:
        await session.execute(
            pg_insert(AppUser)
            .values(name=name, role=role, welfare_point_id=welfare_point_id)
            .on_conflict_do_update(
                index_elements=[AppUser.name],
                set_={"role": role, "welfare_point_id": welfare_point_id, "active": True},
            )
        )
        await session.commit()
    return {"Authorization": f"Bearer {issue_token(settings, name)}"}


async def metered_key(
    gql: Any, admin: dict[str, str], name: str, per_minute: int
) -> dict[str, str]:
    """The header of a new API key ``name`` limited to ``per_minute`` cost points, made by
    ``admin`` through ``createApiKey``."""
    created = await gql(
        "mutation($name: String!, $limit: Int!) {"
        " createApiKey(name: $name, rateLimitPerMinute: $limit) { key } }",
        _headers=admin,
        name=name,
        limit=per_minute,
    )
    return {"X-API-Key": created.data["createApiKey"]["key"]}


def address() -> str:
    """A client address of its own (so its own anonymous rate-limit bucket)."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
