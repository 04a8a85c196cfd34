"""Test users and their bearer tokens."""

from __future__ import annotations

import uuid

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
