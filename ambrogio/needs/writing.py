"""Writing need records: create, replace, delete, import, purge; each audited in the same
transaction. The values come checked (``records.check_values``); the caller's scope decides
which welfare point's records may be touched."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.auth.needs import RecordScope
from ambrogio.db import audit
from ambrogio.db.models import Need, WelfarePoint
from ambrogio.errors import BadUserInput, Conflict, NotFound
from ambrogio.needs import records
from ambrogio.needs.csv import NeedRow
from ambrogio.needs.records import ENTITY, NeedValues


async def checked_point(
    session: AsyncSession, scope: RecordScope, given: uuid.UUID | None, field: str
) -> uuid.UUID:
    """The welfare point a write goes to: the operator's own, or the one an admin names."""
    point = given if given is not None else scope.welfare_point
    if point is None:
        raise BadUserInput(field, None, "is required: name the welfare point the need was met at")
    if not scope.covers(point):
        raise NotFound(f"{field}: no welfare point {point} of yours")
    if await session.get(WelfarePoint, point) is None:
        raise NotFound(f"{field}: no welfare point {point}")
    return point


async def _referral(session: AsyncSession, values: NeedValues, field: str) -> None:
    if values.referred_service_id is not None:
        await records.check_referrals(session, {field: values.referred_service_id})


async def create(
    session: AsyncSession,
    point: uuid.UUID,
    values: NeedValues,
    actor: str,
    request_id: str | None,
) -> Need:
    await _referral(session, values, "input.referredServiceId")
    row = Need(id=uuid.uuid4(), welfare_point_id=point, **values.columns())
    session.add(row)
    return await _written(session, row, "create", None, actor, request_id)


async def _written(
    session: AsyncSession,
    row: Need,
    action: str,
    before: dict[str, Any] | None,
    actor: str,
    request_id: str | None,
) -> Need:
    """Flush ``row``, read back what the database filled in, and audit the change."""
    await session.flush()
    await session.refresh(row)
    await audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=ENTITY,
        entity_id=row.id,
        before=before,
        after=audit.snapshot(row),
        request_id=request_id,
    )
    return row


async def _own(session: AsyncSession, scope: RecordScope, need: uuid.UUID, field: str) -> Need:
    row = (await session.scalars(records.one(scope, need).with_for_update())).one_or_none()
    if row is None:
        # The same answer for another point's record as for none: ids are not probed.
        raise NotFound(f"{field}: no need record {need} of yours")
    return row


async def replace(
    session: AsyncSession,
    scope: RecordScope,
    need: uuid.UUID,
    version: int,
    values: NeedValues,
    actor: str,
    request_id: str | None,
) -> Need:
    row = await _own(session, scope, need, "id")
    if row.version != version:
        raise Conflict(
            f"version: the record is at version {row.version}, not {version}: read it again",
            currentVersion=row.version,
        )
    await _referral(session, values, "input.referredServiceId")
    before = audit.snapshot(row)
    for name, value in values.columns().items():
        setattr(row, name, value)
    row.version += 1
    return await _written(session, row, "update", before, actor, request_id)


async def remove(
    session: AsyncSession, scope: RecordScope, need: uuid.UUID, actor: str, request_id: str | None
) -> None:
    """Delete a record on request; the audit event keeps that it was, not what it said."""
    gone = (await session.execute(records.removal(scope, need))).first()
    if gone is None:
        raise NotFound(f"id: no need record {need} of yours")
    await audit.record(
        session,
        actor=actor,
        action="delete",
        entity_type=ENTITY,
        entity_id=need,
        before=None,
        after=None,
        request_id=request_id,
    )


async def import_rows(
    session: AsyncSession,
    point: uuid.UUID,
    rows: list[NeedRow],
    actor: str,
    request_id: str | None,
) -> tuple[int, int]:
    """Insert the rows (or update those whose ``external_id`` this point imported before);
    (created, updated). Every referral is checked first: nothing is written when one fails."""
    referred = {
        f"row {row.row}: referred_service_id": row.values.referred_service_id
        for row in rows
        if row.values.referred_service_id is not None
    }
    await records.check_referrals(session, referred)
    source = f"welfare-point:{point}"
    external = [row.external_id for row in rows if row.external_id]
    existing = (
        set(
            (
                await session.scalars(
                    select(Need.external_id).where(
                        Need.source == source, Need.external_id.in_(external)
                    )
                )
            ).all()
        )
        if external
        else set()
    )
    values: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(),
            "welfare_point_id": point,
            "source": source,
            "external_id": row.external_id,
            **row.values.columns(),
        }
        for row in rows
    ]
    if values:
        stmt = insert(Need).values(values)
        columns = list(rows[0].values.columns())
        stmt = stmt.on_conflict_do_update(
            constraint="uq_need_source_external_id",
            set_={name: stmt.excluded[name] for name in columns}
            | {"version": Need.version + 1, "updated_at": stmt.excluded.updated_at},
        )
        await session.execute(stmt)
    updated = sum(1 for row in rows if row.external_id in existing)
    await audit.record(
        session,
        actor=actor,
        action="import",
        entity_type="welfare_point",
        entity_id=point,
        before=None,
        after={"created": len(rows) - updated, "updated": updated},
        request_id=request_id,
    )
    return len(rows) - updated, updated


async def purge(session: AsyncSession, before: date) -> int:
    result = await session.execute(records.purge(before))
    return int(getattr(result, "rowcount", 0) or 0)
