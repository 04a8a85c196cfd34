"""Reading the audit trail of one record, newest first.

A provider's trail includes the trails of the providers merged into it (at any depth), so the
survivor of a merge shows the whole history; each event still names the record it was about.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, literal, select

from ambrogio.catalogue.pagination import keyset_page
from ambrogio.db.models import AuditEvent, Organization
from ambrogio.editing.entities import Entity


def _provider_and_merged(key: uuid.UUID) -> Select[tuple[uuid.UUID]]:
    lineage = select(literal(key).label("id")).cte("lineage", recursive=True)
    merged = select(Organization.id).where(Organization.merged_into_id == lineage.c.id)
    lineage = lineage.union(merged)
    return select(lineage.c.id)


def events(entity: Entity, key: uuid.UUID) -> Select[AuditEvent]:
    """The whole trail of a record, unordered (what ``totalCount`` counts)."""
    about: ColumnElement[bool]
    if entity is Entity.PROVIDER:
        about = AuditEvent.entity_id.in_(_provider_and_merged(key))
    else:
        about = AuditEvent.entity_id == key
    return select(AuditEvent).where(AuditEvent.entity_type == entity.value, about)


def events_page(
    entity: Entity, key: uuid.UUID, after: int | None, limit: int
) -> Select[AuditEvent]:
    """Event ids grow with time, so they order the trail and serve as the cursor."""
    cursor = [after] if after is not None else None
    return keyset_page(events(entity, key), [AuditEvent.id], cursor, limit, descending=True)
