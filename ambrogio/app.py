"""The ASGI application: ``build_app(settings)`` wires starlette, strawberry and the database;
``create_app()`` builds it from the environment (``uvicorn --factory ambrogio.app:create_app``)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
from collections.abc import AsyncIterator
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.types import ExecutionResult

from ambrogio import metrics
from ambrogio.auth.caller import resolve_caller
from ambrogio.auth.rate_limit import RateLimiter
from ambrogio.context import Context
from ambrogio.db import housekeeping
from ambrogio.db.notifications import Notifications
from ambrogio.db.replicas import ReadRouting, read_routing
from ambrogio.db.session import create_engine, create_sessionmaker
from ambrogio.errors import AmbrogioError
from ambrogio.export import ExportFormat
from ambrogio.http import graphiql
from ambrogio.http.compression import compression
from ambrogio.http.cors import Cors
from ambrogio.http.draining import Drain
from ambrogio.http.export import export_endpoint
from ambrogio.http.health import health_routes
from ambrogio.http.hsds import hsds_routes
from ambrogio.http.map_preview import map_preview_routes
from ambrogio.http.needs import gaps_routes
from ambrogio.http.persisted import Documents, PersistedGetCache, Refused
from ambrogio.http.requests import Requests, request_info
from ambrogio.http.rest_limit import RestLimit
from ambrogio.http.shortcut import Shortcut
from ambrogio.http.tile_cache import TileCache
from ambrogio.http.tilejson import tilejson_endpoint
from ambrogio.http.tiles import tiles_endpoint
from ambrogio.http.transport import (
    PREFLIGHT_HEADERS,
    Transport,
    TransportError,
    check_multipart,
    load_json,
)
from ambrogio.http.uploads import UploadLimit
from ambrogio.schema.build import build_schema
from ambrogio.schema.planned import Planned, paid
from ambrogio.settings import Settings


class State:
    """What the lifespan opens: the engine, its sessionmaker, the slot-change listener."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    notifications: Notifications | None = None
    routing: ReadRouting | None = None
    limiter: RateLimiter
    documents: Documents
    tile_cache: TileCache
    drain: Drain

    def __init__(self, settings: Settings) -> None:
        self.tile_cache = TileCache(settings.tile_cache_bytes)
        self.drain = Drain(settings.shutdown_drain_seconds)


