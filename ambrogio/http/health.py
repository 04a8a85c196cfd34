"""The probes: ``/healthz`` (the process answers) and ``/readyz`` (it reaches the database and
is not shutting down: ``ambrogio.http.draining``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ambrogio.http.draining import Drain

log = logging.getLogger("ambrogio")


class HasEngine(Protocol):
    engine: AsyncEngine
    drain: Drain


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def readyz_endpoint(state: HasEngine) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint; ``state.engine`` is read per request (the lifespan sets it)."""

    async def readyz(request: Request) -> Response:
        if state.drain.draining:
            return JSONResponse({"status": "shutting down"}, 503)
        try:
            async with state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as error:  # any failure to reach the database means "not ready"
            log.warning("database not reachable: %r", error)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return readyz


def health_routes(state: HasEngine) -> list[Route]:
    return [Route("/healthz", healthz), Route("/readyz", readyz_endpoint(state))]
