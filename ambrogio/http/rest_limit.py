"""Rate limits for the REST routes: HSDS, the exports, the tiles and the needs' gap analysis.

Each request is charged to the same token bucket as the caller's GraphQL operations
(``ambrogio.auth.rate_limit``: per API key, per signed-in user, per client address), before
the route runs, at a cost that follows the work the route does:

- an HSDS list: its page size (``per_page``, 20 when not given) plus one; ``format=ndjson``
  (every matching record, no paging) and the exports: ``EXPORT_COST``, the price of reading
  the whole catalogue;
- a vector tile: ``TILE_COST`` (a map view asks for a dozen at once);
- the needs' gap analysis (GeoJSON, CSV, tile): ``GAPS_COST``, an aggregation over every need;
- anything else (one record, TileJSON, the OpenAPI document, the HSDS root): one point.

Over the limit, the route does not run: 429 with ``Retry-After`` and a JSON body in the
GraphQL error shape (``RATE_LIMITED``, ``retryAfter``, ``limit``, ``cost``). Credentials that
do not hold are the route's business (the gap analysis refuses them); such a request is
charged to its client address.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import parse_qs

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ambrogio.auth.caller import resolve_caller
from ambrogio.auth.rate_limit import RateLimiter
from ambrogio.context import ANONYMOUS, Caller
from ambrogio.errors import AmbrogioError, RateLimited
from ambrogio.http.reads import remember_caller
from ambrogio.http.requests import request_info
from ambrogio.http.transport import error_body
from ambrogio.settings import Settings

EXPORT_COST = 5_000
TILE_COST = 10
GAPS_COST = 100
DEFAULT_PAGE = 20
# Path prefixes the limits apply to (``/graphql`` is charged by its operation's cost).
LIMITED = ("/hsds", "/export/", "/tiles/", "/needs/")


class HasLimiter(Protocol):
    limiter: RateLimiter
    sessionmaker: async_sessionmaker[AsyncSession]


def _page_cost(params: dict[str, list[str]]) -> int:
    """A list's page size plus one; a page size that is no number costs the default (the route
    refuses it, after it was paid for)."""
    if params.get("format", [""])[0] == "ndjson":
        return EXPORT_COST
    raw = params.get("per_page", [""])[0]
    return (int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_PAGE) + 1


HSDS_LISTS = {
    "/hsds/organizations",
    "/hsds/services",
    "/hsds/service_at_locations",
    "/hsds/taxonomies",
    "/hsds/taxonomy_terms",
    "/hsds/changes",
}


def cost(path: str, query_string: str) -> int:
    """What a request to ``path`` costs (see the module's docstring)."""
    if path.startswith("/needs/") or path.startswith("/tiles/needs_gaps/"):
        return GAPS_COST
    if path.startswith("/export/"):
        return EXPORT_COST
    if path.startswith("/tiles/") and path.endswith(".mvt"):
        return TILE_COST
    if path.rstrip("/") in HSDS_LISTS:
        return _page_cost(parse_qs(query_string))
    return 1


class RestLimit:
    """ASGI: charges the REST routes' requests to the caller's bucket (see the module)."""

    def __init__(self, app: ASGIApp, state: HasLimiter, settings: Settings) -> None:
        self.app = app
        self.state = state
        self.settings = settings

    async def _caller(self, scope: Scope) -> Caller:
        try:
            headers = Headers(scope=scope)
            return await resolve_caller(headers, self.settings, self.state.sessionmaker)
        except AmbrogioError:
            return ANONYMOUS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not path.startswith(LIMITED)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        amount = cost(path, scope.get("query_string", b"").decode("latin-1"))
        caller = await self._caller(scope)
        remember_caller(scope, caller)  # its reads follow its writes (ambrogio.http.reads)
        try:
            await self.state.limiter.charge(caller, client[0] if client else None, amount)
        except RateLimited as error:
            await self._refuse(scope, send, error)
            return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send, error: RateLimited) -> None:
        info = request_info(scope)
        extensions = {"code": error.code, **error.extensions}
        if info is not None:
            info.codes.append(error.code)
            extensions["requestId"] = info.request_id
        body = error_body(error.message, extensions)
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(error.extensions["retryAfter"]).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
