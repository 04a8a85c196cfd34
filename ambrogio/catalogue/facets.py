"""Facet counts of a search, all in one statement: per category (with its ancestors, so a
root counts the services of its whole subtree), comune, target group and delivery mode.

A service counts once per facet value: in each comune where it has a published location or
that its service area lists, and in each ancestor category once even with several leaves.

Each matching service is read once (``matching``, materialized) and yields its own values,
each once: the ``DISTINCT`` ancestors of its few categories, the ``UNION`` of its few comuni
(as ``count(DISTINCT id)`` per value counted them); then one hashed ``count(*)`` per
(facet, value) adds them up. No sort of every (value, service) pair of the search.
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
    true,
    union,
    union_all,
)

from ambrogio.catalogue.visibility import PUBLISHED
from ambrogio.db.models import Location, Service, ServiceAtLocation, ServiceCategory, TaxonomyTerm


def facet_counts(conditions: Sequence[ColumnElement[bool]]) -> Executable:
    """Rows of (facet, key, count); facet is total, category, comune, target_group, delivery."""
    matching = (
        select(Service.id, Service.target_groups, Service.delivery, Service.service_area_comuni)
        .where(*conditions)
        .cte("matching")
        .prefix_with("MATERIALIZED")
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

    # A service's values, each once.
    ancestors = (
        select(cast(lineage.c.ancestor_id, String).label("key"))
        .distinct()
        .join(ServiceCategory, ServiceCategory.term_id == lineage.c.term_id)
        .where(ServiceCategory.service_id == matching.c.id)
        .lateral("ancestors")
    )
    comuni = union(
        select(Location.comune_istat.label("key"))
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .where(
            ServiceAtLocation.service_id == matching.c.id,
            Location.status == PUBLISHED,
            Location.comune_istat.is_not(None),
        )
        .correlate(matching),
        select(func.unnest(matching.c.service_area_comuni)).correlate(matching),
    ).lateral("comuni")

    def values(name: str, key: Any) -> Select[Any]:
        return select(literal(name).label("facet"), cast(key, String).label("key"))

    pairs = union_all(
        values("category", ancestors.c.key).select_from(matching).join(ancestors, true()),
        values("comune", comuni.c.key).select_from(matching).join(comuni, true()),
        values("target_group", func.unnest(matching.c.target_groups)).select_from(matching),
        values("delivery", func.unnest(matching.c.delivery)).select_from(matching),
    ).subquery("pairs")

    total = select(literal("total").label("facet"), cast(literal(""), String), func.count())
    return union_all(
        total.select_from(matching),
        select(pairs.c.facet, pairs.c.key, func.count()).group_by(pairs.c.facet, pairs.c.key),
    )


def root_term_ids() -> Select[uuid.UUID]:
    """The top of every vocabulary's tree: the categories facets count under."""
    return select(TaxonomyTerm.id).where(TaxonomyTerm.parent_id.is_(None))
