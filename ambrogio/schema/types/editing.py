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
from ambrogio.schema.types.shared import ADDRESS, CAP, DESCRIPTION, NAME
from ambrogio.schema.types.welfare_point import WelfarePoint

described(
    Entity,
    "A kind of record people edit.",
    {
        "PROVIDER": "A provider (an organization).",
        "LOCATION": "A provider's location.",
        "SERVICE": "A provider's service.",
        "WELFARE_POINT": "A welfare hub or point of the network.",
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
INPUT_NAME = f"{NAME} Required on create; it cannot be cleared."
WHEELCHAIR = "Whether a wheelchair user can get in and use the place; null: not known."
ACCESSIBILITY = "Free text on access (steps, lifts, toilets, parking), up to 5,000 characters."


@strawberry.input(description="A provider's fields. On create, `name` and `kind` are required.")
class ProviderInput:
    name: str | None = strawberry.field(default=UNSET, description=INPUT_NAME)
    kind: ProviderKind | None = strawberry.field(
        default=UNSET, description="Its legal form. Required on create."
    )
    tax_code: str | None = strawberry.field(
        default=UNSET, description="Codice fiscale (16 characters) or partita IVA (11 digits)."
    )
    runts_id: str | None = strawberry.field(
        default=UNSET,
        description="Its number in RUNTS, the national register of third-sector bodies; two "
        "providers with the same one are flagged as duplicates.",
    )
    description: str | None = strawberry.field(default=UNSET, description=DESCRIPTION)
    email: str | None = strawberry.field(
        default=UNSET, description="An e-mail address; refused (`BAD_USER_INPUT`) if malformed."
    )
    phone: str | None = strawberry.field(
        default=UNSET, description="Italian unless it starts with a country prefix."
    )
    website: str | None = strawberry.field(
        default=UNSET,
        description="An http(s) URL; a bare host (`www.coop.it`) gets `https://`.",
    )


@strawberry.input(description="A location's fields. On create, `providerId` is required.")
class LocationInput:
    provider_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The provider (create only; merge providers to move places)."
    )
    name: str | None = strawberry.field(
        default=UNSET,
        description="The place's own name (`Sede di Lecco`), up to 200 characters; optional.",
    )
    point: LatLonInput | None = strawberry.field(default=UNSET, description=POINT)
    address: str | None = strawberry.field(default=UNSET, description=ADDRESS)
    cap: str | None = strawberry.field(default=UNSET, description=CAP)
    comune_istat: str | None = strawberry.field(default=UNSET, description="6-digit ISTAT code.")
    opening_hours: str | None = strawberry.field(default=UNSET, description=HOURS)
    wheelchair_accessible: bool | None = strawberry.field(default=UNSET, description=WHEELCHAIR)
    accessibility: str | None = strawberry.field(default=UNSET, description=ACCESSIBILITY)


@strawberry.input(description="A price: `amount` in euro per `unit` (FREE: no amount or 0).")
class CostOptionInput:
    amount: float | None = strawberry.field(
        default=None,
        description="The price in euros (0 or more, two decimals); null or 0 with FREE.",
    )
    unit: PriceUnit = strawberry.field(description="What the amount pays for.")
    description: str | None = strawberry.field(
        default=None,
        description="Conditions of this price (`with ISEE under 15,000 euros`), up to 5,000 "
        "characters.",
    )


@strawberry.input(
    description="A service's fields. On create, `providerId` and `name` are required. "
    "`categories`, `costOptions` and `locationIds` replace the whole list."
)
class ServiceInput:
    provider_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The provider (create only)."
    )
    name: str | None = strawberry.field(default=UNSET, description=INPUT_NAME)
    description: str | None = strawberry.field(default=UNSET, description=DESCRIPTION)
    categories: list[str] | None = strawberry.field(
        default=UNSET,
        description=(
            "Categories: slugs, Italian or English labels, or synonyms such as `badanti`; "
            "case and accents are ignored."
        ),
    )
    tuir_category: TuirCategory | None = strawberry.field(
        default=UNSET,
        description="The art. 51 TUIR category a company may pay it under tax-free; NONE when "
        "left out on create or sent as null.",
    )
    welfare_eligible: bool | None = strawberry.field(
        default=UNSET, description="Whether company welfare credit may pay for it."
    )
    target_groups: list[TargetGroup] | None = strawberry.field(
        default=UNSET, description="Who it is meant for (at most 250); empty: anybody."
    )
    min_age: int | None = strawberry.field(
        default=UNSET,
        description="Youngest age served, in years (0–120, inclusive); null: no lower limit.",
    )
    max_age: int | None = strawberry.field(
        default=UNSET,
        description="Oldest age served, in years (0–120, inclusive, not below `minAge`); "
        "null: no upper limit.",
    )
    languages: list[str] | None = strawberry.field(default=UNSET, description="ISO 639-1 codes.")
    delivery: list[Delivery] | None = strawberry.field(
        default=UNSET,
        description="How it reaches people; an AT_HOME service is found by `servicesReaching` "
        "through its `serviceArea` or `serviceAreaComuni`.",
    )
    cost_options: list[CostOptionInput] | None = strawberry.field(
        default=UNSET, description="Its prices (at most 250), replacing the whole list."
    )
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
    name: str | None = strawberry.field(default=UNSET, description=INPUT_NAME)
    kind: PointKind | None = strawberry.field(
        default=UNSET, description="HUB or POINT. Required on create."
    )
    point: LatLonInput | None = strawberry.field(default=UNSET, description=POINT)
    address: str | None = strawberry.field(default=UNSET, description=ADDRESS)
    cap: str | None = strawberry.field(default=UNSET, description=CAP)
    comune_istat: str | None = strawberry.field(
        default=UNSET, description="6-digit ISTAT code of the comune it lies in."
    )
    opening_hours: str | None = strawberry.field(default=UNSET, description=HOURS)
    phone: str | None = strawberry.field(
        default=UNSET, description="Italian unless it starts with a country prefix."
    )
    email: str | None = strawberry.field(
        default=UNSET, description="An e-mail address; refused (`BAD_USER_INPUT`) if malformed."
    )
    comuni_served: list[str] | None = strawberry.field(
        default=UNSET, description="6-digit ISTAT codes of the comuni the point serves."
    )


