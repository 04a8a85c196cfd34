"""``providers``, ``services`` and ``welfarePoints``: near a point, filtered, ordered, paged.

The arguments are checked here; ordered by distance, a page comes from ``geo.nearby`` (KNN
index scan, exact ellipsoidal order, cursor = (distance, id)), in any other order from
``catalogue.search`` (a keyset page over the filtered table).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.catalogue import search
from ambrogio.catalogue import text as text_search
from ambrogio.catalogue.filters import service_conditions
from ambrogio.catalogue.pagination import decode_cursor, encode_cursor, page_size
from ambrogio.catalogue.text import Bound, TextQuery
from ambrogio.catalogue.visibility import Condition, Stmt
from ambrogio.context import Context
from ambrogio.errors import BadUserInput
from ambrogio.geo.nearby import (
    DistanceKey,
    Fetch,
    NearbySearch,
    Query,
    nearby_providers_query,
    nearby_services_query,
    nearby_welfare_points_query,
    prepared_fetch,
    run_nearby,
    session_fetch,
)
from ambrogio.geo.point import LatLon, checked_radius
from ambrogio.geo.reach import reaches
from ambrogio.resolvers.filters import filter_spec
from ambrogio.schema.types.catalogue import PROVIDER_PLAIN_COLUMNS, Provider
from ambrogio.schema.types.catalogue import Service as ServiceNode
from ambrogio.schema.types.inputs import LatLonInput, ServiceFilter, ServiceOrder
from ambrogio.schema.types.node import Connection, Cursor, build_connection
from ambrogio.schema.types.welfare_point import WelfarePoint as WelfarePointNode

Info = strawberry.Info[Context, None]
N = TypeVar("N")


MAX_TEXT = 200


@dataclass(frozen=True)
class Args:
    point: LatLon | None
    radius_m: float | None
    text: TextQuery | None
    order: ServiceOrder
    limit: int
    after: str | None


def _text(text: str | None) -> TextQuery | None:
    if text is None:
        return None
    words = " ".join(text.split())
    if not words:
        raise BadUserInput("text", text, "must contain at least one word")
    if len(words) > MAX_TEXT:
        raise BadUserInput("text", text[:40] + "…", f"must be at most {MAX_TEXT} characters")
    return TextQuery(words)


def checked_near(
    near: LatLonInput | None, radius_m: float | None
) -> tuple[LatLon | None, float | None]:
    """``near`` and ``radiusMeters`` validated together (a radius needs a point)."""
    point = LatLon.checked(near.lat, near.lon, "near") if near is not None else None
    radius = checked_radius(radius_m)
    if radius is not None and point is None:
        raise BadUserInput("radiusMeters", radius_m, "needs `near`")
    return point, radius


def checked_circle(near: LatLonInput, radius_m: float | None) -> tuple[LatLon, float]:
    """``near`` with the ``radiusMeters`` it requires (the live subscriptions' area)."""
    point, radius = checked_near(near, radius_m)
    if radius is None:
        raise BadUserInput("radiusMeters", radius_m, "is required with `near`")
    assert point is not None
    return point, radius


async def _require_words(session: AsyncSession, query: TextQuery) -> None:
    if not await session.scalar(text_search.lexeme_count(query)):
        raise BadUserInput("text", query.text, "holds only stop words")


async def _bounded_words(session: AsyncSession, kind: search.Kind, query: TextQuery) -> Bound:
    """The query's words checked (not only stop words) and the most a match's relevance can
    be, in the one statement."""
    assert kind.bound is not None
    column, bound = kind.bound
    row = (await session.execute(text_search.words_bound(query, column))).one()
    if not row.lexemes:
        raise BadUserInput("text", query.text, "holds only stop words")
    return bound(row.lexemes, row.found, row.bound)


def _args(
    info: Info,
    near: LatLonInput | None,
    radius_m: float | None,
    text: str | None,
    order_by: ServiceOrder | None,
    first: int | None,
    after: str | None,
) -> Args:
    point, radius = checked_near(near, radius_m)
    query = _text(text)
    default = (
        ServiceOrder.RELEVANCE if query else ServiceOrder.DISTANCE if point else ServiceOrder.NAME
    )
    order = order_by or default
    if order is ServiceOrder.DISTANCE and point is None:
        raise BadUserInput("orderBy", "DISTANCE", "needs `near`")
    if order is ServiceOrder.RELEVANCE and query is None:
        raise BadUserInput("orderBy", "RELEVANCE", "needs `text`")
    return Args(point, radius, query, order, page_size(first, info.context.settings), after)


@dataclass(frozen=True)
class _Page:
    rows: list[Any]
    cursors: Sequence[Cursor]
    distances: list[float | None]
    # What `totalCount` counts, built only when it is selected.
    count: Callable[[], Stmt]


Where = Callable[[AsyncSession], Awaitable[list[Condition]]]
Nearby = Callable[[NearbySearch, Sequence[Condition], int], Stmt | Query]


async def _by_distance(
    kind: search.Kind,
    args: Args,
    after: Sequence[Any] | None,
    conditions: list[Condition],
    nearby: Nearby,
    fetch: Fetch,
) -> _Page:
    assert args.point is not None
    point, radius = args.point, args.radius_m
    cursor = DistanceKey(after[1], after[2]) if after else None
    asked = NearbySearch(point, radius, cursor, args.limit)
    hits = await run_nearby(
        fetch,
        lambda planned, m: nearby(planned, conditions, m),
        asked,
        on_plane=kind is not search.WELFARE_POINTS,
    )
    return _Page(
        [hit.row for hit in hits],
        [partial(encode_cursor, ["distance", hit.key.distance, hit.key.id]) for hit in hits],
        [hit.key.distance for hit in hits],
        lambda: search.nearby_count(kind, conditions, point, radius),
    )


async def _keyset(
    session: AsyncSession,
    kind: search.Kind,
    args: Args,
    after: Sequence[Any] | None,
    conditions: list[Condition],
    bound: Bound | None,
) -> _Page:
    def keyset(radius: float | None, probed: bool = False) -> search.KeysetSearch:
        return search.keyset_search(
            kind,
            conditions,
            args.point,
            radius,
            args.text,
            args.order,
            after[1:] if after else None,
            args.limit,
            probed,
        )

    radii: Sequence[tuple[float | None, bool]] = [(args.radius_m, False)]
    if bound is not None and args.order is ServiceOrder.RELEVANCE and args.point is not None:
        radii = search.rings(args.radius_m, bound)
    for radius, probed in radii:
        page = keyset(radius, probed)
        result = (await session.execute(page.stmt)).all()
        if radius == args.radius_m or search.settled(result, args.limit, radius, bound):
            break
    return _Page(
        [row[0] for row in result],
        page.cursors(result),
        page.distances(result),
        lambda: keyset(args.radius_m).count,
    )


async def _search(
    info: Info,
    kind: search.Kind,
    args: Args,
    where: Where | None,
    nearby: Nearby,
    to_node: Callable[[Any], N],
) -> Connection[N]:
    """A page of ``kind``; ``where`` reads the filter's conditions (None: no filter)."""
    context = info.context
    after = decode_cursor(args.after, search.CURSOR_KEYS[args.order])
    if where is None and args.text is None and args.order is ServiceOrder.DISTANCE:
        # Nothing to read first: the nearby statement alone, one round trip, no transaction.
        page = await _by_distance(kind, args, after, [], nearby, prepared_fetch(context.engine))
    else:
        async with context.sessionmaker() as session:
            conditions = list(await where(session)) if where is not None else []
            bound = None
            if args.text is not None and kind.bound is not None:
                bound = await _bounded_words(session, kind, args.text)
            elif args.text is not None:
                await _require_words(session, args.text)
            if args.order is ServiceOrder.DISTANCE:
                if args.text is not None:
                    assert kind.matches is not None
                    conditions.append(kind.matches(args.text, args.radius_m is not None, None))
                fetch = session_fetch(session)
                page = await _by_distance(kind, args, after, conditions, nearby, fetch)
            else:
                page = await _keyset(session, kind, args, after, conditions, bound)

    async def count() -> int:
        async with context.sessionmaker() as session:
            return int((await session.execute(search.counted(page.count()))).scalar_one())

    return build_connection(
        [to_node(row) for row in page.rows],
        page.cursors,
        limit=args.limit,
        after=args.after,
        count=count,
        distances=page.distances,
    )


async def services(
    info: Info,
    near: LatLonInput | None,
    radius_m: float | None,
    text: str | None,
    filter: ServiceFilter | None,
    order_by: ServiceOrder | None,
    first: int | None,
    after: str | None,
) -> Connection[ServiceNode]:
    args = _args(info, near, radius_m, text, order_by, first, after)

    async def where(session: AsyncSession) -> list[Condition]:
        return service_conditions(await filter_spec(session, filter))

    return await _search(
        info,
        search.SERVICES,
        args,
        where if filter is not None else None,
        nearby_services_query,
        ServiceNode.from_row,
    )


def _plan_reads(info: Info, type_name: str) -> frozenset[str] | None:
    """What a compiled plan reads of ``type_name``'s objects (``RootInfo.reads``); None on the
    regular path, where any field may be resolved."""
    reads = getattr(info, "reads", None)
    return reads.get(type_name) if reads is not None else None


async def providers(
    info: Info,
    near: LatLonInput | None,
    radius_m: float | None,
    text: str | None,
    filter: ServiceFilter | None,
    order_by: ServiceOrder | None,
    first: int | None,
    after: str | None,
) -> Connection[Provider]:
    args = _args(info, near, radius_m, text, order_by, first, after)

    async def where(session: AsyncSession) -> list[Condition]:
        return search.provider_conditions(await filter_spec(session, filter))

    nearby: Nearby = nearby_providers_query
    to_node: Callable[[Any], Provider] = Provider.from_row
    read = _plan_reads(info, "Provider")
    if read is not None and read <= PROVIDER_PLAIN_COLUMNS | {"id", "pk"}:
        # A compiled plan reads these only: a page of these columns, nodes of them.
        only = tuple(sorted(read & PROVIDER_PLAIN_COLUMNS))
        nearby = partial(nearby_providers_query, only=only)
        to_node = partial(Provider.from_columns, only)
    return await _search(
        info, search.PROVIDERS, args, where if filter is not None else None, nearby, to_node
    )


async def welfare_points(
    info: Info,
    near: LatLonInput | None,
    radius_m: float | None,
    first: int | None,
    after: str | None,
) -> Connection[WelfarePointNode]:
    args = _args(info, near, radius_m, None, None, first, after)

    def nearby(asked: NearbySearch, _: Sequence[Condition], m: int) -> Query:
        return nearby_welfare_points_query(asked, m)

    return await _search(info, search.WELFARE_POINTS, args, None, nearby, WelfarePointNode.from_row)


async def services_reaching(
    info: Info,
    point: LatLonInput,
    filter: ServiceFilter | None,
    first: int | None,
    after: str | None,
) -> Connection[ServiceNode]:
    home = LatLon.checked(point.lat, point.lon, "point")
    args = Args(None, None, None, ServiceOrder.NAME, page_size(first, info.context.settings), after)

    async def where(session: AsyncSession) -> list[Condition]:
        return [reaches(home), *service_conditions(await filter_spec(session, filter))]

    return await _search(
        info, search.SERVICES, args, where, nearby_services_query, ServiceNode.from_row
    )


async def service_search_conditions(
    session: AsyncSession,
    near: LatLonInput | None,
    radius_m: float | None,
    text: str | None,
    filter: ServiceFilter | None,
) -> list[Condition]:
    """What a service must satisfy to be in a search (facets and GeoJSON use the same set as
    ``services``): visible, filtered, matching the text, within the radius of ``near`` (or,
    with ``near`` alone, located somewhere)."""
    point, radius = checked_near(near, radius_m)
    query = _text(text)
    if query is not None:
        await _require_words(session, query)
    return search.service_search(await filter_spec(session, filter), query, point, radius)
