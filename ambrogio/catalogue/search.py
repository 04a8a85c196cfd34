"""The statements of ``providers``, ``services`` and ``welfarePoints`` in every order but
distance (which ``geo.nearby`` answers with the KNN index), and what all orders share: which
rows are visible, located within a radius, matching a filter or a text.

Ordered by name, last update or relevance, a page is a keyset page over the filtered table;
with a point each row still carries its distance (``geo.distance``) and the radius applies.
Builders here return statements and do no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import aliased

from ambrogio.catalogue import text as text_search
from ambrogio.catalogue.filters import ServiceFilterSpec, service_conditions
from ambrogio.catalogue.pagination import (
    encode_cursor,
    float_key,
    instant_key,
    keyset_page,
    order_tag,
    text_key,
    uuid_key,
)
from ambrogio.catalogue.text import Bound, TextQuery
from ambrogio.catalogue.visibility import PUBLISHED, Stmt, provider_visible, service_visible
from ambrogio.db.models import (
    Location,
    Organization,
    SearchLexemeBound,
    Service,
    ServiceAtLocation,
    WelfarePoint,
)
from ambrogio.enums import SearchOrder
from ambrogio.geo import planar
from ambrogio.geo.distance import provider_distance, service_distance
from ambrogio.geo.point import LatLon, geography
from ambrogio.hours.open_at import provider_open_at

# A condition on the id of a provider or a service (``Kind.within``).
Among = Callable[[Any], ColumnElement[bool]]


@dataclass(frozen=True)
class Kind:
    """What differs between providers, services and welfare points."""

    model: Any
    visible: Callable[[], list[ColumnElement[bool]]]
    distance: Callable[[LatLon], ColumnElement[float]]
    # Within a radius; only the owners (ids) that ``Among`` accepts, when given.
    within: Callable[[LatLon, float, Among | None], ColumnElement[bool]]
    # The text's condition on an id column (the model's by default); ``probed`` within a
    # radius (see ``catalogue.text``).
    matches: Callable[[TextQuery, bool, Any], ColumnElement[bool]] | None = None
    relevance: Callable[[TextQuery], ColumnElement[float]] | None = None
    # What a statement ordered by relevance joins for ``relevance`` to read.
    ranked_with: Callable[[Stmt], Stmt] = lambda stmt: stmt
    # (id, d) of the rows within a radius (as ``within``), ``d`` their distance.
    nearest: Callable[[LatLon, float, Among | None], Subquery] | None = None
    # (id, score), or (id, d, score) from ``nearest``'s, of the rows matching a text.
    scored: Callable[[TextQuery, Subquery | None, bool], Subquery] | None = None
    # The text's condition on one owner id, probed by id (``text.provider_probe``).
    probe: Callable[[TextQuery, Any], ColumnElement[bool]] | None = None
    # The ``SearchLexemeBound`` column of the kind's documents, and what makes of it the
    # most a match's relevance can be (``text.words_bound``).
    bound: tuple[Any, Callable[[int, bool, float | None], Bound]] | None = None


@dataclass(frozen=True)
class Places:
    """The published locations of providers or services: ``located`` selects the ``owner``
    (a provider's or a service's id, labelled ``id``) of each ``place``."""

    place: Any
    owner: Any
    located: Stmt


def _provider_places() -> Places:
    near = aliased(Location)
    return Places(near, near.organization_id, select(near.organization_id.label("id")))


def _service_places() -> Places:
    near, at = aliased(Location), aliased(ServiceAtLocation)
    located = select(at.service_id.label("id")).join(near, near.id == at.location_id)
    return Places(near, at.service_id, located)


def _located(places: Places, point: LatLon, radius: float, among: Among | None) -> Stmt:
    """The places within the radius, found by the planar (or geography) index; ``among``
    tests their owners' ids there, before any row of the owners is read."""
    place = places.place
    located = places.located.where(place.status == PUBLISHED, planar.within(place, point, radius))
    return located if among is None else located.where(among(places.owner))


def _owners_within(
    model: Any, places: Callable[[], Places]
) -> Callable[[LatLon, float, Among | None], ColumnElement[bool]]:
    """Has a published location within the radius: an uncorrelated ``IN``, computed once per
    statement rather than once per row."""

    def within(point: LatLon, radius: float, among: Among | None) -> ColumnElement[bool]:
        return model.id.in_(_located(places(), point, radius, among))  # type: ignore[no-any-return]

    return within


