"""Types of the review queries: the freshness queue and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from ambrogio.db import models
from ambrogio.editing.entities import Entity
from ambrogio.editing.freshness import Due, FreshnessReason
from ambrogio.ids import to_global_id
from ambrogio.schema.types.catalogue import Provider
from ambrogio.schema.types.editing import ChangeRequest
from ambrogio.schema.types.enums import described
from ambrogio.schema.types.node import Node

described(
    FreshnessReason,
    "NOT_VERIFIED_SINCE: not verified (or, never verified, created) before the "
    "cut-off; HOURS_CHANGED / PRICES_CHANGED: opening hours or prices changed after the last "
    "verification.",
    {
        "NOT_VERIFIED_SINCE": "Not verified (or, never verified, created) before the cut-off.",
        "HOURS_CHANGED": "Its opening hours changed after the last verification.",
        "PRICES_CHANGED": "Its prices changed after the last verification.",
    },
)


@strawberry.type(description="A published record a reviewer should check again.")
class FreshnessItem:
    record: Node = strawberry.field(description="A Provider, Location, Service or WelfarePoint.")
    entity_type: Entity = strawberry.field(description="The kind of record.")
    reasons: list[FreshnessReason] = strawberry.field(
        description="Why it is due, one or more, strongest first."
    )
    verified_at: datetime | None = strawberry.field(
        description="Its last verification (UTC); null if it was never verified."
    )
    verified_by: str | None = strawberry.field(description="Who verified it last; null if never.")
    hours_changed_at: datetime | None = strawberry.field(
        description="When its opening hours last changed (UTC); null if never since created."
    )
    prices_changed_at: datetime | None = strawberry.field(
        description="When its prices last changed (UTC, services); null if never or not a service."
    )

    @classmethod
    def of(cls, due: Due, record: Node) -> FreshnessItem:
        return cls(
            record=record,
            entity_type=due.entity,
            reasons=list(due.reasons),
            verified_at=due.verified_at,
            verified_by=due.verified_by,
            hours_changed_at=due.hours_changed_at,
            prices_changed_at=due.prices_changed_at,
        )


@strawberry.type(description="One change to one record: who, when, before and after.")
class AuditEvent:
    id: strawberry.ID = strawberry.field(description="Global id of the event.")
    at: datetime = strawberry.field(description="When the change was written (UTC).")
    actor: str = strawberry.field(description="A user's name, or `key:<prefix>:<name>`.")
    action: str = strawberry.field(
        description="create, update, archive, publish, reject, verify, merge, or an import's."
    )
    entity_type: str = strawberry.field(
        description="The kind of record: provider, location, service, welfare_point, need, "
        "api_key, import_job, reservation."
    )
    entity_id: strawberry.ID = strawberry.field(description="The global id of the record.")
    before: JSON | None = strawberry.field(description="The record before, by column.")
    after: JSON | None = strawberry.field(description="The record after, by column.")
    request_id: str | None = strawberry.field(
        description="The HTTP request that made it (`X-Request-ID`, also in the access log); "
        "null for changes made from the command line."
    )

    @classmethod
    def from_row(cls, row: models.AuditEvent) -> AuditEvent:
        entity = Entity.__members__.get(row.entity_type.upper())
        type_name = entity.type_name if entity is not None else row.entity_type
        return cls(
            id=strawberry.ID(to_global_id("AuditEvent", str(row.id))),
            at=row.at,
            actor=row.actor,
            action=row.action,
            entity_type=row.entity_type,
            entity_id=strawberry.ID(to_global_id(type_name, row.entity_id)),
            before=cast(JSON, row.before),
            after=cast(JSON, row.after),
            request_id=row.request_id,
        )


@strawberry.type(description="A reviewer's decision on a change request, and the record after it.")
class ReviewPayload:
    change_request: ChangeRequest = strawberry.field(
        description="The request, now PUBLISHED or REJECTED."
    )
    record: Node = strawberry.field(
        description="The record after the decision (a rejected create: archived)."
    )


@strawberry.type(description="Two providers merged into one, and what moved.")
class MergePayload:
    provider: Provider = strawberry.field(description="The provider kept.")
    merged: Provider = strawberry.field(
        description="The provider merged away: archived; its id now resolves to `provider`."
    )
    moved_locations: int = strawberry.field(
        description="Locations moved from the merged provider to the one kept."
    )
    moved_services: int = strawberry.field(
        description="Services moved from the merged provider to the one kept."
    )
