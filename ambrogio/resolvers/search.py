"""``providers``, ``services`` and ``welfarePoints``: near a point, filtered, ordered, paged.

Ordered by distance, a page comes from ``geo.nearby`` (KNN index scan, exact ellipsoidal
order, cursor = (distance, id)). Ordered by name or last update, it is a keyset page over the
filtered table; with ``near`` each edge still carries its distance and ``radiusMeters`` applies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import strawberry
from sqlalchemy import ColumnElement, exists, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ambrogio.catalogue import text as text_search
from ambrogio.catalogue.filters import service_conditions
from ambrogio.catalogue.pagination import (
    decode_cursor,
    encode_cursor,
    float_key,
    instant_key,
    order_tag,
    page_size,
    text_key,
    uuid_key,
)
from ambrogio.catalogue.text import TextQuery
from ambrogio.catalogue.visibility import PUBLISHED, Stmt, provider_visible, service_visible
from ambrogio.context import Context
from ambrogio.db.models import Location, Organization, Service, ServiceAtLocation, WelfarePoint
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
from ambrogio.geo.point import LatLon, checked_radius, geography
from ambrogio.geo.reach import reaches
from ambrogio.hours.open_at import provider_open_at
from ambrogio.resolvers.filters import filter_spec
from ambrogio.schema.types.inputs import LatLonInput, ServiceFilter, ServiceOrder
from ambrogio.schema.types.node import Connection, build_connection
from ambrogio.schema.types.provider import Provider
from ambrogio.schema.types.service import Service as ServiceNode
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


@dataclass(frozen=True)
class Kind:
    """What differs between providers, services and welfare points."""

    model: Any
    visible: Callable[[], list[ColumnElement[bool]]]
    distance: Callable[[LatLon], ColumnElement[float]]
    within: Callable[[LatLon, float], ColumnElement[bool]]
    matches: Callable[[TextQuery], ColumnElement[bool]] | None = None
    relevance: Callable[[TextQuery], ColumnElement[float]] | None = None


def _nearest_location(
    owner_column: Callable[[Any], ColumnElement[bool]],
) -> Callable[[LatLon], ColumnElement[float]]:
    def distance(point: LatLon) -> ColumnElement[float]:
        near = aliased(Location)
        return (
            select(func.min(func.ST_Distance(geography(near.geom), point.geography())))
            .where(owner_column(near), near.status == PUBLISHED, near.geom.is_not(None))
            .scalar_subquery()
        )

    return distance


def _located_within(
    ids_of: Callable[[Any], Any],
) -> Callable[[LatLon, float], ColumnElement[bool]]:
    """Owns a published location within the radius: an uncorrelated ``IN`` over the locations
    the geography index finds, computed once per statement rather than once per row."""

    def within(point: LatLon, radius: float) -> ColumnElement[bool]:
        near = aliased(Location)
        located = select(near.id).where(
            near.status == PUBLISHED,
            func.ST_DWithin(geography(near.geom), point.geography(), literal(radius)),
        )
        return ids_of(located)  # type: ignore[no-any-return]

    return within


def _services_at(located: Any) -> ColumnElement[bool]:
    at = aliased(ServiceAtLocation)
    return Service.id.in_(
        select(at.service_id).where(at.location_id.in_(located.correlate(None))).correlate(None)
    )


def _providers_at(located: Any) -> ColumnElement[bool]:
    place = aliased(Location)
    return Organization.id.in_(
        select(place.organization_id).where(place.id.in_(located.correlate(None))).correlate(None)
    )


def _service_owner(near: Any) -> ColumnElement[bool]:
    # Two levels below the query on ``service``: only explicit correlation reaches it (auto
    # correlation looks one level up and would make this "any service at the location").
    return (
        exists()
        .where(ServiceAtLocation.service_id == Service.id, ServiceAtLocation.location_id == near.id)
        .correlate(Service, near)
    )


def _provider_owner(near: Any) -> ColumnElement[bool]:
    owned: ColumnElement[bool] = near.organization_id == Organization.id
    return owned


def _point_distance(point: LatLon) -> ColumnElement[float]:
    return func.ST_Distance(geography(WelfarePoint.geom), point.geography())


def _point_within(point: LatLon, radius: float) -> ColumnElement[bool]:
    return func.ST_DWithin(geography(WelfarePoint.geom), point.geography(), literal(radius))


SERVICES = Kind(
    Service,
    lambda: [service_visible()],
    _nearest_location(_service_owner),
    _located_within(_services_at),
    text_search.service_matches,
    text_search.service_relevance,
)
PROVIDERS = Kind(
    Organization,
    lambda: [provider_visible()],
    _nearest_location(_provider_owner),
    _located_within(_providers_at),
    text_search.provider_matches,
    text_search.provider_relevance,
)
WELFARE_POINTS = Kind(
    WelfarePoint, lambda: [WelfarePoint.status == PUBLISHED], _point_distance, _point_within
)


async def _keyset_page(
    session: AsyncSession, kind: Kind, where: Sequence[ColumnElement[bool]], args: Args
) -> tuple[list[Any], list[str], list[float | None], Stmt]:
    model = kind.model
    stmt = select(model).where(*kind.visible(), *where)
    distance = kind.distance(args.point) if args.point is not None else None
    if args.point is not None and args.radius_m is not None:
        stmt = stmt.where(kind.within(args.point, args.radius_m))
    elif distance is not None and args.order is ServiceOrder.RELEVANCE:
        stmt = stmt.where(distance.is_not(None))  # the blend needs a distance
    count_stmt = stmt
    if distance is not None:
        stmt = stmt.add_columns(distance.label("d"))
    score: ColumnElement[float] | None = None
    if args.order is ServiceOrder.NAME:
        after = decode_cursor(args.after, (order_tag("name"), text_key, uuid_key))
        if after is not None:
            stmt = stmt.where(tuple_(model.name, model.id) > tuple_(after[1], after[2]))
        stmt = stmt.order_by(model.name, model.id)
    elif args.order is ServiceOrder.UPDATED_AT:
        after = decode_cursor(args.after, (order_tag("updated"), instant_key, uuid_key))
        if after is not None:
            stmt = stmt.where(tuple_(model.updated_at, model.id) < tuple_(after[1], after[2]))
        stmt = stmt.order_by(model.updated_at.desc(), model.id.desc())
    else:
        assert args.text is not None and kind.relevance is not None
        score = kind.relevance(args.text)
        if distance is not None:
            score = text_search.blended(score, distance)
        ranked = stmt.add_columns(score.label("score")).subquery()
        stmt = select(aliased(model, ranked), *[c for c in ranked.c if c.name in ("d", "score")])
        score = ranked.c.score
        after = decode_cursor(args.after, (order_tag("relevance"), float_key, uuid_key))
        if after is not None:
            stmt = stmt.where(tuple_(score, ranked.c.id) < tuple_(after[1], after[2]))
        stmt = stmt.order_by(score.desc(), ranked.c.id.desc())
    result = (await session.execute(stmt.limit(args.limit + 1))).all()
    rows = [row[0] for row in result]
    distances = [
        float(row.d) if distance is not None and row.d is not None else None for row in result
    ]
    if args.order is ServiceOrder.NAME:
        cursors = [encode_cursor(["name", row.name, row.id]) for row in rows]
    elif args.order is ServiceOrder.UPDATED_AT:
        cursors = [encode_cursor(["updated", row.updated_at.isoformat(), row.id]) for row in rows]
    else:
        cursors = [encode_cursor(["relevance", float(r.score), r[0].id]) for r in result]
    return rows, cursors, distances, count_stmt


async def _search(
    info: Info,
    kind: Kind,
    args: Args,
    where: Callable[[AsyncSession], Any],
    nearby: Callable[[NearbySearch, Sequence[ColumnElement[bool]], int], Stmt | Query],
    to_node: Callable[[Any], N],
) -> Connection[N]:
    context = info.context
    async with context.sessionmaker() as session:
        conditions: list[ColumnElement[bool]] = list(await where(session))
        if args.text is not None:
            assert kind.matches is not None
            await _require_words(session, args.text)
            conditions.append(kind.matches(args.text))
        if args.order is ServiceOrder.DISTANCE:
            assert args.point is not None
            after = decode_cursor(args.after, (order_tag("distance"), float_key, uuid_key))
            search = NearbySearch(
                args.point,
                args.radius_m,
                DistanceKey(after[1], after[2]) if after else None,
                args.limit,
            )
            keys = await run_nearby(session, lambda m: nearby(search, conditions, m), search)
            found = {
                row.id: row
                for row in (
                    await session.scalars(
                        select(kind.model).where(kind.model.id.in_([k.id for k in keys]))
                    )
                ).all()
            }
            rows = [found[key.id] for key in keys]
            cursors = [encode_cursor(["distance", key.distance, key.id]) for key in keys]
            distances: list[float | None] = [key.distance for key in keys]
            point, radius = args.point, args.radius_m

            def count_stmt() -> Stmt:
                # Built only when `totalCount` is selected.
                located = (
                    kind.within(point, radius)
                    if radius is not None
                    else kind.distance(point).is_not(None)
                )
                return select(kind.model).where(*kind.visible(), *conditions, located)

        else:
            rows, cursors, distances, keyset_count = await _keyset_page(
                session, kind, conditions, args
            )

            def count_stmt() -> Stmt:
                return keyset_count

    async def count() -> int:
        counted = select(func.count()).select_from(count_stmt().subquery())
        async with context.sessionmaker() as session:
            return int((await session.execute(counted)).scalar_one())

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

    async def where(session: AsyncSession) -> list[ColumnElement[bool]]:
        return service_conditions(await filter_spec(session, filter))

    return await _search(info, SERVICES, args, where, nearby_services_query, ServiceNode.from_row)


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

    async def where(session: AsyncSession) -> list[ColumnElement[bool]]:
        if filter is None:
            return []
        spec = await filter_spec(session, filter)
        # `openAt` is about the provider's own locations, the rest about its services.
        matching = service_conditions(replace(spec, open_at=None))
        clauses: list[ColumnElement[bool]] = [
            exists().where(
                Service.organization_id == Organization.id,
                Service.status == PUBLISHED,
                *matching,
            )
        ]
        if spec.open_at is not None:
            clauses.append(provider_open_at(spec.open_at))
        return clauses

    return await _search(info, PROVIDERS, args, where, nearby_providers_query, Provider.from_row)


async def welfare_points(
    info: Info,
    near: LatLonInput | None,
    radius_m: float | None,
    first: int | None,
    after: str | None,
) -> Connection[WelfarePointNode]:
    args = _args(info, near, radius_m, None, None, first, after)

    async def where(session: AsyncSession) -> list[ColumnElement[bool]]:
        return []

    def nearby(search: NearbySearch, _: Sequence[ColumnElement[bool]], m: int) -> Query:
        return nearby_welfare_points_query(search, m)

    return await _search(info, WELFARE_POINTS, args, where, nearby, WelfarePointNode.from_row)


async def services_reaching(
    info: Info,
    point: LatLonInput,
    filter: ServiceFilter | None,
    first: int | None,
    after: str | None,
) -> Connection[ServiceNode]:
    home = LatLon.checked(point.lat, point.lon, "point")
    args = Args(None, None, None, ServiceOrder.NAME, page_size(first, info.context.settings), after)

    async def where(session: AsyncSession) -> list[ColumnElement[bool]]:
        return [reaches(home), *service_conditions(await filter_spec(session, filter))]

    return await _search(info, SERVICES, args, where, nearby_services_query, ServiceNode.from_row)


async def service_search_conditions(
    session: AsyncSession,
    near: LatLonInput | None,
    radius_m: float | None,
    text: str | None,
    filter: ServiceFilter | None,
) -> list[ColumnElement[bool]]:
    """What a service must satisfy to be in a search (facets and GeoJSON use the same set as
    ``services``): visible, filtered, matching the text, within the radius of ``near`` (or,
    with ``near`` alone, located somewhere)."""
    point, radius = checked_near(near, radius_m)
    conditions = [*SERVICES.visible(), *service_conditions(await filter_spec(session, filter))]
    query = _text(text)
    if query is not None:
        await _require_words(session, query)
        conditions.append(text_search.service_matches(query))
    if point is not None:
        conditions.append(
            SERVICES.within(point, radius)
            if radius is not None
            else SERVICES.distance(point).is_not(None)
        )
    return conditions
