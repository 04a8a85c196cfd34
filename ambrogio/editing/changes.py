"""Create, update and archive records: the version check, drafts and the audit trail.

Every write of a record goes through ``write``: it applies validated values (see
``ambrogio.editing.inputs``), bumps ``version``, sets ``updated_at``, keeps ``hours_changed_at``,
``prices_changed_at`` and the open-interval table current, and adds one audit event with the
record before and after — all in the caller's transaction, so a failure leaves nothing behind.

Who writes what:

- reviewers and admins (``auth.reviews_directly``): their edits apply at once; what they create
  is published;
- everyone else with the edit permission (mappers, API keys with the ``edit`` scope): a create
  inserts the record as a draft, invisible to the public, plus a pending change request; an
  update or archive leaves the record alone and stores a change request with the validated
  values and the version it was made on, for a reviewer to publish or reject. A mapper's own
  draft, still pending, is theirs: correcting or archiving it applies at once (archiving
  withdraws its change request).

Concurrency: the record is read with ``SELECT … FOR UPDATE`` and its version compared while the
row lock is held, so two writers on the same version cannot both pass; the second waits, then
sees the bumped version and gets CONFLICT with the current version.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.auth.permissions import reviews_directly
from ambrogio.context import Caller
from ambrogio.db import audit
from ambrogio.db.models import (
    SRID,
    ChangeRequest,
    Organization,
    Service,
)
from ambrogio.editing import scope, service_parts
from ambrogio.editing.entities import Action, ChangeStatus, Entity, Record
from ambrogio.enums import Status
from ambrogio.errors import BadUserInput, Conflict, NotFound
from ambrogio.hours.intervals import sync_open_intervals
from ambrogio.ids import to_global_id

GEOMETRIES = frozenset({"geom", "service_area"})
HOURS_PLACES = (Entity.LOCATION, Entity.WELFARE_POINT)


@dataclass(frozen=True)
class Editor:
    """Who edits, and the request the audit events belong to."""

    caller: Caller
    request_id: str | None = None

    @property
    def actor(self) -> str:
        return self.caller.actor

    @property
    def reviews(self) -> bool:
        return reviews_directly(self.caller)


@dataclass
class Outcome:
    """The record as it is now (a draft included), and the change request waiting for review."""

    entity: Entity
    row: Record
    change: ChangeRequest | None = None


def global_id(entity: Entity, key: uuid.UUID) -> str:
    return to_global_id(entity.type_name, key)


async def lock(session: AsyncSession, entity: Entity, key: uuid.UUID) -> Record:
    """The record, locked until the transaction ends; NOT_FOUND when there is none."""
    model = entity.model
    row: Record | None = await session.scalar(
        select(model)
        .where(model.id == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(f"id: no {entity.type_name} with id {global_id(entity, key)!r}")
    return row


def check_version(entity: Entity, row: Record, version: int) -> None:
    if row.version != version:
        raise Conflict(
            f"{entity.type_name} {global_id(entity, row.id)}: version {version} is stale: "
            f"the record is at version {row.version}; read it again and redo the edit",
            currentVersion=row.version,
        )


async def snapshot(session: AsyncSession, entity: Entity, row: Record) -> dict[str, Any]:
    """The record as JSON for the audit trail; a service with its categories, prices, places."""
    data = audit.snapshot(row)
    if entity is Entity.SERVICE:
        data.update(await service_parts.relations(session, row.id))
    return data


async def check_values(
    session: AsyncSession, entity: Entity, row: Record, values: Mapping[str, Any]
) -> None:
    if isinstance(row, Service):
        await service_parts.check(session, row, values)


async def now(session: AsyncSession) -> datetime:
    """The transaction's timestamp: every change of one mutation carries the same instant."""
    instant = await session.scalar(select(func.now()))
    assert isinstance(instant, datetime)
    return instant


async def write(
    session: AsyncSession,
    editor: Editor,
    entity: Entity,
    row: Record,
    values: Mapping[str, Any],
    action: str,
    *,
    status: Status | None = None,
    verify: bool = False,
    creating: bool = False,
    note: Mapping[str, Any] | None = None,
) -> None:
    """Apply ``values`` to ``row`` (new or locked), bump its version and record the audit event.

    ``note`` is added to the event's ``after`` under ``"note"`` (what a merge moved, say).
    """
    before = None if creating else await snapshot(session, entity, row)
    await check_values(session, entity, row, values)
    instant = await now(session)
    old_hours = (getattr(row, "opening_hours", None), getattr(row, "comune_istat", None))
    for column, value in values.items():
        if column in service_parts.RELATIONS:
            continue
        if column in GEOMETRIES and value is not None:
            value = from_shape(shape(value), srid=SRID)
        setattr(row, column, value)
    if entity in HOURS_PLACES and values.get("opening_hours", old_hours[0]) != old_hours[0]:
        row.hours_changed_at = instant  # type: ignore[union-attr]
    if status is not None:
        row.status = status.value
    if verify:
        row.verified_at = instant
        row.verified_by = editor.actor
    if creating:
        session.add(row)
    else:
        row.version = row.version + 1
        row.updated_at = instant
    await session.flush()
    if entity is Entity.SERVICE:
        assert isinstance(row, Service)
        await service_parts.apply(session, row, values, instant)
        await session.flush()
    await session.refresh(row)
    if entity in HOURS_PLACES:
        new_hours = (getattr(row, "opening_hours", None), getattr(row, "comune_istat", None))
        if new_hours != old_hours and new_hours[0] is not None:
            await sync_open_intervals(session, [new_hours])
    after = await snapshot(session, entity, row)
    if note:
        after["note"] = dict(note)
    await audit.record(
        session,
        actor=editor.actor,
        action=action,
        entity_type=entity.value,
        entity_id=row.id,
        before=before,
        after=after,
        request_id=editor.request_id,
    )


