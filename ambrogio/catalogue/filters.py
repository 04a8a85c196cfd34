"""``ServiceFilter`` as SQL: one small function per clause, all on the ``service`` table.

Within a list any value matches; across fields all must hold. Array columns use ``&&`` on
their GIN indexes; prices and locations are ``EXISTS`` on indexed child tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import cast
from sqlalchemy.types import String, Text

from ambrogio.catalogue.visibility import PUBLISHED, Stmt
from ambrogio.db.models import (
    Comune,
    CostOption,
    Location,
    Service,
    ServiceAtLocation,
    ServiceCategory,
    Slot,
    TaxonomyTerm,
)
from ambrogio.hours.open_at import location_open_at


@dataclass(frozen=True)
class PriceRange:
    min: float | None = None
    max: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class ServiceFilterSpec:
    """A validated ``ServiceFilter``; ``category_ids`` already include sub-categories."""

    category_ids: Sequence[uuid.UUID] | None = None
    target_groups: Sequence[str] | None = None
    age: int | None = None
    welfare_eligible: bool | None = None
    tuir_categories: Sequence[str] | None = None
    price: PriceRange | None = None
    languages: Sequence[str] | None = None
    wheelchair_accessible: bool | None = None
    delivery: Sequence[str] | None = None
    comuni: Sequence[str] | None = None
    modified_after: datetime | None = None
    # An aware instant inside the open-interval window (checked by ``resolve_filter``).
    open_at: datetime | None = None
    free_between: tuple[datetime, datetime] | None = None


def descendant_terms(slugs: Sequence[str]) -> Stmt:
    """(slug asked, term id) for every term under each slug, the term itself included."""
    tree = (
        select(TaxonomyTerm.slug.label("root"), TaxonomyTerm.id)
        .where(TaxonomyTerm.slug.in_(slugs))
        .cte("tree", recursive=True)
    )
    tree = tree.union_all(
        select(tree.c.root, TaxonomyTerm.id).join(tree, TaxonomyTerm.parent_id == tree.c.id)
    )
    return select(tree.c.root, tree.c.id)


def descendants_of(term_id: uuid.UUID) -> Select[uuid.UUID]:
    """The ids of a published term and of every published term under it."""
    tree = (
        select(TaxonomyTerm.id)
        .where(TaxonomyTerm.id == term_id, TaxonomyTerm.status == PUBLISHED)
        .cte("subtree", recursive=True)
    )
    tree = tree.union_all(
        select(TaxonomyTerm.id)
        .join(tree, TaxonomyTerm.parent_id == tree.c.id)
        .where(TaxonomyTerm.status == PUBLISHED)
    )
    return select(tree.c.id)


def known_comuni(codes: Sequence[str]) -> Select[str]:
    """The ISTAT codes among ``codes`` that the gazetteer holds."""
    return select(Comune.istat_code).where(Comune.istat_code.in_(codes))


def _text_array(values: Sequence[str]) -> Any:
    return cast(literal(list(values), ARRAY(Text)), ARRAY(Text))


def by_categories(ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    return exists().where(
        ServiceCategory.service_id == Service.id, ServiceCategory.term_id.in_(ids)
    )


def by_age(age: int) -> ColumnElement[bool]:
    return and_(
        or_(Service.min_age.is_(None), Service.min_age <= age),
        or_(Service.max_age.is_(None), Service.max_age >= age),
    )


def by_price(price: PriceRange) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = [CostOption.service_id == Service.id]
    if price.unit is not None:
        clauses.append(CostOption.unit == price.unit)
    if price.min is not None:
        clauses.append(CostOption.amount >= price.min)
    if price.max is not None:
        # A free service costs nothing, whatever its amount column says.
        clauses.append(or_(CostOption.amount <= price.max, CostOption.unit == "free"))
    return exists().where(*clauses)


def _at_a_location(clause: Callable[[Any], ColumnElement[bool]]) -> ColumnElement[bool]:
    # Aliases, correlated to ``service`` only: these filters also run inside statements that
    # already read ``location`` and ``service_at_location`` (nearby search), whose rows they
    # must not be confused with.
    at = aliased(ServiceAtLocation)
    place = aliased(Location)
    return (
        select(literal(1))
        .select_from(at)
        .join(place, place.id == at.location_id)
        .where(at.service_id == Service.id, place.status == PUBLISHED, clause(place))
        .correlate(Service)
        .exists()
    )


def by_wheelchair(accessible: bool) -> ColumnElement[bool]:
    located = _at_a_location(lambda place: place.wheelchair_accessible.is_(True))
    return located if accessible else ~located


def by_comuni(codes: Sequence[str]) -> ColumnElement[bool]:
    """Offered at a location in one of the comuni, or reaching one of them at home."""
    area = cast(literal(list(codes), ARRAY(String(6))), ARRAY(String(6)))
    return or_(
        _at_a_location(lambda place: place.comune_istat.in_(codes)),
        Service.service_area_comuni.op("&&")(area),
    )


def by_open_at(instant: datetime) -> ColumnElement[bool]:
    """Offered at a published location that is open at ``instant``."""
    return _at_a_location(lambda place: location_open_at(instant, place))


def by_modified_after(instant: datetime) -> ColumnElement[bool]:
    """The service, or a published location where it is offered, changed after ``instant``:
    what a client showing the service shows changed. (Archives and deletions are in the change
    feed, ``catalogue.changes``.)"""
    return or_(
        Service.updated_at > instant, _at_a_location(lambda place: place.updated_at > instant)
    )


def by_free_slot(start: datetime, end: datetime) -> ColumnElement[bool]:
    """An open, future slot with a free seat inside [start, end) (GiST index on ``during``)."""
    return (
        exists()
        .where(
            Slot.service_id == Service.id,
            Slot.status == "open",
            Slot.taken < Slot.capacity,
            Slot.starts_at > func.now(),
            Slot.during.op("<@")(func.tstzrange(start, end)),
        )
        .correlate(Service)
    )


def service_conditions(spec: ServiceFilterSpec) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if spec.category_ids is not None:
        clauses.append(by_categories(spec.category_ids))
    if spec.target_groups:
        clauses.append(Service.target_groups.op("&&")(_text_array(spec.target_groups)))
    if spec.age is not None:
        clauses.append(by_age(spec.age))
    if spec.welfare_eligible is not None:
        clauses.append(Service.welfare_eligible.is_(spec.welfare_eligible))
    if spec.tuir_categories:
        clauses.append(Service.tuir_category.in_(spec.tuir_categories))
    if spec.price is not None:
        clauses.append(by_price(spec.price))
    if spec.languages:
        clauses.append(Service.languages.op("&&")(_text_array(spec.languages)))
    if spec.wheelchair_accessible is not None:
        clauses.append(by_wheelchair(spec.wheelchair_accessible))
    if spec.delivery:
        clauses.append(Service.delivery.op("&&")(_text_array(spec.delivery)))
    if spec.comuni:
        clauses.append(by_comuni(spec.comuni))
    if spec.modified_after is not None:
        clauses.append(by_modified_after(spec.modified_after))
    if spec.open_at is not None:
        clauses.append(by_open_at(spec.open_at))
    if spec.free_between is not None:
        clauses.append(by_free_slot(*spec.free_between))
    return clauses or [true()]
