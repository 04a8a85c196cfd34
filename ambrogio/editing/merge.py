"""Merging two providers that are one, and finding where a merged-away provider went.

``merge`` moves everything that belongs to the merged provider — locations, services, and the
providers merged into it before — to the kept one, archives the merged provider with
``merged_into_id`` pointing at the kept one, and writes an audit event for every record it
touches; the merged provider's own audit trail stays under its id. The pair's duplicate
candidate becomes ``merged``; the merged provider's other open pairs are closed as dismissed
and the kept provider's duplicates flagged afresh. Its pending change requests are superseded.

``survivor`` follows ``merged_into_id`` links, so ``node(id:)`` with a merged-away id answers
with the provider that absorbed it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.db.models import (
    ChangeRequest,
    DuplicateCandidate,
    Organization,
)
from ambrogio.editing.changes import Editor, lock, now, write
from ambrogio.editing.entities import ChangeStatus, Entity
from ambrogio.editing.matching import flag_duplicates
from ambrogio.enums import Status
from ambrogio.errors import BadUserInput
from ambrogio.ids import to_global_id

# Merge chains are short; the bound only guards against a cycle written by hand.
MAX_HOPS = 32


@dataclass
class Merged:
    kept: Organization
    merged: Organization
    locations: list[uuid.UUID]
    services: list[uuid.UUID]


def _gid(key: uuid.UUID) -> str:
    return to_global_id("Provider", key)


async def merge(
    session: AsyncSession, editor: Editor, keep_id: uuid.UUID, merge_id: uuid.UUID
) -> Merged:
    if keep_id == merge_id:
        raise BadUserInput("mergeId", _gid(merge_id), "is the provider to keep (keepId)")
    # Lock in a fixed order, so two merges of the same pair cannot deadlock.
    locked = {key: await lock(session, Entity.PROVIDER, key) for key in sorted((keep_id, merge_id))}
    kept, merged = locked[keep_id], locked[merge_id]
    assert isinstance(kept, Organization) and isinstance(merged, Organization)
    if kept.status == Status.ARCHIVED.value or kept.merged_into_id is not None:
        raise BadUserInput("keepId", _gid(keep_id), "is archived or merged: keep a live provider")
    if merged.merged_into_id is not None:
        raise BadUserInput(
            "mergeId", _gid(merge_id), f"was already merged into {_gid(merged.merged_into_id)}"
        )
    moved = {
        entity: await _move(session, editor, entity, "organization_id", merge_id, keep_id)
        for entity in (Entity.LOCATION, Entity.SERVICE)
    }
    # Providers merged into this one before now point at the survivor directly.
    await _move(session, editor, Entity.PROVIDER, "merged_into_id", merge_id, keep_id)
    await write(
        session,
        editor,
        Entity.PROVIDER,
        merged,
        {"merged_into_id": keep_id},
        "merge",
        status=Status.ARCHIVED,
    )
    await write(
        session,
        editor,
        Entity.PROVIDER,
        kept,
        {},
        "merge",
        note={
            "merged_provider": str(merge_id),
            "moved_locations": [str(key) for key in moved[Entity.LOCATION]],
            "moved_services": [str(key) for key in moved[Entity.SERVICE]],
        },
    )
    await _close_pairs(session, editor, keep_id, merge_id)
    await _supersede(session, editor, merge_id)
    await flag_duplicates(session, [keep_id])
    return Merged(kept, merged, moved[Entity.LOCATION], moved[Entity.SERVICE])


async def _move(
    session: AsyncSession,
    editor: Editor,
    entity: Entity,
    column: str,
    old: uuid.UUID,
    new: uuid.UUID,
) -> list[uuid.UUID]:
    """Point ``column`` of every ``entity`` record from ``old`` to ``new``, one audit event each."""
    model = entity.model
    rows: Sequence[Any] = (
        await session.scalars(
            select(model).where(getattr(model, column) == old).order_by(model.id).with_for_update()
        )
    ).all()
    for row in rows:
        await write(session, editor, entity, row, {column: new}, "merge")
    return [row.id for row in rows]


async def _close_pairs(
    session: AsyncSession, editor: Editor, keep_id: uuid.UUID, merge_id: uuid.UUID
) -> None:
    instant = await now(session)
    low, high = sorted((keep_id, merge_id))
    pair = and_(DuplicateCandidate.provider_a == low, DuplicateCandidate.provider_b == high)
    decided = {"decided_by": editor.actor, "decided_at": instant}
    await session.execute(update(DuplicateCandidate).where(pair).values(status="merged", **decided))
    await session.execute(
        update(DuplicateCandidate)
        .where(
            or_(
                DuplicateCandidate.provider_a == merge_id, DuplicateCandidate.provider_b == merge_id
            ),
            DuplicateCandidate.status == "open",
        )
        .values(status="dismissed", **decided)
    )


async def _supersede(session: AsyncSession, editor: Editor, merge_id: uuid.UUID) -> None:
    await session.execute(
        update(ChangeRequest)
        .where(
            ChangeRequest.entity_type == Entity.PROVIDER.value,
            ChangeRequest.entity_id == merge_id,
            ChangeRequest.status == ChangeStatus.PENDING.value,
        )
        .values(
            status=ChangeStatus.SUPERSEDED.value,
            decided_by=editor.actor,
            decided_at=await now(session),
            reason="the provider was merged into another",
        )
    )


async def survivor(session: AsyncSession, key: uuid.UUID) -> uuid.UUID | None:
    """The provider a merged-away provider ended up in, or None when it was not merged."""
    current, hops = key, 0
    while hops < MAX_HOPS:
        target = await session.scalar(
            select(Organization.merged_into_id).where(Organization.id == current)
        )
        if target is None:
            return current if current != key else None
        current, hops = target, hops + 1
    return None
