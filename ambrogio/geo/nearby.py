"""Nearest-first search that keeps a GiST index doing the work and orders by true distance.

Two facts shape it. PostgreSQL walks a GiST index in distance order only for a bare
``ORDER BY column <-> point`` (a tie-break column turns the KNN scan into a full sort), and
the distance such a scan orders by is not the one Ambrogio reports and orders by, the
ellipsoidal ``ST_Distance`` (what ``pyproj.Geod(ellps="WGS84")`` computes): on geography,
``<->`` is a *spherical* distance; on the territory's metric plane (``geo/planar.py``,
``location.geom_utm``, several times cheaper to walk) a *planar* one.

So each search is one statement in three layers:

1. ``candidates``: the ``m`` nearest visible rows by ``<->`` (``s``) — a pure KNN index
   scan, with a floor that skips what earlier pages already returned — each with its exact
   ellipsoidal distance ``d``, computed once per candidate;
2. the ranking: a provider's (or a service's) distance is the least ``d`` of its candidate
   locations, ordered by ``(d, id)`` — the keyset the cursor encodes — after the cursor,
   within the radius; after a cursor, a row with any visible location below the floor is
   left out (that location was skipped, and puts the row on an earlier page);
3. the page's rows joined with the columns their nodes need, and a row of statistics: how
   many candidates there were, ``n``, and the farthest one's ``s``, ``s_max``.

Exactness rests on one bound: a location left out of the candidates is at least ``T`` away
on the ellipsoid, so every row nearer than ``T`` is exact (its distance is its nearest
location's, which is a candidate; nothing nearer is missing). On the sphere, spherical and
ellipsoidal distances differ by less than ``DELTA`` (relative: the Earth's radii of curvature
stay within 0.6% of the sphere's), so ``T = s_max * (1 - DELTA)``, and when ``n < m`` every
row was a candidate. On the plane, ``T = min(s_max / K_MAX, D_MIN)``, or ``D_MIN`` when
``n < m`` (``geo/planar.py`` proves both, and bounds its floor the same way). The caller
(``run_nearby``) widens ``m`` in the rare case the page is not yet proven exact, and turns
to the sphere when the plane cannot prove it (a page reaching ``D_MIN``, 200 km, away).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, partial
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Uuid,
    and_,
    bindparam,
    exists,
    false,
    func,
    inspect,
    join,
    literal,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import CTE, Exists

from ambrogio.catalogue.visibility import PUBLISHED, Stmt, location_visible
from ambrogio.db import prepared
from ambrogio.db.models import Location, Organization, Service, ServiceAtLocation, WelfarePoint
from ambrogio.db.prepared import Prepared
from ambrogio.geo import planar
from ambrogio.geo.point import LatLon, geography, point_geography, point_geometry
from ambrogio.geo.point import knn as knn_distance

DELTA = 0.01


@dataclass(frozen=True)
class DistanceKey:
    """A keyset position: the ellipsoidal distance in metres, then the id."""

    distance: float
    id: uuid.UUID


@dataclass(frozen=True)
class NearbySearch:
    point: LatLon
    radius_m: float | None
    after: DistanceKey | None
    limit: int
    # Candidates by the planar KNN of ``geo/planar.py`` (locations only; ``run_nearby``
    # decides), else by the spherical KNN of geography.
    planar: bool = False


def _geog(column: Any) -> ColumnElement[object]:
    return geography(column)


@dataclass(frozen=True)
class _Terms:
    """The values a nearby statement compares against: literals of one search, or named
    parameters of a statement built once per shape (see ``_bound_terms``)."""

    pt: ColumnElement[object]
    # The point in the plane, when the candidates come from the planar index.
    plane: ColumnElement[object] | None
    radius: ColumnElement[float] | None
    # Distance floor of the candidates after a cursor (sphere or plane, as the candidates;
    # absent when it is not positive).
    floor: ColumnElement[float] | None
    after: tuple[ColumnElement[float], ColumnElement[uuid.UUID]] | None
    limit: ColumnElement[int] | int
    m: ColumnElement[int] | int


def _floor(search: NearbySearch) -> float:
    """A sphere (or plane) distance below this means an ellipsoidal distance below the
    cursor's: those rows were on earlier pages. ST_DWithin includes its bound, so keep a
    centimetre of margin: rows tied with the cursor must stay candidates."""
    if search.after is None:
        return 0.0
    if search.planar:
        return planar.floor(search.after.distance)
    return search.after.distance / (1 + DELTA) - 0.01


def _terms(search: NearbySearch, m: int) -> _Terms:
    after = search.after
    floor = _floor(search)
    pt = search.point.geography()
    return _Terms(
        pt=pt,
        plane=planar.planar_point(search.point.geometry()) if search.planar else None,
        radius=literal(search.radius_m) if search.radius_m is not None else None,
        floor=literal(floor) if floor > 0 else None,
        after=(literal(after.distance), literal(after.id)) if after is not None else None,
        limit=search.limit + 1,
        m=m,
    )


def _candidate_filters(place: Any, terms: _Terms) -> list[ColumnElement[bool]]:
    # The radius is not bounded here: with ST_DWithin the planner may trade the KNN scan for a
    # bitmap scan and a sort when it misjudges how many rows are near. The radius applies to
    # the page, and ``run_nearby`` stops widening once the candidates reach past it.
    # (Filtered searches bound it in ``_location_candidates``.)
    clauses: list[ColumnElement[bool]] = []
    if terms.floor is not None:
        clauses.append(~_below_floor(place, terms))
    return clauses


def _below_floor(place: Any, terms: _Terms) -> ColumnElement[bool]:
    """Nearer than the cursor's floor, as the candidates measure (``place``: a location, or a
    welfare point): on an earlier page."""
    assert terms.floor is not None
    if terms.plane is not None:
        return func.ST_DWithin(place.geom_utm, terms.plane, terms.floor)
    return func.ST_DWithin(_geog(place.geom), terms.pt, terms.floor, false())


def _columns(model: Any, only: Columns | None = None) -> list[ColumnElement[Any]]:
    """The columns a node is built from: the model's, but its id and deferred ones (search
    documents), as loading the model would read them; or those named in ``only``."""
    return [
        column
        for prop in inspect(model).column_attrs
        if not prop.deferred
        for column in prop.columns
        if column.key != "id" and (only is None or column.key in only)
    ]


Columns = tuple[str, ...]
"""Names of a model's columns, for a page that needs only them (besides the id)."""


