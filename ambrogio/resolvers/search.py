"""``providers``, ``services`` and ``welfarePoints``: near a point, filtered, ordered, paged.

The arguments are checked here; ordered by distance, a page comes from ``geo.nearby`` (KNN
index scan, exact ellipsoidal order, cursor = (distance, id)), in any other order from
``catalogue.search`` (a keyset page over the filtered table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.catalogue import search
from ambrogio.catalogue import text as text_search
from ambrogio.catalogue.filters import service_conditions
from ambrogio.catalogue.pagination import decode_cursor, encode_cursor, page_size
from ambrogio.catalogue.text import TextQuery
from ambrogio.catalogue.visibility import Condition, Stmt
from ambrogio.context import Context
from ambrogio.errors import BadUserInput
from ambrogio.geo.nearby import (
    DistanceKey,
    NearbySearch,
    Query,
    nearby_providers_query,
    nearby_services_query,
    nearby_welfare_points_query,
    run_nearby,
)
from ambrogio.geo.point import LatLon, checked_radius
from ambrogio.geo.reach import reaches
from ambrogio.resolvers.filters import filter_spec
from ambrogio.schema.types.catalogue import Provider
from ambrogio.schema.types.catalogue import Service as ServiceNode
from ambrogio.schema.types.inputs import LatLonInput, ServiceFilter, ServiceOrder
from ambrogio.schema.types.node import Connection, build_connection
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


async def _search(
    info: Info,
    kind: search.Kind,
    args: Args,
    where: Callable[[AsyncSession], Any],
    nearby: Callable[[NearbySearch, Sequence[Condition], int], Stmt | Query],
    to_node: Callable[[Any], N],
) -> Connection[N]:
    context = info.context
    async with context.sessionmaker() as session:
        conditions: list[Condition] = list(await where(session))
        if args.text is not None:
            assert kind.matches is not None
            await _require_words(session, args.text)
            conditions.append(kind.matches(args.text, args.radius_m is not None))
        after = decode_cursor(args.after, search.CURSOR_KEYS[args.order])
        if args.order is ServiceOrder.DISTANCE:
            assert args.point is not None
            point, radius = args.point, args.radius_m
            nearby_search = NearbySearch(
                point, radius, DistanceKey(after[1], after[2]) if after else None, args.limit
            )
            keys = await run_nearby(
                session, lambda m: nearby(nearby_search, conditions, m), nearby_search
            )
            found = {
                row.id: row
                for row in (await session.scalars(search.by_ids(kind, [k.id for k in keys])))
            }
            rows = [found[key.id] for key in keys]
            cursors = [encode_cursor(["distance", key.distance, key.id]) for key in keys]
            distances: list[float | None] = [key.distance for key in keys]

            def count_stmt() -> Stmt:
                # Built only when `totalCount` is selected.
                return search.nearby_count(kind, conditions, point, radius)

        else:
            page = search.keyset_search(
                kind,
                conditions,
                args.point,
                args.radius_m,
                args.text,
                args.order,
                after[1:] if after else None,
                args.limit,
            )
            result = (await session.execute(page.stmt)).all()
            rows = [row[0] for row in result]
            cursors, distances = page.cursors(result), page.distances(result)

            def count_stmt() -> Stmt:
                return page.count

    async def count() -> int:
        async with context.sessionmaker() as session:
            return int((await session.execute(search.counted(count_stmt()))).scalar_one())

    return build_connection(
        [to_node(row) for row in rows],
        cursors,
        limit=args.limit,
        after=args.after,
        count=count,
        distances=distances,
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
        info, search.SERVICES, args, where, nearby_services_query, ServiceNode.from_row
    )


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
        if filter is None:
            return []
        return search.provider_conditions(await filter_spec(session, filter))

    return await _search(
        info, search.PROVIDERS, args, where, nearby_providers_query, Provider.from_row
    )


async def welfare_points(
    info: Info,
    near: LatLonInput | None,
    radius_m: float | None,
    first: int | None,
    after: str | None,
) -> Connection[WelfarePointNode]:
    args = _args(info, near, radius_m, None, None, first, after)

    async def where(session: AsyncSession) -> list[Condition]:
        return []

    def nearby(asked: NearbySearch, _: Sequence[Condition], m: int) -> Query:
        return nearby_welfare_points_query(asked, m)

    return await _search(
        info, search.WELFARE_POINTS, args, where, nearby, WelfarePointNode.from_row
    )


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