def _nearest(
    places: Callable[[], Places],
) -> Callable[[LatLon, float, Among | None], Subquery]:
    """The owners within the radius with their distance, the least of their located places'
    (``geo.distance``'s, since every place beyond the radius is farther), measured on the
    places the index found: once per place, and no second look-up per owner."""

    def nearest(point: LatLon, radius: float, among: Among | None) -> Subquery:
        found = places()
        distance = func.ST_Distance(geography(found.place.geom), point.geography())
        located = _located(found, point, radius, among)
        return located.add_columns(func.min(distance).label("d")).group_by(found.owner).subquery()

    return nearest


def _point_distance(point: LatLon) -> ColumnElement[float]:
    return func.ST_Distance(geography(WelfarePoint.geom), point.geography())


def _point_within(point: LatLon, radius: float, among: Among | None) -> ColumnElement[bool]:
    assert among is None, "welfare points are not searched by text"
    return func.ST_DWithin(geography(WelfarePoint.geom), point.geography(), literal(radius))


SERVICES = Kind(
    Service,
    lambda: [service_visible()],
    lambda point: service_distance(point.geography()),
    _owners_within(Service, _service_places),
    text_search.service_matches,
    text_search.service_relevance,
    nearest=_nearest(_service_places),
    scored=text_search.scored_services,
    probe=text_search.service_probe,
    bound=(SearchLexemeBound.service, text_search.service_bound),
)
PROVIDERS = Kind(
    Organization,
    lambda: [provider_visible()],
    lambda point: provider_distance(point.geography()),
    _owners_within(Organization, _provider_places),
    text_search.provider_matches,
    text_search.provider_relevance,
    text_search.with_provider_document,
    _nearest(_provider_places),
    text_search.scored_providers,
    text_search.provider_probe,
    (SearchLexemeBound.provider, text_search.provider_bound),
)
WELFARE_POINTS = Kind(
    WelfarePoint, lambda: [WelfarePoint.status == PUBLISHED], _point_distance, _point_within
)


def located(kind: Kind, point: LatLon, radius: float | None) -> ColumnElement[bool]:
    """Within the radius of the point, or, without a radius, located somewhere."""
    if radius is not None:
        return kind.within(point, radius, None)
    return kind.distance(point).is_not(None)


def matching(
    kind: Kind, text: TextQuery | None, point: LatLon | None, radius: float | None
) -> list[ColumnElement[bool]]:
    """The text's condition and the radius's (when given), together: within a radius, the
    text tests the ids the located set holds (``Kind.within``'s ``among``), so that rows are
    read only for what both accept."""
    if point is not None and radius is not None:
        among = None if text is None else _text_among(kind, text)
        return [kind.within(point, radius, among)]
    if text is None:
        return []
    assert kind.matches is not None
    return [kind.matches(text, False, None)]


def _text_among(kind: Kind, text: TextQuery) -> Among:
    assert kind.matches is not None
    matches = kind.matches
    return lambda column: matches(text, True, column)


def _probe(kind: Kind, text: TextQuery) -> Among:
    assert kind.probe is not None
    probe = kind.probe
    return lambda column: probe(text, column)


def provider_conditions(spec: ServiceFilterSpec) -> list[ColumnElement[bool]]:
    """A provider matches a filter when one of its published services does; ``openAt`` is
    about the provider's own locations, ``modifiedAfter`` about the provider as a whole."""
    clauses: list[ColumnElement[bool]] = [
        exists().where(
            Service.organization_id == Organization.id,
            Service.status == PUBLISHED,
            *service_conditions(replace(spec, open_at=None, modified_after=None)),
        )
    ]
    if spec.open_at is not None:
        clauses.append(provider_open_at(spec.open_at))
    if spec.modified_after is not None:
        clauses.append(provider_modified_after(spec.modified_after))
    return clauses


