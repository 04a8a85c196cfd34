"""Reading the audit trail of one record, newest first."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select

from ambrogio.db.models import AuditEvent
from ambrogio.editing.entities import Entity


def events_page(
    entity: Entity, key: uuid.UUID, after: int | None, limit: int
) -> Select[AuditEvent]:
    """Event ids grow with time, so they order the trail and serve as the cursor."""
    stmt = select(AuditEvent).where(
        AuditEvent.entity_type == entity.value, AuditEvent.entity_id == key
    )
    if after is not None:
        stmt = stmt.where(AuditEvent.id < after)
    return stmt.order_by(AuditEvent.id.desc()).limit(limit + 1)
