"""The audit trail: every change to a record, written in the same transaction as the change."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.db.models import AuditEvent, Base

# Derived columns, not part of what a person edited.
_SKIPPED = frozenset({"search", "geom_utm"})


def jsonable(value: Any) -> Any:
    if isinstance(value, WKBElement):
        return mapping(to_shape(value))
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    return value


def snapshot(row: Base) -> dict[str, Any]:
    """The loaded column values of a row, as JSON (geometries as GeoJSON)."""
    state = inspect(row)
    return {
        attr.key: jsonable(attr.loaded_value)
        for attr in state.attrs
        if attr.key not in _SKIPPED and attr.key in state.mapper.columns
    }


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    request_id: str | None = None,
) -> None:
    """Add one audit event; it commits (or rolls back) with the caller's transaction."""
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
            request_id=request_id,
        )
    )