def provider_modified_after(instant: datetime) -> ColumnElement[bool]:
    """The provider, one of its published locations or one of its published services changed
    after ``instant``."""
    place, offer = aliased(Location), aliased(Service)
    return or_(
        Organization.updated_at > instant,
        exists().where(
            place.organization_id == Organization.id,
            place.status == PUBLISHED,
            place.updated_at > instant,
        ),
        exists().where(
            offer.organization_id == Organization.id,
            offer.status == PUBLISHED,
            offer.updated_at > instant,
        ),
    )


def service_search(
    spec: ServiceFilterSpec, text: TextQuery | None, point: LatLon | None, radius: float | None
) -> list[ColumnElement[bool]]:
    """What a service must satisfy to be in a search (facets and GeoJSON use the same set as
    ``services``): visible, filtered, matching the text, within the radius of the point (or,
    with a point alone, located somewhere)."""
    conditions = [*SERVICES.visible(), *service_conditions(spec)]
    conditions += matching(SERVICES, text, point, radius)
    if point is not None and radius is None:
        conditions.append(located(SERVICES, point, None))
    return conditions


# The cursor of each order: a tag naming the order, then its key values.
CURSOR_KEYS: dict[SearchOrder, tuple[Callable[[Any], Any], ...]] = {
    SearchOrder.DISTANCE: (order_tag("distance"), float_key, uuid_key),
    SearchOrder.NAME: (order_tag("name"), text_key, uuid_key),
    SearchOrder.UPDATED_AT: (order_tag("updated"), instant_key, uuid_key),
    SearchOrder.RELEVANCE: (order_tag("relevance"), float_key, uuid_key),
}


@dataclass(frozen=True)
class KeysetSearch:
    """A page statement (rows, then ``d`` when a point is given, ``score`` by relevance), the
    statement ``totalCount`` counts, and the order that reads its cursors."""

    stmt: Stmt
    count: Stmt
    order: SearchOrder
    with_distance: bool

    def distances(self, result: Sequence[Any]) -> list[float | None]:
        if not self.with_distance:
            return [None] * len(result)
        return [float(row.d) if row.d is not None else None for row in result]

    def cursors(self, result: Sequence[Any]) -> list[str]:
        if self.order is SearchOrder.NAME:
            return [encode_cursor(["name", row[0].name, row[0].id]) for row in result]
        if self.order is SearchOrder.UPDATED_AT:
            return [
                encode_cursor(["updated", row[0].updated_at.isoformat(), row[0].id])
                for row in result
            ]
        return [encode_cursor(["relevance", float(row.score), row[0].id]) for row in result]


def keyset_search(
    kind: Kind,
    where: Sequence[ColumnElement[bool]],
    point: LatLon | None,
    radius: float | None,
    text: TextQuery | None,
    order: SearchOrder,
    after: Sequence[Any] | None,
    limit: int,
    probed: bool = False,
) -> KeysetSearch:
    """A page by name, last update or relevance, of the rows matching ``where``, the text
    and the radius; ``after`` holds the cursor's key values (without its order tag).
    ``probed``: ranked within a radius, the text is tested on each row within it (for a small
    radius) rather than matched first (``text.scored_providers``)."""
    model = kind.model
    filtered = select(model).where(*kind.visible(), *where)
    stmt = filtered.where(*matching(kind, text, point, radius))
    distance = kind.distance(point) if point is not None else None
    if distance is not None and radius is None and order is SearchOrder.RELEVANCE:
        stmt = stmt.where(distance.is_not(None))  # the blend needs a distance
    count = stmt
    # Ranked anywhere or within a radius (a point alone keeps the plain statement below).
    scoring = order is SearchOrder.RELEVANCE and (point is None or radius is not None)
    if scoring and kind.scored is not None and text is not None:
        page = _ranked_page(kind, filtered, text, point, radius, after, limit, probed)
        return KeysetSearch(page, count, order, point is not None)
    nearest = kind.nearest if order is SearchOrder.RELEVANCE else None
    if nearest is not None and point is not None and radius is not None and text is not None:
        # Ranked within a radius, every match needs its distance: from the places found.
        near = nearest(point, radius, _text_among(kind, text))
        stmt, distance = filtered.join(near, near.c.id == model.id), near.c.d
    if distance is not None:
        stmt = stmt.add_columns(distance.label("d"))
    if order is SearchOrder.NAME:
        page = keyset_page(stmt, [model.name, model.id], after, limit)
    elif order is SearchOrder.UPDATED_AT:
        page = keyset_page(stmt, [model.updated_at, model.id], after, limit, descending=True)
    else:
        assert text is not None and kind.relevance is not None
        score = kind.relevance(text)
        if distance is not None:
            score = text_search.blended(score, distance)
        ranked = kind.ranked_with(stmt).add_columns(score.label("score")).subquery()
        columns = [column for column in ranked.c if column.name in ("d", "score")]
        page = keyset_page(
            select(aliased(model, ranked), *columns),
            [ranked.c.score, ranked.c.id],
            after,
            limit,
            descending=True,
        )
    return KeysetSearch(page, count, order, distance is not None)