def _page(
    candidates: Stmt,
    ranked: Callable[[CTE], Stmt],
    terms: _Terms,
    model: Any,
    only: Columns | None = None,
) -> Stmt:
    """Stats of the candidates joined with the page and its rows' columns (a stats row even
    when the page is empty), so that one statement answers the request."""
    cand = candidates.cte("candidates")
    stats = select(func.count().label("n"), func.max(cand.c.s).label("s_max")).cte("stats")
    rows = ranked(cand).subquery("ranked")
    page = select(rows.c.id, rows.c.d)
    if terms.after is not None:
        page = page.where(tuple_(rows.c.d, rows.c.id) > tuple_(*terms.after))
    if terms.radius is not None:
        page = page.where(rows.c.d <= terms.radius)
    page_sub = page.order_by(rows.c.d, rows.c.id).limit(terms.limit).lateral("page")
    return (
        select(stats.c.n, stats.c.s_max, page_sub.c.id, page_sub.c.d, *_columns(model, only))
        .select_from(stats.outerjoin(page_sub, true()).outerjoin(model, model.id == page_sub.c.id))
        .order_by(page_sub.c.d, page_sub.c.id)
    )


def _location_candidates(
    terms: _Terms, where: Sequence[ColumnElement[bool]], filtered: bool
) -> Stmt:
    """The ``m`` nearest visible located locations, each with its exact distance ``d``
    (computed once per candidate).

    With a filter, a KNN walk stops only after ``m`` matching rows: when few or none match,
    it would read the whole index (tens of seconds at a million rows). A filtered search with
    a radius is therefore also bounded by ST_DWithin, on the same geography index; unfiltered
    searches keep the pure KNN scan, which ``LIMIT`` always stops early."""
    geog = _geog(Location.geom)
    bound: list[ColumnElement[bool]] = []
    if terms.plane is not None:
        # A planar point is a located one (geo/planar.py); within the radius means within
        # K_MAX times it on the plane.
        indexed, located = Location.geom_utm, Location.geom_utm.is_not(None)
        knn = knn_distance(indexed, terms.plane)
        if filtered and terms.radius is not None:
            bound.append(func.ST_DWithin(indexed, terms.plane, terms.radius * planar.K_MAX))
    else:
        located = Location.geom.is_not(None)
        knn = knn_distance(geog, terms.pt)
        if filtered and terms.radius is not None:
            bound.append(func.ST_DWithin(geog, terms.pt, terms.radius))
    return (
        select(
            Location.id,
            Location.organization_id,
            knn.label("s"),
            func.ST_Distance(geog, terms.pt).label("d"),
        )
        .where(located, location_visible(), *where, *bound)
        .where(*_candidate_filters(Location, terms))
        .order_by(knn)
        .limit(terms.m)
    )


