"""Reviewers' decisions on change requests, and verification.

Publishing applies the change request's stored values (an update) or makes the draft public (a
create), and counts as a verification: the reviewer read the record, so ``verified_at`` and
``verified_by`` are set. A stale change — the record moved on since the version the author
edited — is a CONFLICT with the current version; the reviewer rejects it and the author redoes
it on the current record. Rejecting needs a reason the author can act on; a rejected create
archives its draft. ``verify`` records that a reviewer checked a record against reality, which
takes it off the freshness queue; it is no edit, so it leaves ``version`` and ``updated_at``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio import validation
from ambrogio.catalogue.pagination import keyset_page
from ambrogio.db import audit
from ambrogio.db.models import ChangeRequest
from ambrogio.editing.changes import Editor, Outcome, check_version, lock, now, snapshot, write
from ambrogio.editing.entities import Action, ChangeStatus, Entity, Record
from ambrogio.enums import Status
from ambrogio.errors import Conflict, NotFound
from ambrogio.ids import to_global_id


def change_global_id(key: uuid.UUID) -> str:
    return to_global_id("ChangeRequest", key)


async def _pending(session: AsyncSession, key: uuid.UUID) -> tuple[ChangeRequest, Entity, Record]:
    """The pending change request and its record, both locked.

    The record is locked first, as every edit does, then the change request, so a reviewer's
    decision and the author's correction of the same draft queue up instead of deadlocking.
    """
    found = await session.get(ChangeRequest, key)
    if found is None:
        raise NotFound(f"id: no change request with id {change_global_id(key)!r}")
    entity = Entity(found.entity_type)
    row = await lock(session, entity, found.entity_id)
    change = await session.scalar(
        select(ChangeRequest)
        .where(ChangeRequest.id == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert change is not None
    if change.status != ChangeStatus.PENDING.value:
        raise Conflict(
            f"change request {change_global_id(key)} is already {change.status}",
            status=change.status,
        )
    return change, entity, row


async def _decide(
    session: AsyncSession, editor: Editor, change: ChangeRequest, status: ChangeStatus
) -> None:
    change.status = status.value
    change.decided_by = editor.actor
    change.decided_at = await now(session)
    await session.flush()


async def publish(session: AsyncSession, editor: Editor, key: uuid.UUID) -> Outcome:
    change, entity, row = await _pending(session, key)
    action = Action(change.action)
    if action is Action.CREATE:
        if row.status != Status.DRAFT.value:
            raise Conflict(
                f"{entity.type_name} {to_global_id(entity.type_name, row.id)} is no longer a "
                f"draft (it is {row.status})",
                currentVersion=row.version,
            )
        await write(
            session, editor, entity, row, {}, "publish", status=Status.PUBLISHED, verify=True
        )
    else:
        check_version(entity, row, change.base_version or 0)
        if action is Action.UPDATE:
            await write(session, editor, entity, row, change.payload, "publish", verify=True)
        else:
            await write(session, editor, entity, row, {}, "publish", status=Status.ARCHIVED)
    await _decide(session, editor, change, ChangeStatus.PUBLISHED)
    return Outcome(entity, row, change)


async def reject(session: AsyncSession, editor: Editor, key: uuid.UUID, reason: Any) -> Outcome:
    text = validation.text("reason", reason, required=True)
    change, entity, row = await _pending(session, key)
    if Action(change.action) is Action.CREATE and row.status == Status.DRAFT.value:
        await write(session, editor, entity, row, {}, "reject", status=Status.ARCHIVED)
    change.reason = text
    await _decide(session, editor, change, ChangeStatus.REJECTED)
    return Outcome(entity, row, change)


async def verify(session: AsyncSession, editor: Editor, entity: Entity, key: uuid.UUID) -> Outcome:
    row = await lock(session, entity, key)
    if row.status == Status.ARCHIVED.value:
        raise Conflict(
            f"{entity.type_name} {to_global_id(entity.type_name, key)} is archived",
            currentVersion=row.version,
        )
    # A verification is no edit: ``version`` and ``updated_at`` stay, so drafts made on this
    # version remain publishable and ``modifiedAfter`` does not see a change.
    before = await snapshot(session, entity, row)
    model = type(row)
    await session.execute(
        update(model)
        .where(model.id == key)
        .values(
            verified_at=await now(session),
            verified_by=editor.actor,
            updated_at=model.updated_at,
        )
    )
    await session.refresh(row)
    await audit.record(
        session,
        actor=editor.actor,
        action="verify",
        entity_type=entity.value,
        entity_id=key,
        before=before,
        after=await snapshot(session, entity, row),
        request_id=editor.request_id,
    )
    return Outcome(entity, row)


def change_requests(status: ChangeStatus) -> Select[ChangeRequest]:
    """Every change request with this status (what ``totalCount`` counts)."""
    return select(ChangeRequest).where(ChangeRequest.status == status.value)


def change_requests_page(
    status: ChangeStatus, after: Sequence[Any] | None, limit: int
) -> Select[ChangeRequest]:
    """Oldest first: the queue a reviewer works through."""
    order = [ChangeRequest.created_at, ChangeRequest.id]
    return keyset_page(change_requests(status), order, after, limit)
