"""Inputs and payloads of the editing mutations, change requests and duplicate candidates.

Update inputs: a field left out stays as it is; a field sent as null is cleared (where the
record allows it; lists become empty, flags take their default).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from ambrogio.db import models
from ambrogio.editing.duplicates import DuplicateReason, DuplicateStatus, candidate_global_id
from ambrogio.editing.entities import Action, ChangeStatus, Entity
from ambrogio.editing.review import change_global_id
from ambrogio.ids import to_global_id
from ambrogio.schema.types.catalogue import Location, Provider, Service
from ambrogio.schema.types.enums import (
    Delivery,
    PriceUnit,
    ProviderKind,
    TargetGroup,
    TuirCategory,
    described,
)
from ambrogio.schema.types.enums import WelfarePointKind as PointKind
from ambrogio.schema.types.inputs import LatLonInput
from ambrogio.schema.types.welfare_point import WelfarePoint

described(
    Entity,
    "A kind of record people edit.",
    {
        "PROVIDER": "A provider (an organization).",
        "LOCATION": "A provider's location.",
        "SERVICE": "A provider's service.",
        "WELFARE_POINT": "A welfare point.",
    },
    name="EditableType",
)
described(
    Action,
    "What a change request does.",
    {
        "CREATE": "Creates the record (a draft until published).",
        "UPDATE": "Changes some of its fields.",
        "ARCHIVE": "Withdraws it from the public.",
    },
    name="ChangeAction",
)
described(
    ChangeStatus,
    "PENDING until a reviewer decides; SUPERSEDED when withdrawn by its author "
    "or overtaken by a merge.",
    {
        "PENDING": "Waiting for a reviewer.",
        "PUBLISHED": "Accepted and applied.",
        "REJECTED": "Refused by a reviewer, with a reason.",
        "SUPERSEDED": "Withdrawn by its author, or overtaken by a merge.",
    },
)
described(
    DuplicateReason,
    "Why two providers look like one.",
    {
        "TAX_CODE": "The same valid codice fiscale or partita IVA.",
        "RUNTS_ID": "The same RUNTS (third-sector register) id.",
        "NAME_NEARBY": "Similar names, with locations close to each other.",
    },
)
described(
    DuplicateStatus,
    "A reviewer's decision on a duplicate pair.",
    {
        "OPEN": "Not decided yet.",
        "DISMISSED": "Not the same provider.",
        "MERGED": "Merged into one provider.",
    },
)

UNSET = strawberry.UNSET
POINT = (
    "WGS84 coordinates (geocode precision EXACT); null removes the point. Outside the "
    "configured territory the point is kept and flagged `outsideTerritory`."
)
HOURS = "OpenStreetMap `opening_hours`, e.g. `Mo-Fr 08:30-12:30; PH off`."


@strawberry.input(description="A provider's fields. On create, `name` and `kind` are required.")
class ProviderInput:
    name: str | None = UNSET
    kind: ProviderKind | None = UNSET
    tax_code: str | None = strawberry.field(
        default=UNSET, description="Codice fiscale (16 characters) or partita IVA (11 digits)."
    )
    runts_id: str | None = UNSET
    description: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = strawberry.field(
        default=UNSET, description="Italian unless it starts with a country prefix."
    )
    website: str | None = UNSET


@strawberry.input(description="A location's fields. On create, `providerId` is required.")
class LocationInput:
    provider_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The provider (create only; merge providers to move places)."
    )
    name: str | None = UNSET
    point: LatLonInput | None = strawberry.field(default=UNSET, description=POINT)
    address: str | None = UNSET
    cap: str | None = UNSET
    comune_istat: str | None = strawberry.field(default=UNSET, description="6-digit ISTAT code.")
    opening_hours: str | None = strawberry.field(default=UNSET, description=HOURS)
    wheelchair_accessible: bool | None = UNSET
    accessibility: str | None = UNSET


@strawberry.input(description="A price: `amount` in euro per `unit` (FREE: no amount or 0).")
class CostOptionInput:
    amount: float | None = None
    unit: PriceUnit
    description: str | None = None


@strawberry.input(
    description="A service's fields. On create, `providerId` and `name` are required. "
    "`categories`, `costOptions` and `locationIds` replace the whole list."
)
class ServiceInput:
    provider_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The provider (create only)."
    )
    name: str | None = UNSET
    description: str | None = UNSET
    categories: list[str] | None = strawberry.field(
        default=UNSET,
        description=(
            "Categories: slugs, Italian or English labels, or synonyms such as `badanti`; "
            "case and accents are ignored."
        ),
    )
    tuir_category: TuirCategory | None = UNSET
    welfare_eligible: bool | None = UNSET
    target_groups: list[TargetGroup] | None = UNSET
    min_age: int | None = UNSET
    max_age: int | None = UNSET
    languages: list[str] | None = strawberry.field(default=UNSET, description="ISO 639-1 codes.")
    delivery: list[Delivery] | None = UNSET
    cost_options: list[CostOptionInput] | None = UNSET
    service_area: JSON | None = strawberry.field(
        default=UNSET,
        description="A GeoJSON Polygon or MultiPolygon; an invalid polygon is refused with "
        "the reason, never repaired.",
    )
    service_area_comuni: list[str] | None = strawberry.field(
        default=UNSET, description="6-digit ISTAT codes the service reaches at home."
    )
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="The provider's locations where the service is offered."
    )


@strawberry.input(
    description="A welfare point's fields. On create, `name` and `kind` are required."
)
class WelfarePointInput:
    name: str | None = UNSET
    kind: PointKind | None = UNSET
    point: LatLonInput | None = strawberry.field(default=UNSET, description=POINT)
    address: str | None = UNSET
    cap: str | None = UNSET
    comune_istat: str | None = UNSET
    opening_hours: str | None = strawberry.field(default=UNSET, description=HOURS)
    phone: str | None = UNSET
    email: str | None = UNSET
    comuni_served: list[str] | None = strawberry.field(
        default=UNSET, description="6-digit ISTAT codes of the comuni the point serves."
    )


@strawberry.type(description="An edit waiting for (or decided by) a reviewer.")
class ChangeRequest:
    id: strawberry.ID
    entity_type: Entity
    entity_id: strawberry.ID = strawberry.field(description="The global id of the record.")
    action: Action
    base_version: int | None = strawberry.field(
        description="The record's version the author edited; publishing a change made on an "
        "older version is a CONFLICT."
    )
    payload: JSON = strawberry.field(description="The validated values, by column.")
    status: ChangeStatus
    author: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None = strawberry.field(description="Why it was rejected or superseded.")

    @classmethod
    def from_row(cls, row: models.ChangeRequest) -> ChangeRequest:
        entity = Entity(row.entity_type)
        return cls(
            id=strawberry.ID(change_global_id(row.id)),
            entity_type=entity,
            entity_id=strawberry.ID(to_global_id(entity.type_name, row.entity_id)),
            action=Action(row.action),
            base_version=row.base_version,
            payload=cast(JSON, row.payload),
            status=ChangeStatus(row.status),
            author=row.author,
            created_at=row.created_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            reason=row.reason,
        )


@strawberry.type(description="Two providers that look like one.")
class DuplicateCandidate:
    id: strawberry.ID
    provider_a: Provider
    provider_b: Provider
    reason: DuplicateReason
    similarity: float | None = strawberry.field(description="Name similarity (trigrams), 0–1.")
    distance_meters: float | None = strawberry.field(
        description="Between their nearest locations (NAME_NEARBY)."
    )
    score: float | None = strawberry.field(
        description="The summed weights of the field comparisons (flagged from 6.0 up; a shared "
        "tax code or RUNTS id is flagged whatever the score). Null for pairs flagged before "
        "scores were kept."
    )
    reasons: list[str] = strawberry.field(
        description="What decided the pair, strongest first: a hard rule, then each field "
        'compared with its weight, e.g. "12 m apart (+3.0)".'
    )
    status: DuplicateStatus
    detected_at: datetime
    decided_by: str | None
    decided_at: datetime | None

    @classmethod
    def from_row(
        cls, row: models.DuplicateCandidate, providers: dict[uuid.UUID, models.Organization]
    ) -> DuplicateCandidate:
        return cls(
            id=strawberry.ID(candidate_global_id(row.id)),
            provider_a=Provider.from_row(providers[row.provider_a]),
            provider_b=Provider.from_row(providers[row.provider_b]),
            reason=DuplicateReason(row.reason),
            similarity=row.similarity,
            distance_meters=row.distance_m,
            score=row.score,
            reasons=list(row.reasons or ()),
            status=DuplicateStatus(row.status),
            detected_at=row.detected_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
        )


CHANGE = (
    "The change request waiting for review when the caller does not publish directly (a "
    "mapper, an API key): the record then is unchanged, or a new draft. Null when applied."
)
DUPLICATES = "Open duplicate candidates of the provider: a warning, not an error."


@strawberry.type(
    description="What an edit of a provider did: the record, and the change "
    "request when it waits for review."
)
class ProviderPayload:
    provider: Provider = strawberry.field(description="The record as it is now, drafts included.")
    change_request: ChangeRequest | None = strawberry.field(description=CHANGE)
    duplicate_candidates: list[DuplicateCandidate] = strawberry.field(description=DUPLICATES)


@strawberry.type(
    description="What an edit of a location did: the record, and the change "
    "request when it waits for review."
)
class LocationPayload:
    location: Location = strawberry.field(description="The record as it is now, drafts included.")
    change_request: ChangeRequest | None = strawberry.field(description=CHANGE)
    duplicate_candidates: list[DuplicateCandidate] = strawberry.field(description=DUPLICATES)


@strawberry.type(
    description="What an edit of a service did: the record, and the change "
    "request when it waits for review."
)
class ServicePayload:
    service: Service = strawberry.field(description="The record as it is now, drafts included.")
    change_request: ChangeRequest | None = strawberry.field(description=CHANGE)


@strawberry.type(
    description="What an edit of a welfare point did: the record, and the "
    "change request when it waits for review."
)
class WelfarePointPayload:
    welfare_point: WelfarePoint = strawberry.field(
        description="The record as it is now, drafts included."
    )
    change_request: ChangeRequest | None = strawberry.field(description=CHANGE)
