"""The editing mutations: arguments to validated values, one transaction each, rows to payloads.

Each mutation runs in one transaction: the record, its change request, its audit event and the
duplicate flags commit together or not at all.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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
    LocationInput,
    LocationPayload,
    ProviderInput,
    ProviderPayload,
    ServiceInput,
    ServicePayload,
    WelfarePointInput,
    WelfarePointPayload,
)
from ambrogio.schema.types.inputs import LatLonInput
from ambrogio.schema.types.welfare_point import WelfarePoint
from ambrogio.validation import Known, Problems

Info = strawberry.Info[Context, None]
In = TypeVar("In")  # the GraphQL input of a kind of record
P = TypeVar("P")  # the payload the mutations of that kind answer with


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


def _location_keys(sent: dict[str, Any], problems: Problems) -> None:
    if isinstance(sent.get("location_ids"), list):
        before = len(problems.found)
        keys = [
            problems.check(ids.decode, raw, "Location", f"input.locationIds[{index}]")
            for index, raw in enumerate(sent["location_ids"])
        ]
        if len(problems.found) > before:
            del sent["location_ids"]  # reported; not checked again as ids
        else:
            sent["location_ids"] = [str(key) for key in keys]


async def _values(
    session: AsyncSession,
    info: Info,
    kind: Editable[Any, Any],
    sent: dict[str, Any],
    creating: bool,
    problems: Problems,
) -> inputs.Values:
    """The validated values, or every bad field of the input (with those of its ids)."""
    # Providers name no comune or category: spare them the reference data.
    known = Known() if kind.entity is Entity.PROVIDER else await load_known(session)
    rules = inputs.Rules(known, info.context.settings.territory_bbox)
    values = problems.check(kind.values, sent, rules, creating=creating)
    problems.raise_any()
    assert values is not None
    return values


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


def _request(outcome: Outcome) -> ChangeRequest | None:
    return ChangeRequest.from_row(outcome.change) if outcome.change is not None else None


def _provider_payload(outcome: Outcome, candidates: list[DuplicateCandidate]) -> ProviderPayload:
    assert isinstance(outcome.row, Organization)
    return ProviderPayload(
        provider=Provider.from_row(outcome.row),
        change_request=_request(outcome),
        duplicate_candidates=candidates,
    )


def _location_payload(outcome: Outcome, candidates: list[DuplicateCandidate]) -> LocationPayload:
    assert isinstance(outcome.row, LocationRow)
    return LocationPayload(
        location=Location.from_row(outcome.row),
        change_request=_request(outcome),
        duplicate_candidates=candidates,
    )


def _service_payload(outcome: Outcome, candidates: list[DuplicateCandidate]) -> ServicePayload:
    assert isinstance(outcome.row, ServiceRow)
    return ServicePayload(service=Service.from_row(outcome.row), change_request=_request(outcome))


def _welfare_point_payload(
    outcome: Outcome, candidates: list[DuplicateCandidate]
) -> WelfarePointPayload:
    assert isinstance(outcome.row, WelfarePointRow)
    return WelfarePointPayload(
        welfare_point=WelfarePoint.from_row(outcome.row), change_request=_request(outcome)
    )


@dataclass(frozen=True)
class Editable(Generic[In, P]):
    """A kind of record the editing mutations take: its input, how the input is validated,
    and the payload they answer with."""

    entity: Entity
    input: type[In]
    values: Callable[..., inputs.Values]
    payload: Callable[[Outcome, list[DuplicateCandidate]], P]


PROVIDER = Editable(Entity.PROVIDER, ProviderInput, inputs.provider_values, _provider_payload)
LOCATION = Editable(Entity.LOCATION, LocationInput, inputs.location_values, _location_payload)
SERVICE = Editable(Entity.SERVICE, ServiceInput, inputs.service_values, _service_payload)
WELFARE_POINT = Editable(
    Entity.WELFARE_POINT, WelfarePointInput, inputs.welfare_point_values, _welfare_point_payload
)


async def _run(
    info: Info,
    kind: Editable[Any, P],
    work: Callable[[AsyncSession, Editor], Awaitable[Outcome]],
    flag: bool = True,
) -> P:
    async with transaction(info) as (session, editor):
        outcome = await work(session, editor)
        candidates = await _duplicates(session, outcome) if flag else []
        return kind.payload(outcome, candidates)


async def create(info: Info, kind: Editable[In, P], input: In) -> P:
    sent = given(input)
    problems = Problems()
    provider = problems.check(_provider_key, sent, creating=True)
    _location_keys(sent, problems)

    async def work(session: AsyncSession, editor: Editor) -> Outcome:
        values = await _values(session, info, kind, sent, True, problems)
        return await changes.create(session, editor, kind.entity, values, provider)

    return await _run(info, kind, work)


async def update(
    info: Info, kind: Editable[In, P], id: strawberry.ID, version: int, input: In
) -> P:
    key = ids.decode(id, kind.entity.type_name, "id")
    sent = given(input)
    problems = Problems()
    problems.check(_provider_key, sent, creating=False)
    _location_keys(sent, problems)

    async def work(session: AsyncSession, editor: Editor) -> Outcome:
        values = await _values(session, info, kind, sent, False, problems)
        return await changes.update(session, editor, kind.entity, key, version, values)

    return await _run(info, kind, work)


async def archive(info: Info, kind: Editable[Any, P], id: strawberry.ID, version: int) -> P:
    key = ids.decode(id, kind.entity.type_name, "id")

    async def work(session: AsyncSession, editor: Editor) -> Outcome:
        return await changes.archive(session, editor, kind.entity, key, version)

    return await _run(info, kind, work, flag=False)
