"""The freshness queue: published records a reviewer should check again, and why.

A record is due when it was not verified for ``months`` months (never-verified records count
from their creation), or when its opening hours (locations, welfare points) or prices (services)
changed after it was last verified. The queue runs oldest first, by the instant the record was
last verified (or created).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    and_,
    false,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from ambrogio.catalogue.pagination import keyset_page
from ambrogio.db.models import Organization
from ambrogio.editing.entities import Entity
from ambrogio.enums import Status

MAX_MONTHS = 1200


class FreshnessReason(StrEnum):
    NOT_VERIFIED_SINCE = "not_verified_since"
    HOURS_CHANGED = "hours_changed"
    PRICES_CHANGED = "prices_changed"


@dataclass(frozen=True)
class Due:
    entity: Entity
    id: uuid.UUID
    verified_at: datetime | None
    verified_by: str | None
    since: datetime
    hours_changed_at: datetime | None
    prices_changed_at: datetime | None
    reasons: list[FreshnessReason]

    @property
    def cursor(self) -> tuple[datetime, str, uuid.UUID]:
        return self.since, self.entity.value, self.id


def _part(entity: Entity) -> Select[Any]:
    model = entity.model
    no_time = null().cast(DateTime(timezone=True))
    hours = getattr(model, "hours_changed_at", no_time)
    prices = getattr(model, "prices_changed_at", no_time)
    live = model.status == Status.PUBLISHED.value
    if entity is Entity.PROVIDER:
        live = and_(live, Organization.merged_into_id.is_(None))
    return select(
        literal(entity.value).label("entity"),
        model.id.label("id"),
        model.verified_at.label("verified_at"),
        model.verified_by.label("verified_by"),
        func.coalesce(model.verified_at, model.created_at).label("since"),
        hours.label("hours_changed_at"),
        prices.label("prices_changed_at"),
    ).where(live)


def queue(
    months: int,
    reason: FreshnessReason | None,
    entity: Entity | None,
    after: Sequence[Any] | None,
    limit: int,
) -> Select[Any]:
    """One page of due records, with a flag per reason."""
    stmt, order = _due(months, reason, entity)
    return keyset_page(stmt, order, after, limit)


def every_due(months: int, reason: FreshnessReason | None, entity: Entity | None) -> Select[Any]:
    """The whole queue, unordered (what ``totalCount`` counts)."""
    return _due(months, reason, entity)[0]


def _due(
    months: int, reason: FreshnessReason | None, entity: Entity | None
) -> tuple[Select[Any], list[Any]]:
    entities = [entity] if entity is not None else list(Entity)
    records = union_all(*(_part(kind) for kind in entities)).subquery("record")
    cutoff = func.now() - func.make_interval(0, months)
    verified = records.c.verified_at.is_not(None)
    flags: dict[FreshnessReason, ColumnElement[bool]] = {
        FreshnessReason.NOT_VERIFIED_SINCE: records.c.since < cutoff,
        FreshnessReason.HOURS_CHANGED: and_(
            verified, records.c.hours_changed_at > records.c.verified_at
        ),
        FreshnessReason.PRICES_CHANGED: and_(
            verified, records.c.prices_changed_at > records.c.verified_at
        ),
    }
    wanted = [flags[reason]] if reason is not None else list(flags.values())
    stmt = select(records, *(flag.label(kind.value) for kind, flag in flags.items())).where(
        or_(false(), *wanted)
    )
    return stmt, [records.c.since, records.c.entity, records.c.id]


def due(row: Any) -> Due:
    mapping = row._mapping
    return Due(
        entity=Entity(mapping["entity"]),
        id=mapping["id"],
        verified_at=mapping["verified_at"],
        verified_by=mapping["verified_by"],
        since=mapping["since"],
        hours_changed_at=mapping["hours_changed_at"],
        prices_changed_at=mapping["prices_changed_at"],
        reasons=[kind for kind in FreshnessReason if mapping[kind.value]],
    )


def records(entity: Entity, keys: Sequence[uuid.UUID]) -> Select[Any]:
    """The records of one kind a page of the queue lists (as they are, archived or not)."""
    model = entity.model
    return select(model).where(model.id.in_(keys))
