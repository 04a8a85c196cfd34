"""Rate limits by cost over time: a token bucket per caller, kept in PostgreSQL.

Each caller has a bucket of cost points (``ambrogio.schema.cost``) that refills at its limit a
minute and holds one minute's worth: an API key by its own ``rate_limit_per_minute``, a
signed-in user by ``AMBROGIO_RATE_LIMIT_USER``, an anonymous caller by its client address
and ``AMBROGIO_RATE_LIMIT_ANONYMOUS`` (0 turns a kind off). An operation that the bucket
cannot pay for is refused whole (``RATE_LIMITED``, HTTP 429, ``Retry-After`` the seconds
until it could be paid) and takes nothing from the bucket.

The bucket lives in the ``rate_bucket`` table, so every server process sees the same one.
Refill, check and charge are one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on an
unlogged table, in autocommit on the pool's asyncpg connection (``db.prepared.fetch_sql``:
every request pays it, so no SQLAlchemy execution in the way): one round trip, the row locked
only for that statement, and ``statement_timestamp()`` the one clock all processes share.
Losing the buckets in a crash only forgives what was spent.

Behind a reverse proxy, run uvicorn with ``--proxy-headers --forwarded-allow-ips`` so the
client address is the caller's, not the proxy's.
"""

from __future__ import annotations

import math

from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.context import Caller
from ambrogio.db import prepared
from ambrogio.errors import RateLimited
from ambrogio.settings import Settings

# One statement: a new bucket starts full; an existing one refills for the seconds since its
# last charge (capped at its capacity) and pays the cost only when it holds enough.
# $1 key, $2 cost, $3 capacity, $4 refill rate a second.
CHARGE = """
    INSERT INTO rate_bucket AS bucket (key, tokens, updated_at, granted)
    VALUES ($1,
            CASE WHEN $2::float8 <= $3::float8 THEN $3::float8 - $2::float8 ELSE $3::float8 END,
            statement_timestamp(), $2::float8 <= $3::float8)
    ON CONFLICT (key) DO UPDATE SET (tokens, granted, updated_at) = (
        SELECT CASE WHEN refilled >= $2::float8 THEN refilled - $2::float8 ELSE refilled END,
               refilled >= $2::float8, statement_timestamp()
        FROM (SELECT least($3::float8, bucket.tokens + $4::float8
                           * extract(epoch FROM statement_timestamp() - bucket.updated_at))
                     AS refilled) AS refill
    )
    RETURNING tokens, granted
"""
WHO = {"key": "this API key", "user": "this user", "ip": "this client address"}


class RateLimiter:
    """Charges operations to their caller's bucket (``charge``)."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def bucket(self, caller: Caller, client: str | None) -> tuple[str, int]:
        """The caller's bucket and its limit a minute (0: not limited)."""
        if caller.key_id:
            return f"key:{caller.key_id}", caller.rate_limit or 0
        if caller.subject:
            return f"user:{caller.subject}", self.settings.rate_limit_user
        return f"ip:{client or 'unknown'}", self.settings.rate_limit_anonymous

    async def charge(self, caller: Caller, client: str | None, cost: int) -> None:
        """Take ``cost`` from the caller's bucket, or raise ``RateLimited`` with the seconds to
        wait (``retryAfter``)."""
        key, per_minute = self.bucket(caller, client)
        if per_minute <= 0:
            return
        rate = per_minute / 60
        (row,) = await prepared.fetch_sql(
            self.engine, CHARGE, (key, float(cost), float(per_minute), rate)
        )
        if row["granted"]:
            return
        if cost > per_minute:
            wait = 60
            reason = f"the operation costs {cost:,}, more than the {per_minute:,} a minute allowed"
        else:
            wait = max(1, math.ceil((cost - row["tokens"]) / rate))
            reason = f"over the limit of {per_minute:,} cost points a minute"
        who = WHO[key.split(":", 1)[0]]
        raise RateLimited(
            f"{reason} for {who}; retry after {wait} s",
            retryAfter=wait,
            limit=per_minute,
            cost=cost,
        )
