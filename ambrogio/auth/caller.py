"""The caller of a request, from its headers: a user's bearer token, an API key, or nobody."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.auth import keys, tokens
from ambrogio.context import ANONYMOUS, Caller, Role
from ambrogio.db.models import ApiKey, AppUser, WelfarePoint
from ambrogio.errors import Unauthenticated
from ambrogio.settings import Settings

# Write ``last_used_at`` at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def _user_caller(session: AsyncSession, settings: Settings, token: str) -> Caller:
    claims = tokens.claims(settings, token)
    name, issued = str(claims["sub"]), claims["iat"]
    row = (
        await session.execute(
            select(AppUser, WelfarePoint.comuni_served)
            .outerjoin(WelfarePoint, WelfarePoint.id == AppUser.welfare_point_id)
            .where(AppUser.name == name)
        )
    ).one_or_none()
    if row is None or not row[0].active:
        raise Unauthenticated(f"user {name!r} does not exist or is no longer active")
    user, comuni = row
    revoked_before = user.tokens_valid_after
    if (
        revoked_before is not None
        and isinstance(issued, int | float)
        and issued < revoked_before.timestamp()
    ):
        raise Unauthenticated("the bearer token was revoked: sign in again")
    limited = Role(user.role) is Role.MAPPER and user.welfare_point_id is not None
    return Caller(
        role=Role(user.role),
        subject=user.name,
        comuni=frozenset(comuni or ()) if limited else None,
        welfare_point=user.welfare_point_id,
    )


async def _key_caller(session: AsyncSession, key: str) -> Caller:
    prefix, secret = keys.split_key(key)
    row = (await session.execute(keys.by_prefix(prefix))).scalar_one_or_none()
    if row is None or not keys.secret_matches(row, secret):
        raise Unauthenticated("the API key is not valid")
    if row.revoked_at is not None:
        raise Unauthenticated("the API key was revoked")
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        await session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
        await session.commit()
    return Caller(
        role=Role.API_CLIENT,
        subject=row.name,
        scopes=frozenset(row.scopes),
        key_id=prefix,
        rate_limit=row.rate_limit_per_minute,
    )


async def resolve_caller(
    headers: Mapping[str, str],
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Caller:
    """The caller named by the request headers; anonymous when there are none.

    Raises ``Unauthenticated`` for credentials that do not hold (expired, revoked, badly
    signed): a client that sends credentials wants to know they failed.
    """
    authorization = headers.get("authorization", "").strip()
    api_key = headers.get("x-api-key", "").strip()
    if not authorization and not api_key:
        return ANONYMOUS
    scheme, _, credential = authorization.partition(" ")
    if authorization and scheme.lower() != "bearer":
        raise Unauthenticated("the Authorization header must be 'Bearer <token or API key>'")
    credential = credential.strip()
    async with sessionmaker() as session:
        if api_key or credential.startswith(f"{keys.KEY_PREFIX}_"):
            return await _key_caller(session, api_key or credential)
        if not credential:
            raise Unauthenticated("the Authorization header has no token")
        return await _user_caller(session, settings, credential)
