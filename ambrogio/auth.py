"""Who is calling: bearer tokens for people, API keys for third-party clients, and permissions.

Tokens are JWTs (HS256, PyJWT) signed with ``Settings.signing_key``; they carry the user's name
and expire after ``AMBROGIO_TOKEN_TTL_HOURS``. The role is read from the database on each request,
not trusted from the token, so demoting or deactivating a user takes effect at once.

API keys look like ``amb_<prefix>_<secret>``. The prefix finds the row; only a SHA-256 digest of
the secret is stored. The secret is 256 random bits, so a slow password hash (argon2) would add
latency to every request without adding safety: nobody can brute-force 2^256. A revoked key fails
on its next request: nothing is cached.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.context import ANONYMOUS, Caller, Role
from ambrogio.db.models import ApiKey, AppUser, WelfarePoint
from ambrogio.errors import Forbidden, RateLimited, Unauthenticated
from ambrogio.settings import Settings

ISSUER = "ambrogio"
ALGORITHM = "HS256"
KEY_PREFIX = "amb"
# Write ``last_used_at`` at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
USER_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")


class Scope(StrEnum):
    """What an API key may do beyond reading the public catalogue."""

    READ = "read"
    EDIT = "edit"
    IMPORT = "import"


class Permission(StrEnum):
    EDIT = "edit"  # create, update, archive (mappers' edits become drafts)
    IMPORT = "import"  # bulk import (mappers' imports wait for a reviewer)
    REVIEW = "review"  # publish, reject, merge, duplicates, freshness queue, audit trail
    ADMIN = "admin"  # users and API keys


_ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PUBLIC: frozenset(),
    Role.MAPPER: frozenset({Permission.EDIT, Permission.IMPORT}),
    Role.REVIEWER: frozenset({Permission.EDIT, Permission.IMPORT, Permission.REVIEW}),
    Role.ADMIN: frozenset(Permission),
    Role.API_CLIENT: frozenset(),
}
_SCOPE_PERMISSIONS = {Scope.EDIT: Permission.EDIT, Scope.IMPORT: Permission.IMPORT}


def permissions(caller: Caller) -> frozenset[Permission]:
    granted = set(_ROLE_PERMISSIONS[caller.role])
    if caller.role is Role.API_CLIENT:
        granted |= {
            permission for scope, permission in _SCOPE_PERMISSIONS.items() if scope in caller.scopes
        }
    return frozenset(granted)


def require(caller: Caller, permission: Permission) -> None:
    """UNAUTHENTICATED for anonymous callers, FORBIDDEN for those without the permission."""
    if caller.anonymous:
        raise Unauthenticated(
            f"{permission.value} needs a signed-in user or an API key: send "
            "'Authorization: Bearer <token>' or 'X-API-Key: <key>'"
        )
    if permission not in permissions(caller):
        raise Forbidden(
            f"{caller.role.value} {caller.subject!r} may not {permission.value}",
            permission=permission.value,
        )


def reviews_directly(caller: Caller) -> bool:
    """Reviewers' and admins' edits are published at once; everyone else's become drafts."""
    return Permission.REVIEW in permissions(caller)


# --- bearer tokens -------------------------------------------------------------------------


def issue_token(settings: Settings, user_name: str, ttl: timedelta | None = None) -> str:
    now = datetime.now(UTC)
    lifetime = ttl if ttl is not None else timedelta(hours=settings.token_ttl_hours)
    # ``iat`` keeps its fraction of a second: "revoke tokens until now" must not spare a token
    # issued earlier in the same second.
    claims = {"iss": ISSUER, "sub": user_name, "iat": now.timestamp(), "exp": now + lifetime}
    return jwt.encode(claims, settings.signing_key, algorithm=ALGORITHM)