async def _owner(session: AsyncSession, provider_id: uuid.UUID | None) -> uuid.UUID:
    """The provider a new location or service belongs to: it must exist and be live."""
    if provider_id is None:
        raise BadUserInput("input.providerId", None, "is required")
    provider = await session.get(Organization, provider_id)
    if provider is None or provider.status == Status.ARCHIVED.value or provider.merged_into_id:
        raise BadUserInput(
            "input.providerId",
            to_global_id("Provider", provider_id),
            "is not a provider that can take new records (unknown, archived or merged)",
        )
    return provider_id


async def create(
    session: AsyncSession,
    editor: Editor,
    entity: Entity,
    values: Mapping[str, Any],
    provider_id: uuid.UUID | None = None,
) -> Outcome:
    row = entity.model(id=uuid.uuid4(), version=1)
    if entity in (Entity.LOCATION, Entity.SERVICE):
        row.organization_id = await _owner(session, provider_id)  # type: ignore[union-attr]
    await scope.check(session, editor.caller, entity, row, values, creating=True)
    status = Status.PUBLISHED if editor.reviews else Status.DRAFT
    await write(session, editor, entity, row, values, Action.CREATE, status=status, creating=True)
    change = None
    if not editor.reviews:
        change = await _propose(session, editor, entity, row, Action.CREATE, row.version, values)
    return Outcome(entity, row, change)


async def _prepare(
    session: AsyncSession,
    editor: Editor,
    entity: Entity,
    key: uuid.UUID,
    version: int,
    values: Mapping[str, Any],
) -> tuple[Record, ChangeRequest | None]:
    row = await lock(session, entity, key)
    check_version(entity, row, version)
    if row.status == Status.ARCHIVED.value:
        raise Conflict(
            f"{entity.type_name} {global_id(entity, key)} is archived and cannot be edited",
            currentVersion=row.version,
        )
    draft = None
    if row.status == Status.DRAFT.value:
        draft = await scope.own_draft(session, editor.actor, entity, key)
    await scope.check(session, editor.caller, entity, row, values, own=draft is not None)
    return row, draft


async def _propose(
    session: AsyncSession,
    editor: Editor,
    entity: Entity,
    row: Record,
    action: Action,
    version: int,
    values: Mapping[str, Any],
) -> ChangeRequest:
    change = ChangeRequest(
        entity_type=entity.value,
        entity_id=row.id,
        action=action.value,
        base_version=version,
        payload=dict(values),
        author=editor.actor,
    )
    session.add(change)
    await session.flush()
    await session.refresh(change)
    return change


async def update(
    session: AsyncSession,
    editor: Editor,
    entity: Entity,
    key: uuid.UUID,
    version: int,
    values: Mapping[str, Any],
) -> Outcome:
    row, draft = await _prepare(session, editor, entity, key, version, values)
    if editor.reviews or draft is not None:
        await write(session, editor, entity, row, values, Action.UPDATE)
        if draft is not None:
            draft.payload = {**draft.payload, **values}
            await session.flush()
        return Outcome(entity, row, draft)
    await check_values(session, entity, row, values)
    return Outcome(
        entity, row, await _propose(session, editor, entity, row, Action.UPDATE, version, values)
    )


async def archive(
    session: AsyncSession, editor: Editor, entity: Entity, key: uuid.UUID, version: int
) -> Outcome:
    row, draft = await _prepare(session, editor, entity, key, version, {})
    if editor.reviews or draft is not None:
        await write(session, editor, entity, row, {}, Action.ARCHIVE, status=Status.ARCHIVED)
        if draft is not None:
            draft.status = ChangeStatus.SUPERSEDED.value
            draft.decided_by = editor.actor
            draft.decided_at = await now(session)
            await session.flush()
        return Outcome(entity, row, draft)
    return Outcome(
        entity, row, await _propose(session, editor, entity, row, Action.ARCHIVE, version, {})
    )
