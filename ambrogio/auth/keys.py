"""API keys of third-party clients: ``amb_<prefix>_<secret>``.

The prefix finds the row; only a SHA-256 digest of the secret is stored. The secret is 256
random bits, so a slow password hash (argon2) would add latency to every request without adding
safety: nobody can brute-force 2^256. A revoked key fails on its next request: nothing is cached.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.auth.permissions import Scope
from ambrogio.db.models import ApiKey
from ambrogio.errors import Unauthenticated

KEY_PREFIX = "amb"


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


def secret_matches(row: ApiKey, secret: str) -> bool:
    """Whether ``secret`` is the key's (compared in constant time)."""
    return hmac.compare_digest(row.secret_hash, _digest(secret))


def by_prefix(prefix: str) -> Select[ApiKey]:
    """The key with this public prefix (revoked or not)."""
    return select(ApiKey).where(ApiKey.prefix == prefix)


def listing(include_revoked: bool) -> Select[ApiKey]:
    """The keys, oldest first; only those still active unless ``include_revoked``."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.prefix)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return query


# Cost points a minute (ambrogio.auth.rate_limit): a few hundred pages of 20 a minute.
DEFAULT_RATE_LIMIT = 60_000
MAX_RATE_LIMIT = 10_000_000


async def create_key(
    session: AsyncSession,
    name: str,
    scopes: list[Scope],
    created_by: str | None,
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT,
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