@strawberry.type(description="An edit waiting for (or decided by) a reviewer.")
class ChangeRequest:
    id: strawberry.ID = strawberry.field(
        description="The request's id, for `publishChange` and `rejectChange`."
    )
    entity_type: Entity = strawberry.field(description="The kind of record it edits.")
    entity_id: strawberry.ID = strawberry.field(description="The global id of the record.")
    action: Action = strawberry.field(description="Whether it creates, updates or archives.")
    base_version: int | None = strawberry.field(
        description="The record's version the author edited; publishing a change made on an "
        "older version is a CONFLICT."
    )
    payload: JSON = strawberry.field(description="The validated values, by column.")
    status: ChangeStatus = strawberry.field(description="Where it is in review.")
    author: str = strawberry.field(
        description="Who made the edit: a user's name, or an API key's name."
    )
    created_at: datetime = strawberry.field(description="When it was submitted (UTC).")
    decided_by: str | None = strawberry.field(
        description="The reviewer who published or rejected it; null while PENDING."
    )
    decided_at: datetime | None = strawberry.field(
        description="When it was decided (UTC); null while PENDING."
    )
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
    id: strawberry.ID = strawberry.field(
        description="The pair's id, for `dismissDuplicate` (or merge with `mergeProviders`)."
    )
    provider_a: Provider = strawberry.field(description="One provider of the pair.")
    provider_b: Provider = strawberry.field(description="The other provider of the pair.")
    reason: DuplicateReason = strawberry.field(description="The strongest rule that flagged it.")
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
    status: DuplicateStatus = strawberry.field(description="The reviewers' decision so far.")
    detected_at: datetime = strawberry.field(
        description="When the pair was flagged (UTC): on an edit or import of either provider."
    )
    decided_by: str | None = strawberry.field(
        description="The reviewer who dismissed or merged it; null while OPEN."
    )
    decided_at: datetime | None = strawberry.field(
        description="When it was decided (UTC); null while OPEN."
    )

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
