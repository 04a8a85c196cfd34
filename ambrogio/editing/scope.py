"""Where a mapper limited to their welfare point's comuni may edit.

A provider is in scope when one of its locations, or one of its services' ``service_area_comuni``,
lies in those comuni; a location or welfare point when its comune does, before and after the
edit; a service when its provider is. A record the mapper created themselves and that still
waits for review is always theirs to correct or withdraw. A new provider has no place yet, so
any mapper may propose one (it stays a draft until a reviewer publishes it).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.auth.permissions import in_scope, require_scope
from ambrogio.context import Caller
from ambrogio.db.models import ChangeRequest, Location, Service
from ambrogio.editing.entities import Action, ChangeStatus, Entity, Record
from ambrogio.enums import Status
from ambrogio.ids import to_global_id


async def own_draft(
    session: AsyncSession, actor: str, entity: Entity, key: uuid.UUID
) -> ChangeRequest | None:
    """The pending create request of this record by ``actor``, if the record is their draft."""
    found: ChangeRequest | None = await session.scalar(
        select(ChangeRequest)
        .where(
            ChangeRequest.entity_type == entity.value,
            ChangeRequest.entity_id == key,
            ChangeRequest.action == Action.CREATE.value,
            ChangeRequest.status == ChangeStatus.PENDING.value,
            ChangeRequest.author == actor,
        )
        .with_for_update()
    )
    return found


async def provider_comuni(session: AsyncSession, provider_id: uuid.UUID) -> set[str]:
    archived = Status.ARCHIVED.value
    places = union(
        select(Location.comune_istat.label("code")).where(
            Location.organization_id == provider_id,
            Location.comune_istat.is_not(None),
            Location.status != archived,
        ),
        select(func.unnest(Service.service_area_comuni).label("code")).where(
            Service.organization_id == provider_id, Service.status != archived
        ),
    )
    return {code for code in (await session.scalars(select(places.subquery().c.code))).all()}


async def _provider_in_scope(session: AsyncSession, caller: Caller, provider_id: uuid.UUID) -> bool:
    if await own_draft(session, caller.actor, Entity.PROVIDER, provider_id) is not None:
        return True
    return in_scope(caller, await provider_comuni(session, provider_id))


async def check(
    session: AsyncSession,
    caller: Caller,
    entity: Entity,
    row: Record,
    values: Mapping[str, Any],
    *,
    creating: bool = False,
    own: bool = False,
) -> None:
    """FORBIDDEN when ``caller`` is limited to some comuni and this edit reaches elsewhere.

    ``own``: the record is the caller's pending draft; only where it moves to is checked.
    """
    if caller.comuni is None:
        return
    what = f"{entity.type_name} {to_global_id(entity.type_name, row.id)}"
    if entity is Entity.PROVIDER:
        if not creating and not own and not await _provider_in_scope(session, caller, row.id):
            require_scope(caller, set(), what)
        return
    if entity is Entity.SERVICE:
        assert isinstance(row, Service)
        if not own and not await _provider_in_scope(session, caller, row.organization_id):
            provider = to_global_id("Provider", row.organization_id)
            require_scope(caller, set(), f"{what} (of Provider {provider})")
        return
    comune = getattr(row, "comune_istat", None)
    if not creating and not own:
        require_scope(caller, {comune} if comune else set(), what)
    if creating or "comune_istat" in values:
        new = values.get("comune_istat")
        require_scope(caller, {new} if new else set(), f"{what} (comune {new})")
