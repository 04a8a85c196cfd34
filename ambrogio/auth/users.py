"""People who sign in: adding them, finding them, deactivating them, revoking their tokens."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.context import Role
from ambrogio.db.models import AppUser, WelfarePoint

USER_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")


class UserError(ValueError):
    """A user-management command that cannot be done as asked (printed by the CLI)."""


async def add_user(
    session: AsyncSession,
    name: str,
    role: Role,
    display_name: str | None = None,
    welfare_point_id: uuid.UUID | None = None,
) -> AppUser:
    if role not in (Role.MAPPER, Role.REVIEWER, Role.ADMIN, Role.PLANNER):
        raise UserError(f"role must be mapper, reviewer, admin or planner, not {role.value!r}")
    if not USER_NAME.fullmatch(name):
        raise UserError(f"user name {name!r} must be 1-64 letters, digits or . _ @ -")
    if await session.scalar(select(AppUser.id).where(AppUser.name == name)) is not None:
        raise UserError(f"user {name!r} already exists")
    if welfare_point_id is not None and await session.get(WelfarePoint, welfare_point_id) is None:
        raise UserError(f"welfare point {welfare_point_id} does not exist")
    user = AppUser(
        name=name, role=role.value, display_name=display_name, welfare_point_id=welfare_point_id
    )
    session.add(user)
    await session.flush()
    return user


async def user_named(session: AsyncSession, name: str) -> AppUser:
    user = await session.scalar(select(AppUser).where(AppUser.name == name))
    if user is None:
        raise UserError(f"no user {name!r}")
    return user


async def deactivate_user(session: AsyncSession, name: str) -> None:
    """The user can no longer sign in; tokens already issued stop working at once."""
    user = await user_named(session, name)
    user.active = False
    user.tokens_valid_after = datetime.now(UTC)


async def revoke_tokens(session: AsyncSession, name: str) -> None:
    """Tokens issued until now stop working ("sign out everywhere")."""
    user = await user_named(session, name)
    user.tokens_valid_after = datetime.now(UTC)
