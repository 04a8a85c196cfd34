"""``GET /tiles/{layer}/{z}/{x}/{y}.mvt``: the map layers as Mapbox Vector Tiles.

Layers: ``providers`` (one feature per published provider location), ``services`` (one per
service and location where it is offered) and ``welfare_points``. The query parameters are
every ``ServiceFilter`` field named as in GraphQL (derived from ``catalogue.filter_input``), lists
comma-separated or repeated, enums by name or value in any case, the price as
``priceMin``/``priceMax``/``priceUnit``, ``freeBetween`` as an ISO 8601 interval ``start/end``:
``?categories=badante,asilo-nido&delivery=at_home&age=9``. ``welfare_points`` takes none.

Bad input is a 400 whose JSON body has the GraphQL error shape and names the parameter; an
unknown parameter is bad input too (a typo must not silently show everything). An empty tile
is a 204. Every answer carries a strong ETag, a hash of the tile's bytes, and ``If-None-Match``
gets a 304. A client that accepts gzip gets the tile gzipped (``Content-Encoding: gzip``).
Tiles are kept in ``http/tile_cache.py`` until the catalogue changes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, is_dataclass
from datetime import datetime
from enum import StrEnum
from types import UnionType
from typing import Any, Protocol, Union, get_args, get_origin, get_type_hints

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ambrogio.catalogue.filter_input import FilterInput, resolve_filter
from ambrogio.catalogue.filters import service_conditions
from ambrogio.errors import BadUserInput
from ambrogio.geo import tiles
from ambrogio.geo.tiles import CLUSTERED, Layer, Tile, clustered, feature_count, tile_stmt
from ambrogio.http import params
from ambrogio.http.tile_cache import CachedTile, TileCache

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
CACHE_CONTROL = "public, max-age=300"
WHOLE_NUMBER = re.compile(r"^-?[0-9]{1,9}$")


class HasSessions(Protocol):
    sessionmaker: async_sessionmaker[AsyncSession]
    tile_cache: TileCache


def _integer(name: str, raw: str) -> int:
    if not WHOLE_NUMBER.match(raw):
        raise BadUserInput(name, raw, "is not a whole number")
    return int(raw)


def _number(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise BadUserInput(name, raw, "is not a number") from None


def _text(name: str, raw: str) -> str:
    return raw


def _enum(enum: type[StrEnum]) -> Callable[[str, str], Any]:
    def parse(name: str, raw: str) -> Any:
        try:
            return enum(raw.lower())
        except ValueError:
            names = ", ".join(member.name for member in enum)
            raise BadUserInput(name, raw, f"is not one of {names}") from None

    return parse


@dataclass(frozen=True)
class Param:
    attribute: str
    parse: Callable[[str, str], Any]
    many: bool = False
    # The attribute of the nested input (``price``) this parameter fills, if any.
    within: str | None = None


def _interval(name: str, raw: str) -> tuple[datetime, datetime]:
    """An ISO 8601 interval of two instants, ``start/end``."""
    start, slash, end = raw.partition("/")
    if not slash:
        raise BadUserInput(name, raw, "is not an interval start/end of ISO 8601 date-times")
    return params.instant(name, start), params.instant(name, end)


def _scalar_parser(hint: Any) -> Callable[[str, str], Any]:
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return _enum(hint)
    parsers: dict[Any, Callable[[str, str], Any]] = {
        str: _text,
        int: _integer,
        float: _number,
        bool: params.boolean,
        datetime: params.instant,
        tuple[datetime, datetime]: _interval,
    }
    if hint not in parsers:
        raise TypeError(f"no tile parameter parser for {hint!r}")
    return parsers[hint]


def _without_none(hint: Any) -> Any:
    args = [arg for arg in get_args(hint) if arg is not type(None)]
    return args[0] if get_origin(hint) in (Union, UnionType) and len(args) == 1 else hint


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _params() -> dict[str, Param]:
    """One parameter per ``FilterInput`` field, named as in GraphQL; the fields of a nested
    input (the price) become one parameter each: ``priceMin``, ``priceMax``, ``priceUnit``."""
    params: dict[str, Param] = {}
    for name, hint in get_type_hints(FilterInput).items():
        hint = _without_none(hint)
        if is_dataclass(hint):
            for inner, inner_hint in get_type_hints(hint).items():
                parse = _scalar_parser(_without_none(inner_hint))
                params[_camel(f"{name}_{inner}")] = Param(inner, parse, within=name)
        elif get_origin(hint) is list:
            params[_camel(name)] = Param(name, _scalar_parser(get_args(hint)[0]), many=True)
        else:
            params[_camel(name)] = Param(name, _scalar_parser(hint))
    return params


PARAMS = _params()
NESTED = {
    name: _without_none(hint)
    for name, hint in get_type_hints(FilterInput).items()
    if is_dataclass(_without_none(hint))
}


def service_filter(params: QueryParams) -> FilterInput | None:
    """The ``FilterInput`` the query parameters spell, or None when there are none."""
    fields: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(params.keys()):
        param = PARAMS.get(name)
        if param is None:
            raise BadUserInput(
                name, params[name], f"is not a parameter; known: {', '.join(PARAMS)}"
            )
        raws = params.getlist(name)
        if param.many:
            items = [item.strip() for raw in raws for item in raw.split(",")]
            if "" in items:
                raise BadUserInput(name, ",".join(raws), "has an empty value")
            value: Any = [param.parse(name, item) for item in items]
        elif len(raws) > 1:
            raise BadUserInput(name, ",".join(raws), "is given more than once")
        else:
            value = param.parse(name, raws[0].strip())
        target = fields if param.within is None else nested.setdefault(param.within, {})
        target[param.attribute] = value
    for within, values in nested.items():
        fields[within] = NESTED[within](**values)
    return FilterInput(**fields) if fields else None


def _param_of(field: str) -> str:
    """The parameter that a ``resolve_filter`` field path (``filter.price.min``,
    ``filter.languages[1]``, ``filter.freeBetween.to``) came from."""
    path = re.sub(r"\[[0-9]+\]", "", field.removeprefix("filter."))
    head, _, inner = path.partition(".")
    joined = head + inner[:1].upper() + inner[1:]
    return joined if joined in PARAMS else head


def checked_layer(raw: str) -> Layer:
    try:
        return Layer(raw)
    except ValueError:
        names = ", ".join(layer.value for layer in Layer)
        raise BadUserInput("layer", raw, f"is not one of {names}") from None


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` admits gzip (RFC 9110: listed, or ``*``, with q > 0)."""
    for item in (accept_encoding or "").lower().split(","):
        coding, _, params = item.partition(";")
        if coding.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            try:
                return not q or float(q) > 0
            except ValueError:
                return False
    return False