class AmbrogioGraphQL(GraphQL[Context, None]):
    def __init__(self, settings: Settings, state: State) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            # importProviders takes a file (GraphQL multipart request); see ambrogio.http.uploads.
            multipart_uploads_enabled=True,
        )
        self.settings = settings
        self.state = state

    def encode_json(self, data: object) -> str:
        """orjson: the answer of a nearby page encodes 20 times faster than with ``json``.
        Text, not bytes: websocket messages must be text frames."""
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        """JSON no deeper than ``AMBROGIO_MAX_JSON_DEPTH``. Websocket messages come here: a
        deeper one is invalid JSON (the connection closes with 4400), never a RecursionError."""
        try:
            return load_json(data, "message", self.settings.max_json_depth)
        except TransportError as error:
            raise json.JSONDecodeError(error.message, "", 0) from None

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        """A GraphQL multipart request, its ``operations`` and ``map`` checked first."""
        try:
            form = (await request.get_form_data()).form
        except ValueError as error:
            raise TransportError(
                400, "body: not a readable multipart body", field="body"
            ) from error
        operations, files_map = form.get("operations"), form.get("map")
        files = {name: value for name, value in form.items() if not isinstance(value, str)}
        checked = check_multipart(operations, files_map, set(files), self.settings.max_json_depth)
        mapping = json.loads(str(files_map))
        return replace_placeholders_with_files(checked, mapping, files)

    @property
    def graphql_ide_html(self) -> str:
        return graphiql.page()

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """The page only for a GET with no operation at all (a persisted GET names its
        document in ``extensions`` or ``documentId``, and may accept ``*/*``)."""
        params = request.query_params
        return (
            super().should_render_graphql_ide(request)
            and params.get("extensions") is None
            and params.get("documentId") is None
        )

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Any,
    ) -> Any:
        """The document of a persisted operation (``ambrogio.http.persisted``) first."""
        resolved = None
        if isinstance(request_data, GraphQLRequestData):
            try:
                resolved = await self.state.documents.resolve(
                    request_data.query,
                    request_data.extensions,
                    request.scope.get("state", {}).get("document_id"),
                )
            except Refused as refused:
                return ExecutionResult(data=None, errors=[refused.error], extensions={"cost": 0})
            request_data.query = resolved.query
        result = await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )
        ran = not getattr(result, "errors", None)
        if resolved is not None and resolved.query and resolved.learn and ran:
            await self.state.documents.learn(resolved.query)
        return result

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = Context(
            settings=self.settings,
            sessionmaker=self.state.sessionmaker,
            engine=self.state.engine,
            notifications=self.state.notifications,
            # Charged already when a plan handed the request on (ambrogio.schema.planned).
            limiter=paid(request.scope) or self.state.limiter,
            routing=self.state.routing,
        )
        context.client = request.client.host if request.client else None
        if isinstance(request, Request):
            context.response = response
        info = request_info(request.scope)
        if info is not None:
            context.request_id = info.request_id
            context.request_info = info
        try:
            context.caller = await resolve_caller(
                request.headers, self.settings, self.state.sessionmaker
            )
        except AmbrogioError as error:
            context.auth_failure = error
        if info is not None:
            info.caller = context.caller.key
        return context

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """The response, with its request id in ``extensions``; its error codes and cost are
        noted for the request's log line and metrics."""
        response = await super().process_result(request, result)
        info = request_info(request.scope)
        if info is None:
            return response
        extensions = {**(response.get("extensions") or {}), "requestId": info.request_id}
        response["extensions"] = extensions
        cost = extensions.get("cost")
        if isinstance(cost, dict):
            cost = cost.get("requestedQueryCost", cost.get("total"))
        if isinstance(cost, int | float):
            info.cost = float(cost)
        info.codes.extend(
            str(dict(error.get("extensions") or {}).get("code", "INTERNAL_SERVER_ERROR"))
            for error in response.get("errors") or []
            if isinstance(error, dict)
        )
        return response


