"""Root fields of review (reviewers and admins): the queues, the audit trail and decisions."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ambrogio.context import Context
from ambrogio.editing.duplicates import DuplicateStatus
from ambrogio.editing.entities import ChangeStatus, Entity
from ambrogio.editing.freshness import FreshnessReason
from ambrogio.resolvers import review
from ambrogio.schema.permissions import CanReview
from ambrogio.schema.types.editing import ChangeRequest, DuplicateCandidate
from ambrogio.schema.types.inputs import After, First
from ambrogio.schema.types.node import Connection, Node
from ambrogio.schema.types.review import AuditEvent, FreshnessItem, MergePayload, ReviewPayload

Info = strawberry.Info[Context, None]

ROLES = " Reviewers and admins only (`FORBIDDEN` for others, `UNAUTHENTICATED` without a token)."
CHANGE_ID = "The change request's id (`ChangeRequest.id`); `NOT_FOUND` if there is none."


@strawberry.type
class ReviewQuery:
    @strawberry.field(
        description="Change requests with this status, oldest first." + ROLES,
        permission_classes=[CanReview],
    )
    async def change_requests(
        self,
        info: Info,
        status: Annotated[
            ChangeStatus,
            strawberry.argument(description="Only requests in this state; PENDING by default."),
        ] = ChangeStatus.PENDING,
        first: First = 20,
        after: After = None,
    ) -> Connection[ChangeRequest]:
        return await review.change_requests(info, status, first, after)

    @strawberry.field(
        description="Published records to check again: not verified for `olderThanMonths` "
        "months (default: the configured `AMBROGIO_FRESHNESS_MONTHS`), or whose opening hours "
        "or prices changed since their last verification. Oldest first." + ROLES,
        permission_classes=[CanReview],
    )
    async def freshness_queue(
        self,
        info: Info,
        older_than_months: Annotated[
            int | None,
            strawberry.argument(
                description="Due when not verified for this many months (1 or more); the "
                "configured `AMBROGIO_FRESHNESS_MONTHS` when omitted."
            ),
        ] = None,
        reason: Annotated[
            FreshnessReason | None, strawberry.argument(description="Only this reason.")
        ] = None,
        entity_type: Annotated[
            Entity | None, strawberry.argument(description="Only this kind of record.")
        ] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[FreshnessItem]:
        return await review.freshness_queue(
            info, older_than_months, reason, entity_type, first, after
        )

    @strawberry.field(
        description="Likely duplicate providers, in the order they were flagged." + ROLES,
        permission_classes=[CanReview],
    )
    async def duplicate_candidates(
        self,
        info: Info,
        status: Annotated[
            DuplicateStatus,
            strawberry.argument(description="Only pairs with this decision; OPEN by default."),
        ] = DuplicateStatus.OPEN,
        first: First = 20,
        after: After = None,
    ) -> Connection[DuplicateCandidate]:
        return await review.duplicate_candidates(info, status, first, after)

    @strawberry.field(
        description="Every change to one record, newest first. A provider's trail includes "
        "those of the providers merged into it (each event names its record); a merged-away "
        "provider's id gives its own trail." + ROLES,
        permission_classes=[CanReview],
    )
    async def audit_trail(
        self,
        info: Info,
        entity_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The global id of the record (archived and merged ones too)."
            ),
        ],
        first: First = 20,
        after: After = None,
    ) -> Connection[AuditEvent]:
        return await review.audit_trail(info, entity_id, first, after)


@strawberry.type
class ReviewMutation:
    @strawberry.mutation(
        description="Publish a pending change request: apply it (CONFLICT with `currentVersion` "
        "when the record moved on since the author's version) and mark the record verified."
        + ROLES,
        permission_classes=[CanReview],
    )
    async def publish_change(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=CHANGE_ID)],
    ) -> ReviewPayload:
        return await review.publish_change(info, id)

    @strawberry.mutation(
        description="Reject a pending change request, with a reason for its author; a rejected "
        "create archives its draft." + ROLES,
        permission_classes=[CanReview],
    )
    async def reject_change(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=CHANGE_ID)],
        reason: Annotated[
            str,
            strawberry.argument(
                description="Why, for the author to read (1–5,000 characters; required)."
            ),
        ],
    ) -> ReviewPayload:
        return await review.reject_change(info, id, reason)

    @strawberry.mutation(
        description="Merge `mergeId` into `keepId`: its locations and services move to the kept "
        "provider, it is archived, and its global id resolves to the kept provider." + ROLES,
        permission_classes=[CanReview],
    )
    async def merge_providers(
        self,
        info: Info,
        keep_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The provider that stays (a Provider global id)."),
        ],
        merge_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The provider merged away; not `keepId` (`BAD_USER_INPUT`)."
            ),
        ],
    ) -> MergePayload:
        return await review.merge_providers(info, keep_id, merge_id)

    @strawberry.mutation(
        description="Dismiss a duplicate candidate: the two are different providers; the pair "
        "is not flagged again." + ROLES,
        permission_classes=[CanReview],
    )
    async def dismiss_duplicate(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The pair's id (`DuplicateCandidate.id`)."),
        ],
    ) -> DuplicateCandidate:
        return await review.dismiss_duplicate(info, id)

    @strawberry.mutation(
        description="Mark a record verified now (checked against reality): it leaves the "
        "freshness queue. No edit: its version and updatedAt stay." + ROLES,
        permission_classes=[CanReview],
    )
    async def verify_record(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The global id of a Provider, Location, Service or WelfarePoint."
            ),
        ],
    ) -> Node:
        return await review.verify_record(info, id)