def _none_below_floor(terms: _Terms, near: Any, located: Exists) -> list[ColumnElement[bool]]:
    """After a cursor, a row with a location ``near`` below the floor (left out of the
    candidates) is nearer than the cursor: it was on an earlier page, whatever its candidates
    say. ``located`` ties ``near`` to the row."""
    if terms.floor is None:
        return []
    return [
        ~located.where(near.status == PUBLISHED, near.geom.is_not(None), _below_floor(near, terms))
    ]


def nearby_services(
    search: NearbySearch, conditions: Sequence[ColumnElement[bool]], m: int
) -> Stmt:
    """Services offered at a location, nearest first; ``conditions`` apply to ``Service``."""
    return _nearby_services(_terms(search, m), conditions)


def _nearby_services(terms: _Terms, conditions: Sequence[ColumnElement[bool]]) -> Stmt:
    matching = and_(Service.status == PUBLISHED, *conditions)
    offers = exists().where(
        ServiceAtLocation.location_id == Location.id,
        Service.id == ServiceAtLocation.service_id,
        matching,
    )
    candidates = _location_candidates(terms, [offers], filtered=bool(conditions))

    def ranked(cand: CTE) -> Stmt:
        at, near = aliased(ServiceAtLocation), aliased(Location)
        offered = (
            exists()
            .select_from(join(at, near, near.id == at.location_id))
            .where(at.service_id == Service.id)
        )
        return (
            select(Service.id.label("id"), func.min(cand.c.d).label("d"))
            .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
            .join(cand, cand.c.id == ServiceAtLocation.location_id)
            .where(matching, *_none_below_floor(terms, near, offered))
            .group_by(Service.id)
        )

    return _page(candidates, ranked, terms, Service)


def nearby_providers(
    search: NearbySearch, conditions: Sequence[ColumnElement[bool]], m: int
) -> Stmt:
    """Providers by their nearest visible location; ``conditions`` apply to ``Organization``
    (e.g. "has a published service that matches the filter")."""
    return _nearby_providers(_terms(search, m), conditions)


def _nearby_providers(
    terms: _Terms, conditions: Sequence[ColumnElement[bool]], only: Columns | None = None
) -> Stmt:
    where: list[ColumnElement[bool]] = []
    if conditions:
        where.append(exists().where(Organization.id == Location.organization_id, *conditions))
    candidates = _location_candidates(terms, where, filtered=bool(conditions))

    def ranked(cand: CTE) -> Stmt:
        # Candidates are visible locations of visible (and matching) providers already.
        near = aliased(Location)
        owned = exists().where(near.organization_id == cand.c.organization_id)
        return (
            select(cand.c.organization_id.label("id"), func.min(cand.c.d).label("d"))
            .where(*_none_below_floor(terms, near, owned))
            .group_by(cand.c.organization_id)
        )

    return _page(candidates, ranked, terms, Organization, only)