def _ranked_page(
    kind: Kind,
    filtered: Stmt,
    text: TextQuery,
    point: LatLon | None,
    radius: float | None,
    after: Sequence[Any] | None,
    limit: int,
    probed: bool,
) -> Stmt:
    """A page by relevance: the matches scored first (``Kind.scored``; within a radius,
    from the places found with their distances), then the visible and filtered rows read in
    score order until the page is full. Every match is scored, but only the rows of the best
    ones are read and tested: the page orders by the scored ids, so the sort comes before
    the join."""
    assert kind.scored is not None
    near = None
    if point is not None and radius is not None:
        assert kind.nearest is not None
        near = kind.nearest(
            point, radius, _probe(kind, text) if probed else _text_among(kind, text)
        )
    found = kind.scored(text, near, probed)
    key = [found.c.score, found.c.id]
    ranked = select(found)
    if after is not None:
        ranked = ranked.where(tuple_(*key) < tuple_(*after))
    # OFFSET 0 keeps the subquery whole, sorted as it is: the page then reads the rows of
    # the best matches, in that order, and stops when it is full.
    ordered = ranked.order_by(*(column.desc() for column in key)).offset(literal_column("0"))
    scored = ordered.subquery()
    columns = [column for column in scored.c if column.name in ("d", "score")]
    stmt = filtered.add_columns(*columns).join(scored, scored.c.id == kind.model.id)
    return stmt.order_by(scored.c.score.desc(), scored.c.id.desc()).limit(limit + 1)


# Within a radius, a page by relevance is first looked for within these fractions of it; in
# the smallest, each located owner is probed (``text.provider_probe``), fewer rows than the
# text's matches anywhere; in a larger one, the matches are found first, as in the radius.
RING_FRACTIONS = ((1 / 16, True), (1 / 4, False))


def rings(radius: float | None, bound: Bound) -> Sequence[tuple[float | None, bool]]:
    """The radii a page by relevance within ``radius`` is looked for within, whether each is
    probed, the last ``radius`` itself: the smaller ones only when the relevance of a match
    has a bound."""
    if radius is None or bound.relevance is None:
        return [(radius, False)]
    return [(radius * fraction, probed) for fraction, probed in RING_FRACTIONS] + [(radius, False)]


def settled(rows: Sequence[Any], limit: int, radius: float | None, bound: Bound | None) -> bool:
    """Whether the page found within ``radius`` (``limit + 1`` rows asked, by blended score,
    then id, descending) is the page within any larger radius: it is full, and no match beyond
    ``radius`` can score as much as its last row — at a distance ``d`` a match scores at most
    the bound on relevance divided by ``1 + d / BLEND_METRES`` (``Bound.blended``), strictly
    less than at ``radius``, so none of them ranks before the last row or ties it."""
    if radius is None or bound is None or len(rows) <= limit:
        return False
    ceiling = bound.blended(radius)
    return ceiling is not None and float(rows[limit].score) >= ceiling


def by_ids(kind: Kind, ids: Sequence[Any]) -> Stmt:
    return select(kind.model).where(kind.model.id.in_(ids))


def nearby_count(
    kind: Kind, where: Sequence[ColumnElement[bool]], point: LatLon, radius: float | None
) -> Stmt:
    """What ``totalCount`` counts for a page by distance."""
    return select(kind.model).where(*kind.visible(), *where, located(kind, point, radius))


def counted(stmt: Stmt) -> Stmt:
    return select(func.count()).select_from(stmt.order_by(None).limit(None).subquery())
