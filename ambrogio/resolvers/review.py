"""Review: decisions on change requests, merges, duplicates, verification, queues, audit trail."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio import ids
from ambrogio.catalogue.pagination import (
    counter,
    decode_cursor,
    encode_cursor,
    instant_key,
    int_key,
    page_size,
    text_key,
    uuid_key,
)
from ambrogio.context import Context
from ambrogio.editing import duplicates, freshness, merge, review, trail
from ambrogio.editing.duplicates import DuplicateStatus
from ambrogio.editing.entities import ChangeStatus, Entity, Record
from ambrogio.errors import BadUserInput
from ambrogio.resolvers.editing import transaction
from ambrogio.schema.types.catalogue import Location, Provider, Service
from ambrogio.schema.types.editing import ChangeRequest, DuplicateCandidate
from ambrogio.schema.types.node import Connection, Node, build_connection
from ambrogio.schema.types.review import AuditEvent, FreshnessItem, MergePayload, ReviewPayload
from ambrogio.schema.types.welfare_point import WelfarePoint

Info = strawberry.Info[Context, None]

NODES: dict[Entity, Any] = {
    Entity.PROVIDER: Provider.from_row,
    Entity.LOCATION: Location.from_row,
    Entity.SERVICE: Service.from_row,
    Entity.WELFARE_POINT: WelfarePoint.from_row,
}


def node_of(entity: Entity, row: Record) -> Node:
    result: Node = NODES[entity](row)
    return result


ENTITY_TYPES = {entity.type_name: entity for entity in Entity}


def record_ref(field: str, global_id: str) -> tuple[Entity, uuid.UUID]:
    """(kind, key) of the global id of a Provider, Location, Service or WelfarePoint."""
    type_name, key = ids.decode_typed(global_id, ENTITY_TYPES, field, uuid.UUID)
    return ENTITY_TYPES[type_name], key


# --- decisions -----------------------------------------------------------------------------


async def publish_change(info: Info, id: strawberry.ID) -> ReviewPayload:
    key = ids.decode(id, "ChangeRequest", "id")
    async with transaction(info) as (session, editor):
        outcome = await review.publish(session, editor, key)
        assert outcome.change is not None
        return ReviewPayload(
            change_request=ChangeRequest.from_row(outcome.change),
            record=node_of(outcome.entity, outcome.row),
        )


async def reject_change(info: Info, id: strawberry.ID, reason: str) -> ReviewPayload:
    key = ids.decode(id, "ChangeRequest", "id")
    async with transaction(info) as (session, editor):
        outcome = await review.reject(session, editor, key, reason)
        assert outcome.change is not None
        return ReviewPayload(
            change_request=ChangeRequest.from_row(outcome.change),
            record=node_of(outcome.entity, outcome.row),
        )


async def verify_record(info: Info, id: strawberry.ID) -> Node:
    entity, key = record_ref("id", id)
    async with transaction(info) as (session, editor):
        outcome = await review.verify(session, editor, entity, key)
        return node_of(entity, outcome.row)


async def merge_providers(
    info: Info, keep_id: strawberry.ID, merge_id: strawberry.ID
) -> MergePayload:
    keep = ids.decode(keep_id, "Provider", "keepId")
    merged = ids.decode(merge_id, "Provider", "mergeId")
    async with transaction(info) as (session, editor):
        result = await merge.merge(session, editor, keep, merged)
        return MergePayload(
            provider=Provider.from_row(result.kept),
            merged=Provider.from_row(result.merged),
            moved_locations=len(result.locations),
            moved_services=len(result.services),
        )


async def dismiss_duplicate(info: Info, id: strawberry.ID) -> DuplicateCandidate:
    key = ids.decode_typed(id, ("DuplicateCandidate",), "id", int)[1]
    async with transaction(info) as (session, editor):
        pair = await duplicates.dismiss(session, editor, key)
        return DuplicateCandidate.from_row(pair, await duplicates.providers(session, [pair]))


# --- queues --------------------------------------------------------------------------------


async def change_requests(
    info: Info, status: ChangeStatus, first: int | None, after: str | None
) -> Connection[ChangeRequest]:
    limit = page_size(first, info.context.settings)
    cursor = decode_cursor(after, [instant_key, uuid_key])
    async with info.context.sessionmaker() as session:
        rows = (await session.scalars(review.change_requests_page(status, cursor, limit))).all()
    return build_connection(
        [ChangeRequest.from_row(row) for row in rows],
        [encode_cursor([row.created_at.isoformat(), row.id]) for row in rows],
        limit=limit,
        after=after,
        count=counter(info.context.sessionmaker, review.change_requests(status)),
    )


async def duplicate_candidates(
    info: Info, status: DuplicateStatus, first: int | None, after: str | None
) -> Connection[DuplicateCandidate]:
    limit = page_size(first, info.context.settings)
    cursor = decode_cursor(after, [int_key])
    async with info.context.sessionmaker() as session:
        rows = (
            await session.scalars(duplicates.page(status, cursor[0] if cursor else None, limit))
        ).all()
        providers = await duplicates.providers(session, rows)
    return build_connection(
        [DuplicateCandidate.from_row(row, providers) for row in rows],
        [encode_cursor([row.id]) for row in rows],
        limit=limit,
        after=after,
        count=counter(info.context.sessionmaker, duplicates.listed(status)),
    )


async def _records(session: AsyncSession, wanted: list[freshness.Due]) -> dict[uuid.UUID, Node]:
    keys: dict[Entity, list[uuid.UUID]] = defaultdict(list)
    for item in wanted:
        keys[item.entity].append(item.id)
    found: dict[uuid.UUID, Node] = {}
    for entity, chosen in keys.items():
        rows: Sequence[Any] = (await session.scalars(freshness.records(entity, chosen))).all()
        found.update((row.id, node_of(entity, row)) for row in rows)
    return found


async def freshness_queue(
    info: Info,
    older_than_months: int | None,
    reason: freshness.FreshnessReason | None,
    entity_type: Entity | None,
    first: int | None,
    after: str | None,
) -> Connection[FreshnessItem]:
    months = older_than_months
    if months is None:
        months = info.context.settings.freshness_months
    if not 0 <= months <= freshness.MAX_MONTHS:
        raise BadUserInput(
            "olderThanMonths", months, f"must be between 0 and {freshness.MAX_MONTHS}"
        )
    limit = page_size(first, info.context.settings)
    cursor = decode_cursor(after, [instant_key, text_key, uuid_key])
    statement = freshness.queue(months, reason, entity_type, cursor, limit)
    async with info.context.sessionmaker() as session:
        due = [freshness.due(row) for row in (await session.execute(statement)).all()]
        records = await _records(session, due)
    # Records are archived, never deleted: each one listed is there to show.
    return build_connection(
        [FreshnessItem.of(item, records[item.id]) for item in due],
        [encode_cursor([item.since.isoformat(), item.entity.value, item.id]) for item in due],
        limit=limit,
        after=after,
        count=counter(info.context.sessionmaker, freshness.every_due(months, reason, entity_type)),
    )


async def audit_trail(
    info: Info, entity_id: strawberry.ID, first: int | None, after: str | None
) -> Connection[AuditEvent]:
    entity, key = record_ref("entityId", entity_id)
    limit = page_size(first, info.context.settings)
    cursor = decode_cursor(after, [int_key])
    statement = trail.events_page(entity, key, cursor[0] if cursor else None, limit)
    async with info.context.sessionmaker() as session:
        rows = (await session.scalars(statement)).all()
    return build_connection(
        [AuditEvent.from_row(row) for row in rows],
        [encode_cursor([row.id]) for row in rows],
        limit=limit,
        after=after,
        count=counter(info.context.sessionmaker, trail.events(entity, key)),
    )