Query = tuple[Stmt, Mapping[str, Any]]
"""A statement and the parameters to execute it with."""


Shape = tuple[bool, bool, bool, bool]
"""What a statement built once holds: a radius, a cursor, a cursor floor, the plane."""


def _bound_terms(radius: bool, after: bool, floor: bool, plane: bool) -> _Terms:
    """The terms of one shape as named parameters; ``_bound_values`` gives a search's values."""
    lon, lat = bindparam("near_lon", type_=Float()), bindparam("near_lat", type_=Float())
    return _Terms(
        pt=point_geography(lon, lat),
        plane=planar.planar_point(point_geometry(lon, lat)) if plane else None,
        radius=bindparam("near_radius", type_=Float()) if radius else None,
        floor=bindparam("near_floor", type_=Float()) if floor else None,
        after=(
            (bindparam("after_d", type_=Float()), bindparam("after_id", type_=Uuid()))
            if after
            else None
        ),
        limit=bindparam("page_limit", type_=Integer()),
        m=bindparam("m", type_=Integer()),
    )


def _bound_values(search: NearbySearch, m: int) -> tuple[Shape, dict[str, Any]]:
    """The shape of a search and its values for the parameters of ``_bound_terms``."""
    after = search.after
    floor = _floor(search)
    params: dict[str, Any] = {
        "near_lon": float(search.point.lon),
        "near_lat": float(search.point.lat),
        "page_limit": search.limit + 1,
        "m": m,
    }
    if search.radius_m is not None:
        params["near_radius"] = float(search.radius_m)
    if after is not None:
        params["after_d"] = after.distance
        params["after_id"] = after.id
    if floor > 0:
        params["near_floor"] = floor
    shape = (search.radius_m is not None, after is not None, floor > 0, search.planar)
    return shape, params


@cache
def _unfiltered_providers(*shape: bool, only: Columns | None = None) -> Stmt:
    """The unfiltered providers statement of one shape, with named parameters for its values:
    built and compiled once, where building it anew took longer than running it. ``only``:
    the provider columns the page returns, when its reader needs only them."""
    return _nearby_providers(_bound_terms(*shape), [], only)


def _ready(
    fresh: Callable[[NearbySearch, Sequence[ColumnElement[bool]], int], Stmt],
    unfiltered: Callable[..., Stmt],
    search: NearbySearch,
    conditions: Sequence[ColumnElement[bool]],
    m: int,
) -> Query:
    """A statement ready to execute: with conditions, built for this search (``fresh``);
    without, the statement of its shape built once (``unfiltered``) and this search's values
    as parameters."""
    if conditions:
        return fresh(search, conditions, m), {}
    shape, params = _bound_values(search, m)
    return unfiltered(*shape), params


def nearby_providers_query(
    search: NearbySearch,
    conditions: Sequence[ColumnElement[bool]],
    m: int,
    only: Columns | None = None,
) -> Query:
    """``nearby_providers`` ready to execute (see ``_ready``); without conditions, ``only``
    narrows the page's provider columns to those named (a filtered page has them all)."""
    unfiltered = partial(_unfiltered_providers, only=only) if only is not None else None
    return _ready(nearby_providers, unfiltered or _unfiltered_providers, search, conditions, m)


@cache
def _unfiltered_services(*shape: bool) -> Stmt:
    """The unfiltered services statement of one shape (see ``_unfiltered_providers``)."""
    return _nearby_services(_bound_terms(*shape), [])


def nearby_services_query(
    search: NearbySearch, conditions: Sequence[ColumnElement[bool]], m: int
) -> Query:
    """``nearby_services`` ready to execute (see ``_ready``)."""
    return _ready(nearby_services, _unfiltered_services, search, conditions, m)


def nearby_welfare_points(search: NearbySearch, m: int) -> Stmt:
    """Welfare points, nearest first (on the sphere: they have no planar point)."""
    return _nearby_welfare_points(_terms(replace(search, planar=False), m))