def build_app(
    settings: Settings, engine: AsyncEngine | None = None, *, freeze_heap: bool = False
) -> Starlette:
    """The application. Pass ``engine`` to share one (tests); otherwise the lifespan owns one.

    ``freeze_heap`` (a serving process's): once started, everything alive is moved out of the
    garbage collector's reach (``gc.freeze``). The schema, the models and the caches are some
    hundred thousand objects that live as long as the process; a full collection walked them
    all, every few seconds under load (what the requests in flight hold is promoted, and a
    full collection follows when that exceeds a quarter of the old objects): ~130 ms during
    which the event loop answered nothing, the p99 of a nearby page under 16 connections at
    1M. Frozen, a full collection walks only what was made since.
    """
    state = State(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = engine is None
        state.engine = engine if engine is not None else create_engine(settings, serving=True)
        if own:
            metrics.instrument_engine(state.engine)
        state.sessionmaker = create_sessionmaker(state.engine)
        state.limiter = RateLimiter(state.engine, settings)
        state.documents = Documents(state.sessionmaker, settings)
        # Reconnects by itself when the database restarts (ambrogio.db.notifications).
        changes = Notifications(
            state.engine.url.render_as_string(hide_password=False),
            connect_timeout=settings.db_connect_timeout_seconds,
        )
        await changes.start()
        state.notifications = changes
        tasks = [
            asyncio.create_task(_sample_pool(state.engine), name="ambrogio-pool-metrics"),
            # The tile cache empties on every catalogue change.
            state.tile_cache.start(changes),
        ]
        if settings.housekeeping_interval_seconds > 0:
            tasks.append(
                asyncio.create_task(
                    housekeeping.every(state.engine, settings), name="ambrogio-housekeeping"
                )
            )
        state.routing = read_routing(settings, state.engine)
        if state.routing is not None:
            await state.routing.check()
            tasks.append(asyncio.create_task(state.routing.watch(), name="ambrogio-replicas"))
            tasks.append(asyncio.create_task(state.routing.follow_writers(changes)))
        if freeze_heap:
            gc.collect()
            gc.freeze()
        try:
            with state.drain.on_sigterm():
                yield
        finally:
            for task in tasks:
                task.cancel()
            if state.routing is not None:
                await state.routing.dispose()
                state.routing = None
            await changes.stop()
            state.notifications = None
            if own:
                await state.engine.dispose()
            metrics.process_stopped()

    graphql = AmbrogioGraphQL(settings, state)
    planned = Planned(
        PersistedGetCache(
            UploadLimit(graphql, settings.import_max_bytes), settings.persisted_max_age_seconds
        ),
        schema=graphql.schema,
        state=state,
        settings=settings,
    )
    transport = Transport(
        planned, max_body_bytes=settings.max_body_bytes, max_json_depth=settings.max_json_depth
    )
    route = Route("/graphql", transport, methods=["GET", "POST"])
    return Starlette(
        routes=[
            route,
            WebSocketRoute("/graphql", graphql),
            *([graphiql.assets_route()] if settings.graphiql else []),
            *health_routes(state),
            Route("/metrics", metrics.metrics_endpoint, methods=["GET"]),
            *hsds_routes(state, settings),
            # Before the catalogue's tile routes, whose {layer} would take needs_gaps.
            *(
                Route(path, endpoint, methods=["GET"])
                for path, endpoint in gaps_routes(state, settings).items()
            ),
            *map_preview_routes(settings),
            Route("/tiles/{layer}/{z}/{x}/{y}.mvt", tiles_endpoint(state), methods=["GET"]),
            Route("/tiles/{layer}.json", tilejson_endpoint(settings), methods=["GET"]),
            Route("/export/hsds.json", export_endpoint(state, ExportFormat.HSDS), methods=["GET"]),
            Route(
                "/export/catalogue.geojson",
                export_endpoint(state, ExportFormat.GEOJSON),
                methods=["GET"],
            ),
        ],
        # CORS outermost, so that a browser may read a 503 of ambrogio.http.requests too.
        middleware=[
            *cors(settings),
            # A planned POST /graphql is answered from here (ambrogio.http.shortcut).
            Middleware(
                Requests,
                timeout=settings.request_timeout_seconds,
                shortcut=Shortcut(planned, transport, route),
            ),
            Middleware(RestLimit, state=state, settings=settings),
            *compression(),
        ],
        lifespan=lifespan,
    )


def create_app() -> Starlette:
    """The application configured from the environment (``AMBROGIO_*``, ``DATABASE_URL``):
    what each worker process of ``ambrogio serve --workers N`` builds."""
    return build_app(Settings(), freeze_heap=True)


async def _sample_pool(engine: AsyncEngine) -> None:
    while True:
        metrics.sample_pool(engine)
        await asyncio.sleep(1)


# Request headers a browser page may send (preflight): credentials, the CSRF headers of
# ambrogio.http.transport, and conditional requests.
CORS_HEADERS = [
    "authorization",
    "content-type",
    "x-api-key",
    "if-none-match",
    "if-modified-since",
    *(name.decode() for name in PREFLIGHT_HEADERS),
]


def cors(settings: Settings) -> list[Middleware]:
    """CORS for every route (``/graphql``, tiles, exports) from ``AMBROGIO_CORS_ORIGINS``.

    No credentials: callers authenticate with headers, never cookies, so ``*`` is safe.
    """
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            Cors,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=CORS_HEADERS,
            allow_credentials=False,
            expose_headers=[
                "etag",
                "retry-after",
                "cache-control",
                "last-modified",
                "x-request-id",
            ],
            max_age=600,
        )
    ]