def _matches(if_none_match: str | None, etag: str) -> bool:
    # RFC 9110: If-None-Match compares weakly, so W/"x" matches "x".
    if if_none_match is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def bad_request(error: BadUserInput) -> Response:
    # resolve_filter names fields by their GraphQL path (filter.price.min); say the parameter.
    field = str(error.extensions["field"])
    param = _param_of(field)
    message = param + error.message[len(field) :]
    extensions = {"code": error.code, **error.extensions, "field": param}
    return JSONResponse({"errors": [{"message": message, "extensions": extensions}]}, 400)


def _answer(request: Request, tile: CachedTile) -> Response:
    headers = {"ETag": tile.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match"), tile.etag):
        return Response(status_code=304, headers=headers)
    if not tile.body:
        return Response(status_code=204, headers=headers)
    if accepts_gzip(request.headers.get("accept-encoding")):
        headers["Content-Encoding"] = "gzip"
        return Response(tile.gzipped, media_type=MEDIA_TYPE, headers=headers)
    return Response(tile.body, media_type=MEDIA_TYPE, headers=headers)


def tiles_endpoint(state: HasSessions) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint; ``state.sessionmaker`` is read per request (the lifespan sets it)."""

    async def tile(request: Request) -> Response:
        path = request.path_params
        cache = state.tile_cache
        try:
            layer = checked_layer(path["layer"])
            where = Tile.checked(
                _integer("z", path["z"]), _integer("x", path["x"]), _integer("y", path["y"])
            )
            key = (layer.value, where.z, where.x, where.y, str(request.query_params))
            cached = cache.get(key)
            if cached is not None:
                return _answer(request, cached)
            given = service_filter(request.query_params)
            if given is not None and layer is Layer.WELFARE_POINTS:
                name = next(iter(request.query_params.keys()))
                raise BadUserInput(
                    name, request.query_params[name], "does not apply to welfare_points"
                )

            async def build() -> CachedTile:
                async with state.sessionmaker() as session:
                    conditions = (
                        service_conditions(await resolve_filter(session, given))
                        if given is not None
                        else None
                    )
                    dense = False
                    if layer in CLUSTERED and not clustered(layer, where):
                        count = await session.scalar(feature_count(layer, where, conditions))
                        dense = int(count or 0) > tiles.MAX_FEATURES
                    result = await session.execute(tile_stmt(layer, where, conditions, dense))
                    return CachedTile.of(bytes(result.scalar_one()))

            made = await cache.fetch(key, build)
        except BadUserInput as error:
            return bad_request(error)
        return _answer(request, made)

    return tile
