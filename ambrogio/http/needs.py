"""The gap analysis for maps and spreadsheets: ``/needs/gaps.geojson``, ``/needs/gaps.csv``,
vector tiles at ``/tiles/needs_gaps/{z}/{x}/{y}.mvt`` and their TileJSON at
``/tiles/needs_gaps.json``.

Parameters (all optional): ``from`` and ``to``, whole quarters (``2026-Q1``; by default the
last four ended ones); ``category``, one whole category (slug, label or synonym) whose row each
comune shows (every category when absent); ``comuni``, ISTAT codes comma-separated. The
figures are ``needsGaps``'s: k-anonymous sums of published cells. The map has one feature per
comune with published needs, its boundary where the gazetteer has one and its centroid
otherwise; the CSV has every row, the province's pooled rows too.

Like ``needsGaps``, these need a signed-in planner, reviewer, mapper or admin
(``Authorization: Bearer <token>``; a map sends it with MapLibre's ``transformRequest``):
401 without credentials, 403 for a caller without the permission. Answers are private to the
caller (``Cache-Control: private``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ambrogio.auth.caller import resolve_caller
from ambrogio.auth.permissions import Permission, require
from ambrogio.errors import AmbrogioError, BadUserInput, Forbidden, Unauthenticated
from ambrogio.geo.tiles import MAX_ZOOM, Tile
from ambrogio.http.tiles import MEDIA_TYPE
from ambrogio.needs import analysis, maps
from ambrogio.needs.analysis import GapAnalysis, Scope
from ambrogio.settings import Settings

PARAMS = ("from", "to", "category", "comuni")
CACHE_CONTROL = "private, max-age=300"
CSV_COLUMNS = (
    "comune",
    "name",
    "province",
    "category",
    "pooled",
    "needs",
    "unmet_referrals",
    "services_reaching",
    "free_seats",
    "gap_score",
)
STATUS = {Unauthenticated: 401, Forbidden: 403}


class HasState(Protocol):
    sessionmaker: async_sessionmaker[AsyncSession]


def _error(error: AmbrogioError) -> Response:
    extensions: dict[str, Any] = {"code": error.code, **error.extensions}
    message = error.message
    if isinstance(error, BadUserInput):
        # The analysis names GraphQL's fields (period.from, comuni[2]): say the parameter.
        param = error.field.removeprefix("period.").split("[")[0]
        message = param + error.message[len(error.field) :]
        extensions["field"] = param
    status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
    return JSONResponse({"errors": [{"message": message, "extensions": extensions}]}, status)


def _params(request: Request) -> dict[str, str]:
    given: dict[str, str] = {}
    for name in dict.fromkeys(request.query_params.keys()):
        if name not in PARAMS:
            raise BadUserInput(
                name, request.query_params[name], f"is not a parameter; known: {', '.join(PARAMS)}"
            )
        values = request.query_params.getlist(name)
        if len(values) > 1 and name != "comuni":
            raise BadUserInput(name, ",".join(values), "is given more than once")
        given[name] = ",".join(values)
    return given


def _comuni(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    codes = [code.strip() for code in raw.split(",")]
    if "" in codes:
        raise BadUserInput("comuni", raw, "has an empty value")
    return codes


class Gaps:
    """What every route of the gap map does first: the caller, the parameters, the analysis."""

    def __init__(self, state: HasState, settings: Settings) -> None:
        self.state = state
        self.settings = settings

    async def analysis(self, request: Request) -> tuple[Scope, GapAnalysis]:
        caller = await resolve_caller(request.headers, self.settings, self.state.sessionmaker)
        require(caller, Permission.PLAN)
        given = _params(request)
        async with self.state.sessionmaker() as session:
            scope = await analysis.checked_scope(
                session, _comuni(given.get("comuni")), given.get("category")
            )
            result = await analysis.gap_analysis(
                session,
                self.settings,
                scope,
                given.get("from"),
                given.get("to"),
                datetime.now(UTC),
            )
        return scope, result

    def endpoint(
        self, answer: Callable[[Request, Scope, GapAnalysis], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def route(request: Request) -> Response:
            try:
                scope, result = await self.analysis(request)
                return await answer(request, scope, result)
            except AmbrogioError as error:
                return _error(error)

        return route


def gaps_routes(state: HasState, settings: Settings) -> dict[str, Callable[..., Any]]:
    """The endpoints by path, for ``app.py`` to mount (before the catalogue's tile routes)."""
    gaps = Gaps(state, settings)

    async def geojson(request: Request, scope: Scope, result: GapAnalysis) -> Response:
        async with state.sessionmaker() as session:
            rows = (await session.execute(maps.features(result.rows, scope.category))).mappings()
            features = [
                {
                    "type": "Feature",
                    "id": row["comune"],
                    "geometry": json.loads(row["geometry"]),
                    "properties": {name: row[name] for name in maps.FIELDS},
                }
                for row in rows
            ]
        body = {
            "type": "FeatureCollection",
            "k": settings.needs_k,
            "quarters": [str(quarter) for quarter in result.quarters],
            "features": features,
        }
        return JSONResponse(
            body,
            media_type="application/geo+json",
            headers={"Cache-Control": CACHE_CONTROL},
        )

    async def spreadsheet(request: Request, scope: Scope, result: GapAnalysis) -> Response:
        async with state.sessionmaker() as session:
            names: dict[str, str] = dict((await session.execute(maps.names(result.rows))).all())
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in result.rows:
            writer.writerow(
                (
                    row.comune or "",
                    names.get(row.comune, "") if row.comune else "",
                    row.province,
                    row.category or "",
                    "true" if row.pooled else "false",
                    row.needs,
                    row.unmet,
                    "" if row.services is None else row.services,
                    "" if row.free_seats is None else row.free_seats,
                    "" if row.score is None else row.score,
                )
            )
        quarters = f"{result.quarters[0]}_{result.quarters[-1]}"
        headers = {
            "Cache-Control": CACHE_CONTROL,
            "Content-Disposition": f'attachment; filename="needs-gaps-{quarters}.csv"',
        }
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)

    async def tile(request: Request, scope: Scope, result: GapAnalysis) -> Response:
        path = request.path_params
        numbers = {}
        for name in ("z", "x", "y"):
            if not path[name].isdigit():
                raise BadUserInput(name, path[name], "is not a whole number")
            numbers[name] = int(path[name])
        where = Tile.checked(numbers["z"], numbers["x"], numbers["y"])
        async with state.sessionmaker() as session:
            body = bytes(
                (await session.execute(maps.tile(result.rows, scope.category, where))).scalar_one()
            )
        etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
        if not body:
            return Response(status_code=204, headers=headers)
        return Response(body, media_type=MEDIA_TYPE, headers=headers)

    async def tilejson(request: Request) -> Response:
        try:
            _params(request)
        except BadUserInput as error:
            return _error(error)
        return JSONResponse(
            tile_document(str(request.base_url), request.url.query, settings),
            headers={"Cache-Control": "public, max-age=300"},
        )

    return {
        "/needs/gaps.geojson": gaps.endpoint(geojson),
        "/needs/gaps.csv": gaps.endpoint(spreadsheet),
        f"/tiles/{maps.LAYER}/{{z}}/{{x}}/{{y}}.mvt": gaps.endpoint(tile),
        f"/tiles/{maps.LAYER}.json": tilejson,
    }


DESCRIPTION = (
    "The gap analysis of needs: one feature per comune with published needs (its boundary, or "
    "its centroid where the gazetteer has none), k-anonymous. Tiles need a bearer token."
)


def tile_document(base_url: str, query: str, settings: Settings) -> dict[str, Any]:
    """TileJSON 3.0.0 of the gap layer, its parameters carried into ``tiles``."""
    west, south, east, north = settings.territory_bbox
    template = f"{base_url}tiles/{maps.LAYER}/{{z}}/{{x}}/{{y}}.mvt"
    return {
        "tilejson": "3.0.0",
        "name": f"Ambrogio {maps.LAYER}",
        "description": DESCRIPTION,
        "scheme": "xyz",
        "tiles": [f"{template}?{query}" if query else template],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, 10],
        "vector_layers": [
            {
                "id": maps.LAYER,
                "description": DESCRIPTION,
                "minzoom": 0,
                "maxzoom": MAX_ZOOM,
                "fields": maps.FIELDS,
            }
        ],
    }
