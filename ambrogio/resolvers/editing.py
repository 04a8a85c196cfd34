"""The editing mutations: arguments to validated values, one transaction each, rows to payloads.

Each mutation runs in one transaction: the record, its change request, its audit event and the
duplicate flags commit together or not at all.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio import ids
from ambrogio.context import Context
from ambrogio.db.known import load_known
from ambrogio.db.models import Location as LocationRow
from ambrogio.db.models import Organization
from ambrogio.db.models import Service as ServiceRow
from ambrogio.db.models import WelfarePoint as WelfarePointRow
from ambrogio.editing import changes, duplicates, inputs
from ambrogio.editing.changes import Editor, Outcome
from ambrogio.editing.entities import Entity
from ambrogio.errors import BadUserInput
from ambrogio.schema.types.catalogue import Location, Provider, Service
from ambrogio.schema.types.editing import (
    ChangeRequest,
    CostOptionInput,
    DuplicateCandidate,
    LocationPayload,
    ProviderPayload,
    ServicePayload,
    WelfarePointPayload,
)
from ambrogio.schema.types.inputs import LatLonInput
from ambrogio.schema.types.welfare_point import WelfarePoint
from ambrogio.validation import Known

Info = strawberry.Info[Context, None]
Payload = ProviderPayload | LocationPayload | ServicePayload | WelfarePointPayload

VALUES: dict[Entity, Callable[..., inputs.Values]] = {
    Entity.PROVIDER: inputs.provider_values,
    Entity.LOCATION: inputs.location_values,
    Entity.SERVICE: inputs.service_values,
    Entity.WELFARE_POINT: inputs.welfare_point_values,
}


@asynccontextmanager
async def transaction(info: Info) -> AsyncIterator[tuple[AsyncSession, Editor]]:
    context = info.context
    async with context.sessionmaker() as session, session.begin():
        yield session, Editor(context.caller, context.request_id)


def _plain(value: Any) -> Any:
    if isinstance(value, LatLonInput):
        return {"lat": value.lat, "lon": value.lon}
    if isinstance(value, CostOptionInput):
        return {"amount": value.amount, "unit": value.unit, "description": value.description}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def given(input: object) -> dict[str, Any]:
    """The fields the client sent (null included), by Python name; nested inputs as dicts."""
    assert dataclasses.is_dataclass(input)
    sent: dict[str, Any] = {}
    for field in dataclasses.fields(input):
        value = getattr(input, field.name)
        if value is not strawberry.UNSET:
            sent[field.name] = _plain(value)
    return sent


def _provider_key(sent: dict[str, Any], creating: bool) -> uuid.UUID | None:
    if "provider_id" not in sent:
        return None
    raw = sent.pop("provider_id")
    if not creating:
        raise BadUserInput(
            "input.providerId", raw, "cannot change: merge providers to move their records"
        )
    return ids.decode(raw, "Provider", "input.providerId") if raw is not None else None


def _location_keys(sent: dict[str, Any]) -> None:
    if isinstance(sent.get("location_ids"), list):
        sent["location_ids"] = [
            str(ids.decode(raw, "Location", f"input.locationIds[{index}]"))
            for index, raw in enumerate(sent["location_ids"])
        ]


async def _values(
    session: AsyncSession, info: Info, entity: Entity, sent: dict[str, Any], creating: bool
) -> inputs.Values:
    # Providers name no comune or category: spare them the reference data.
    known = Known() if entity is Entity.PROVIDER else await load_known(session)
    rules = inputs.Rules(known, info.context.settings.territory_bbox)
    return VALUES[entity](sent, rules, creating=creating)


async def _duplicates(session: AsyncSession, outcome: Outcome) -> list[DuplicateCandidate]:
    row = outcome.row
    if isinstance(row, Organization):
        provider = row.id
    elif isinstance(row, LocationRow):
        provider = row.organization_id
    else:
        return []
    pairs = await duplicates.flag(session, [provider])
    rows = await duplicates.providers(session, pairs)
    return [DuplicateCandidate.from_row(pair, rows) for pair in pairs]


def _payload(outcome: Outcome, candidates: list[DuplicateCandidate]) -> Payload:
    row, change = outcome.row, outcome.change
    request = ChangeRequest.from_row(change) if change is not None else None
    if isinstance(row, Organization):
        return ProviderPayload(
            provider=Provider.from_row(row), change_request=request, duplicate_candidates=candidates
        )
    if isinstance(row, LocationRow):
        return LocationPayload(
            location=Location.from_row(row), change_request=request, duplicate_candidates=candidates
        )
    if isinstance(row, ServiceRow):
        return ServicePayload(service=Service.from_row(row), change_request=request)
    assert isinstance(row, WelfarePointRow)
    return WelfarePointPayload(welfare_point=WelfarePoint.from_row(row), change_request=request)


async def _run(
    info: Info, work: Callable[[AsyncSession, Editor], Awaitable[Outcome]], flag: bool = True
) -> Payload:
    async with transaction(info) as (session, editor):
        outcome = await work(session, editor)
        candidates = await _duplicates(session, outcome) if flag else []
        return _payload(outcome, candidates)


async def create(info: Info, entity: Entity, input: object) -> Payload:
    sent = given(input)
    provider = _provider_key(sent, creating=True)
    _location_keys(sent)

    async def work(session: AsyncSession, editor: Editor) -> Outcome:
        values = await _values(session, info, entity, sent, creating=True)
        return await changes.create(session, editor, entity, values, provider)

    return await _run(info, work)


async def update(
    info: Info, entity: Entity, id: strawberry.ID, version: int, input: object
) -> Payload:
    key = ids.decode(id, entity.type_name, "id")
    sent = given(input)
    _provider_key(sent, creating=False)
    _location_keys(sent)

    async def work(session: AsyncSession, editor: Editor) -> Outcome:
        values = await _values(session, info, entity, sent, creating=False)
        return await changes.update(session, editor, entity, key, version, values)

    return await _run(info, work)


async def archive(info: Info, entity: Entity, id: strawberry.ID, version: int) -> Payload:
    key = ids.decode(id, entity.type_name, "id")

    async def work(session: AsyncSession, editor: Editor) -> Outcome:
        return await changes.archive(session, editor, entity, key, version)

    return await _run(info, work, flag=False)
