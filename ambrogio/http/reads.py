"""Which database a REST route reads the catalogue from (``ambrogio.db.replicas``).

The HSDS API and the exports read from a fresh replica under the rules of GraphQL queries:
a caller who wrote a moment ago (by its API key, its user, or, anonymous, its address; the
rate limit of ``ambrogio.http.rest_limit`` says who is calling) reads from the primary; a
lagging or unreachable replica is skipped; a read that fails because its replica went away
runs again on the primary. A streamed answer (an export, ``format=ndjson``) stays on the
database that answered its first read: once bytes are sent it cannot start again elsewhere.

The tiles read from the primary: their cache (``ambrogio.http.tile_cache``) empties when the
primary announces a change, and a tile read from a replica that has not yet replayed that
change would be kept, stale, until the next one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.types import Scope

from ambrogio.context import ANONYMOUS, Caller, writer_key
from ambrogio.db import faults
from ambrogio.db.replicas import ReadRouting
from ambrogio.http.requests import request_info

T = TypeVar("T")
Sessions = async_sessionmaker[AsyncSession]


class HasRouting(Protocol):
    sessionmaker: Sessions
    routing: ReadRouting | None


def remember_caller(scope: Scope, caller: Caller) -> None:
    """Who is calling, for ``read`` (the rate limit resolved it already)."""
    scope.setdefault("state", {})["caller"] = caller


async def read(state: HasRouting, request: Request, work: Callable[[Sessions], Awaitable[T]]) -> T:
    """``work`` on a fresh replica's sessions, or the primary's (see the module)."""
    routing = state.routing
    if routing is None:
        return await work(state.sessionmaker)
    info = request_info(request.scope)
    caller = request.scope.get("state", {}).get("caller", ANONYMOUS)
    replica = routing.reader(writer_key(caller, info.client if info is not None else None))
    if replica is None:
        return await work(state.sessionmaker)
    try:
        return await work(replica.sessionmaker)
    except Exception as error:
        if not faults.unavailable(error):
            raise
        routing.failed(replica)
        return await work(state.sessionmaker)