def _token_claims(settings: Settings, token: str) -> Mapping[str, object]:
    try:
        return jwt.decode(
            token,
            settings.signing_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise Unauthenticated("the bearer token has expired: ask for a new one") from error
    except jwt.InvalidSignatureError as error:
        raise Unauthenticated("the bearer token's signature is not valid") from error
    except jwt.DecodeError as error:
        raise Unauthenticated("the bearer token is malformed: it is no signed JWT") from error
    except jwt.InvalidTokenError as error:
        raise Unauthenticated(f"the bearer token is not valid: {error}") from error


async def _user_caller(session: AsyncSession, settings: Settings, token: str) -> Caller:
    claims = _token_claims(settings, token)
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
    )


class UserError(ValueError):
    """A user-management command that cannot be done as asked (printed by the CLI)."""


async def add_user(
    session: AsyncSession,
    name: str,
    role: Role,
    display_name: str | None = None,
    welfare_point_id: uuid.UUID | None = None,
) -> AppUser:
    if role not in (Role.MAPPER, Role.REVIEWER, Role.ADMIN):
        raise UserError(f"role must be mapper, reviewer or admin, not {role.value!r}")
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


# --- API keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewKey:
    row: ApiKey
    key: str  # shown once, never stored

    @property
    def prefix(self) -> str:
        return self.row.prefix


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key() -> tuple[str, str, str]:
    """(prefix, secret, the whole key)."""
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return prefix, secret, f"{KEY_PREFIX}_{prefix}_{secret}"


def split_key(key: str) -> tuple[str, str]:
    parts = key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        raise Unauthenticated("the API key is malformed: it looks like amb_<prefix>_<secret>")
    return parts[1], parts[2]


async def create_key(
    session: AsyncSession,
    name: str,
    scopes: list[Scope],
    created_by: str | None,
    rate_limit_per_minute: int = 600,
) -> NewKey:
    prefix, secret, key = new_key()
    row = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=_digest(secret),
        scopes=sorted({scope.value for scope in scopes} | {Scope.READ.value}),
        created_by=created_by,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)  # the server's defaults (created_at)
    return NewKey(row=row, key=key)


async def revoke_key(session: AsyncSession, prefix_or_id: str) -> bool:
    """Revoke a key by its prefix or id; False when there is no such key still active."""
    try:
        condition = ApiKey.id == uuid.UUID(prefix_or_id)
    except ValueError:
        condition = ApiKey.prefix == prefix_or_id
    result = await session.execute(
        update(ApiKey)
        .where(condition, ApiKey.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(ApiKey.id)
    )
    return result.first() is not None


class RateLimiter:
    """A per-process fixed window of one minute per key."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, limit: int) -> None:
        minute = int(time.monotonic() // 60)
        window, count = self._windows.get(key, (minute, 0))
        if window != minute:
            window, count = minute, 0
        if count >= limit:
            raise RateLimited(f"API key {key!r} is over its limit of {limit} requests a minute")
        self._windows[key] = (window, count + 1)


async def _key_caller(session: AsyncSession, key: str, limiter: RateLimiter) -> Caller:
    prefix, secret = split_key(key)
    row = (
        await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))
    ).scalar_one_or_none()
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
        raise Unauthenticated("the API key is not valid")
    if row.revoked_at is not None:
        raise Unauthenticated("the API key was revoked")
    limiter.hit(prefix, row.rate_limit_per_minute)
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        await session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
        await session.commit()
    return Caller(
        role=Role.API_CLIENT, subject=row.name, scopes=frozenset(row.scopes), key_id=prefix
    )


async def resolve_caller(
    headers: Mapping[str, str],
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    limiter: RateLimiter,
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
        if api_key or credential.startswith(f"{KEY_PREFIX}_"):
            return await _key_caller(session, api_key or credential, limiter)
        if not credential:
            raise Unauthenticated("the Authorization header has no token")
        return await _user_caller(session, settings, credential)


def in_scope(caller: Caller, comuni: set[str] | frozenset[str]) -> bool:
    """Whether a mapper limited to some comuni may touch a record in these comuni."""
    return caller.comuni is None or bool(caller.comuni & comuni)


def require_scope(caller: Caller, comuni: set[str] | frozenset[str], what: str) -> None:
    if not in_scope(caller, comuni):
        raise Forbidden(
            f"{caller.subject!r} may edit only records in the comuni of their welfare point; "
            f"{what} is elsewhere"
        )
