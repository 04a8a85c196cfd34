"""``me``, ``apiKeys``, ``createApiKey`` and ``revokeApiKey``."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.auth import keys
from ambrogio.auth.permissions import Scope, permissions
from ambrogio.context import Context
from ambrogio.db import audit
from ambrogio.db.models import ApiKey as ApiKeyRow
from ambrogio.errors import BadUserInput, NotFound
from ambrogio.schema.types.accounts import ApiKey, Me, NewApiKey

Info = strawberry.Info[Context, None]

MAX_KEY_NAME = 100


def me(info: Info) -> Me:
    caller = info.context.caller
    return Me(
        role=caller.role.value,
        name=caller.subject,
        scopes=sorted(caller.scopes),
        permissions=sorted(permission.value for permission in permissions(caller)),
        comuni=sorted(caller.comuni) if caller.comuni is not None else None,
    )


async def api_keys(info: Info, include_revoked: bool) -> list[ApiKey]:
    async with info.context.sessionmaker() as session:
        rows = (await session.scalars(keys.listing(include_revoked))).all()
    return [ApiKey.from_row(row) for row in rows]


async def create_api_key(
    info: Info, name: str, scopes: list[Scope], rate_limit_per_minute: int
) -> NewApiKey:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_KEY_NAME:
        raise BadUserInput("name", name, f"must be 1-{MAX_KEY_NAME} characters")
    if not 1 <= rate_limit_per_minute <= keys.MAX_RATE_LIMIT:
        raise BadUserInput(
            "rateLimitPerMinute",
            rate_limit_per_minute,
            f"must be between 1 and {keys.MAX_RATE_LIMIT} (cost points a minute)",
        )
    async with info.context.sessionmaker() as session, session.begin():
        new = await keys.create_key(
            session, cleaned, scopes, info.context.caller.actor, rate_limit_per_minute
        )
        await _audit(info, session, "create", new.row, before=None)
        return NewApiKey(key=new.key, api_key=ApiKey.from_row(new.row))


async def revoke_api_key(info: Info, key_id: str) -> ApiKey:
    async with info.context.sessionmaker() as session, session.begin():
        row = await session.scalar(keys.by_prefix(key_id))
        if row is None:
            raise NotFound(f"id: no API key {key_id!r}")
        before = audit.snapshot(row)
        await keys.revoke_key(session, row.prefix)
        await session.refresh(row)
        await _audit(info, session, "revoke", row, before=before)
        return ApiKey.from_row(row)


async def _audit(
    info: Info, session: AsyncSession, action: str, row: ApiKeyRow, before: dict[str, Any] | None
) -> None:
    """Keys are audited like records; the digest of the secret stays out of the trail."""

    def public(values: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in values.items() if key != "secret_hash"}

    await audit.record(
        session,
        actor=info.context.caller.actor,
        action=action,
        entity_type="api_key",
        entity_id=row.id,
        before=public(before) if before is not None else None,
        after=public(audit.snapshot(row)),
        request_id=info.context.request_id,
    )
