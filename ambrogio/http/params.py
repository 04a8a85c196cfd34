"""Query-parameter values shared by the REST routes: each parser takes the parameter's name and
its raw text and raises ``BadUserInput`` naming both."""

from __future__ import annotations

from datetime import datetime

from ambrogio.errors import BadUserInput


def boolean(name: str, raw: str) -> bool:
    if raw.lower() not in ("true", "false"):
        raise BadUserInput(name, raw, "must be true or false")
    return raw.lower() == "true"


def instant(name: str, raw: str) -> datetime:
    """An ISO 8601 date-time with its UTC offset."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadUserInput(name, raw, "is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise BadUserInput(name, raw, "needs a UTC offset, e.g. 2025-01-31T08:00:00Z")
    return value
