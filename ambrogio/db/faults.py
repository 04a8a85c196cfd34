"""Which failures mean "the database cannot answer now" rather than a bug.

PostgreSQL being down, restarting or starting up, a connection cut mid-statement, no pooled
connection free in time, a statement past ``statement_timeout``: each is the database's state,
not the request's fault, and a retry later may succeed. Callers get ``UNAVAILABLE`` (HTTP 503
on the REST routes) for these, never ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import asyncpg
from sqlalchemy import exc

# SQLSTATE classes and codes of an unavailable server: 08 connection exceptions, 57P0x
# shutdown and "cannot connect now", 53300 too many connections, 57014 statement timeout or
# cancel.
UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300", "57014")

UNAVAILABLE_TYPES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.ConnectionDoesNotExistError,
    exc.TimeoutError,
    exc.DisconnectionError,
)

log = logging.getLogger("ambrogio")

MESSAGE = "The database is not answering right now; retry in a few seconds."


def _causes(error: BaseException) -> list[BaseException]:
    """``error`` and what it wraps (``__cause__``, ``__context__``, a DBAPI error's ``orig``)."""
    seen: list[BaseException] = []
    stack = [error]
    while stack:
        item = stack.pop()
        if any(item is known for known in seen):
            continue
        seen.append(item)
        stack.extend(
            cause
            for cause in (item.__cause__, item.__context__, getattr(item, "orig", None))
            if isinstance(cause, BaseException)
        )
    return seen


def unavailable(error: BaseException) -> bool:
    """True when ``error`` comes from the database being unreachable or too slow."""
    for item in _causes(error):
        if isinstance(item, exc.DBAPIError) and item.connection_invalidated:
            return True
        if isinstance(item, UNAVAILABLE_TYPES):
            return True
        state = getattr(item, "sqlstate", None)
        if isinstance(state, str) and state.startswith(UNAVAILABLE_SQLSTATES):
            return True
    return False


@contextlib.contextmanager
def tolerated() -> Iterator[None]:
    """Swallow the database being unavailable (logged): for work that may be skipped, such as
    a live subscription's look-up of one change, so that the subscription outlives an outage."""
    try:
        yield
    except Exception as error:
        if not unavailable(error):
            raise
        log.warning("skipped while the database is unavailable: %r", error)
