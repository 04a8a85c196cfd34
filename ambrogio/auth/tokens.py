"""Bearer tokens: JWTs (HS256, PyJWT) signed with ``Settings.signing_key``.

A token carries the user's name and expires after ``AMBROGIO_TOKEN_TTL_HOURS``. The role is read
from the database on each request, not trusted from the token, so demoting or deactivating a
user takes effect at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import jwt

from ambrogio.errors import Unauthenticated
from ambrogio.settings import Settings

ISSUER = "ambrogio"
ALGORITHM = "HS256"


def issue_token(settings: Settings, user_name: str, ttl: timedelta | None = None) -> str:
    now = datetime.now(UTC)
    lifetime = ttl if ttl is not None else timedelta(hours=settings.token_ttl_hours)
    # ``iat`` keeps its fraction of a second: "revoke tokens until now" must not spare a token
    # issued earlier in the same second.
    claims = {"iss": ISSUER, "sub": user_name, "iat": now.timestamp(), "exp": now + lifetime}
    return jwt.encode(claims, settings.signing_key, algorithm=ALGORITHM)


def claims(settings: Settings, token: str) -> Mapping[str, object]:
    """The token's claims; ``Unauthenticated`` saying why when it does not hold."""
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
