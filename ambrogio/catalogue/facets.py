"""Facet counts of a search, all in one statement: per category (with its ancestors, so a
root counts the services of its whole subtree), comune, target group and delivery mode.

A service counts once per facet value: in each comune where it has a published location or
that its service area lists, and in each ancestor category once even with several leaves.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Select,
    String,
    cast,
    func,
    literal,
    select,
    union_all,
)

from ambrogio.catalogue.visibility import PUBLISHED, Stmt
from ambrogio.db.models import Location, Service, ServiceAtLocation, ServiceCategory, TaxonomyTerm


def facet_counts(conditions: Sequence[ColumnElement[bool]]) -> Executable:
    """Rows of (facet, key, count); facet is total, category, comune, target_group, delivery."""
    matching = (
        select(Service.id, Service.target_groups, Service.delivery, Service.service_area_comuni)
        .where(*conditions)
        .cte("matching")
    )

    lineage = select(TaxonomyTerm.id.label("term_id"), TaxonomyTerm.id.label("ancestor_id")).cte(
        "lineage", recursive=True
    )
    parent = TaxonomyTerm.__table__.alias("parent_term")
    lineage = lineage.union_all(
        select(lineage.c.term_id, parent.c.parent_id)
        .join(parent, parent.c.id == lineage.c.ancestor_id)
        .where(parent.c.parent_id.is_not(None))
    )

    def facet(name: str, key: Any, count: ColumnElement[Any]) -> Stmt:
        return select(literal(name).label("facet"), cast(key, String).label("key"), count)

    total = facet("total", literal(""), func.count()).select_from(matching)
    categories = (
        facet("category", lineage.c.ancestor_id, func.count(func.distinct(matching.c.id)))
        .select_from(matching)
        .join(ServiceCategory, ServiceCategory.service_id == matching.c.id)
        .join(lineage, lineage.c.term_id == ServiceCategory.term_id)
        .group_by(lineage.c.ancestor_id)
    )
    located = (
        select(matching.c.id, Location.comune_istat.label("code"))
        .join(ServiceAtLocation, ServiceAtLocation.service_id == matching.c.id)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(Location.status == PUBLISHED, Location.comune_istat.is_not(None))
    )
    served = select(matching.c.id, func.unnest(matching.c.service_area_comuni).label("code"))
    places = union_all(located, served).subquery("places")
    comuni = facet("comune", places.c.code, func.count(func.distinct(places.c.id))).group_by(
        places.c.code
    )
    groups = select(matching.c.id, func.unnest(matching.c.target_groups).label("value")).subquery()
    target_groups = facet("target_group", groups.c.value, func.count()).group_by(groups.c.value)
    modes = select(matching.c.id, func.unnest(matching.c.delivery).label("value")).subquery()
    delivery = facet("delivery", modes.c.value, func.count()).group_by(modes.c.value)
    return union_all(total, categories, comuni, target_groups, delivery)


def root_term_ids() -> Select[uuid.UUID]:
    """The top of every vocabulary's tree: the categories facets count under."""
    return select(TaxonomyTerm.id).where(TaxonomyTerm.parent_id.is_(None))