def _nearby_welfare_points(terms: _Terms) -> Stmt:
    assert terms.plane is None
    pt = terms.pt
    geog = _geog(WelfarePoint.geom)
    knn = knn_distance(geog, pt)
    candidates = (
        select(
            WelfarePoint.id,
            knn.label("s"),
            func.ST_Distance(geog, pt).label("d"),
        )
        .where(WelfarePoint.geom.is_not(None), WelfarePoint.status == PUBLISHED)
        .where(*_candidate_filters(WelfarePoint, terms))
        .order_by(knn)
        .limit(terms.m)
    )

    def ranked(cand: CTE) -> Stmt:
        return select(cand.c.id.label("id"), cand.c.d.label("d"))

    return _page(candidates, ranked, terms, WelfarePoint)


@cache
def _welfare_points_statement(*shape: bool) -> Stmt:
    """The welfare points statement of one shape (see ``_unfiltered_providers``)."""
    return _nearby_welfare_points(_bound_terms(*shape))


def nearby_welfare_points_query(search: NearbySearch, m: int) -> Query:
    """``nearby_welfare_points`` ready to execute: the statement of its shape built once, and
    this search's values as parameters."""
    shape, params = _bound_values(replace(search, planar=False), m)
    return _welfare_points_statement(*shape), params


@dataclass(frozen=True)
class Hit:
    """A page row: its keyset position and the row (the columns of its node)."""

    key: DistanceKey
    row: Any


Fetch = Callable[[Query], Awaitable[Sequence[Any]]]
"""Runs a nearby statement and returns its rows (attribute access by column name)."""


def session_fetch(session: AsyncSession) -> Fetch:
    """In the session (a filtered search, whose filter was read in it)."""

    async def fetch(query: Query) -> Sequence[Any]:
        stmt, params = query
        return (await session.execute(stmt, params)).all()

    return fetch


prepared_statement = cache(Prepared.of)


def prepared_fetch(engine: AsyncEngine) -> Fetch:
    """On a pooled connection, with asyncpg, outside a transaction: for the statements built
    once per shape (``*_query`` without conditions), each compiled once."""

    async def fetch(query: Query) -> Sequence[Any]:
        stmt, params = query
        return await prepared.fetch(engine, prepared_statement(stmt), params)

    return fetch


async def run_nearby(
    fetch: Fetch,
    build: Callable[[NearbySearch, int], Stmt | Query],
    search: NearbySearch,
    *,
    on_plane: bool,
) -> list[Hit]:
    """Up to ``limit + 1`` rows in exact ellipsoidal order, widening the KNN candidate set
    until the page is proven exact (see the module docstring). ``on_plane``: ``build`` makes
    location statements, which may take their candidates from the plane (``geo/planar.py``)
    when the search allows it; the sphere proves what the plane cannot."""
    plane = on_plane and planar.applies(
        search.point, search.radius_m, search.after.distance if search.after else None
    )
    want = search.limit + 1
    m = max(4 * want, 64)
    while True:
        query = build(replace(search, planar=plane), m)
        rows = await fetch(query if isinstance(query, tuple) else (query, {}))
        n, s_max = rows[0].n, rows[0].s_max
        hits = [Hit(DistanceKey(float(row.d), row.id), row) for row in rows if row.id is not None]
        complete = n < m
        if plane:
            threshold = planar.threshold(float(s_max or 0.0), complete)
        elif complete:
            return hits  # every row is a candidate
        else:
            threshold = float(s_max) * (1 - DELTA)
        if search.radius_m is not None and threshold > search.radius_m:
            return hits  # every row within the radius is among the candidates
        exact = [hit for hit in hits if hit.key.distance < threshold]
        if len(exact) >= want:
            return exact[:want]
        if len(exact) == search.limit and len(hits) > len(exact):
            # The page is exact and at least one more row exists: that is all we need.
            return [*exact, hits[len(exact)]]
        if complete:
            plane = False  # every planar point was a candidate: the page reaches past them
        else:
            m *= 4
