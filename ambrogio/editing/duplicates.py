"""Likely duplicate providers: flagged on every edit, listed for reviewers, dismissed or merged.

Flagging is ``ambrogio.editing.matching.flag_duplicates`` (set-based, shared with the import); a
flag is a warning for the editor, never an error. A dismissed pair is not flagged again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.catalogue.pagination import keyset_page
from ambrogio.db.models import DuplicateCandidate, Organization
from ambrogio.editing.changes import Editor, now
from ambrogio.editing.matching import flag_duplicates
from ambrogio.errors import Conflict, NotFound
from ambrogio.ids import to_global_id


class DuplicateStatus(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    MERGED = "merged"


class DuplicateReason(StrEnum):
    TAX_CODE = "tax_code"
    RUNTS_ID = "runts_id"
    NAME_NEARBY = "name_nearby"


def candidate_global_id(key: int) -> str:
    return to_global_id("DuplicateCandidate", str(key))


async def flag(
    session: AsyncSession, provider_ids: Sequence[uuid.UUID]
) -> list[DuplicateCandidate]:
    """Flag the likely duplicates of these providers; every open pair they are in."""
    await flag_duplicates(session, provider_ids)
    ids = list(provider_ids)
    found = await session.scalars(
        select(DuplicateCandidate)
        .where(
            or_(DuplicateCandidate.provider_a.in_(ids), DuplicateCandidate.provider_b.in_(ids)),
            DuplicateCandidate.status == DuplicateStatus.OPEN.value,
        )
        .order_by(DuplicateCandidate.id)
    )
    return list(found.all())


def listed(status: DuplicateStatus) -> Select[DuplicateCandidate]:
    """Every candidate pair with this status (what ``totalCount`` counts)."""
    return select(DuplicateCandidate).where(DuplicateCandidate.status == status.value)


def page(status: DuplicateStatus, after: int | None, limit: int) -> Select[DuplicateCandidate]:
    """In the order they were flagged."""
    cursor = [after] if after is not None else None
    return keyset_page(listed(status), [DuplicateCandidate.id], cursor, limit)


async def providers(
    session: AsyncSession, candidates: Sequence[DuplicateCandidate]
) -> dict[uuid.UUID, Organization]:
    """Both providers of each pair, drafts and archived ones included (reviewers see them)."""
    ids = {key for pair in candidates for key in (pair.provider_a, pair.provider_b)}
    if not ids:
        return {}
    rows = await session.scalars(select(Organization).where(Organization.id.in_(ids)))
    return {row.id: row for row in rows.all()}


async def dismiss(session: AsyncSession, editor: Editor, key: int) -> DuplicateCandidate:
    pair: DuplicateCandidate | None = await session.scalar(
        select(DuplicateCandidate).where(DuplicateCandidate.id == key).with_for_update()
    )
    if pair is None:
        raise NotFound(f"id: no duplicate candidate with id {candidate_global_id(key)!r}")
    if pair.status != DuplicateStatus.OPEN.value:
        raise Conflict(
            f"duplicate candidate {candidate_global_id(key)} is already {pair.status}",
            status=pair.status,
        )
    pair.status = DuplicateStatus.DISMISSED.value
    pair.decided_by = editor.actor
    pair.decided_at = await now(session)
    await session.flush()
    return pair
