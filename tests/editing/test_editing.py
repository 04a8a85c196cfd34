"""Editing mutations: who may edit, validation that writes nothing, versions, audit, hours."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ambrogio.auth.keys import create_key
from ambrogio.auth.permissions import Scope
from ambrogio.ids import from_global_id
from tests.support.editing import (
    AUDIT,
    CREATE_LOCATION,
    CREATE_PROVIDER,
    CREATE_SERVICE,
    CREATE_WELFARE_POINT,
    LECCO,
    LECCO_POINT,
    MERATE,
    NODE,
    PROVIDERS_BY_TEXT,
    PUBLISH,
    UPDATE_LOCATION,
    UPDATE_PROVIDER,
    UPDATE_SERVICE,
    counts,
    create_location,
    create_provider,
    delete_test_records,
    unique_name,
)

ROME = ZoneInfo("Europe/Rome")
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[9.3, 45.8], [9.4, 45.9], [9.4, 45.8], [9.3, 45.9], [9.3, 45.8]]],
}

SERVICES_OPEN_AT = """
query Open($text: String!, $at: DateTime!) {
  services(text: $text, filter: {openAt: $at}) { edges { node { id } } }
}
"""


@pytest.fixture(scope="module", autouse=True)
async def cleanup(engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    await delete_test_records(engine)


@pytest.fixture
async def reviewer(login: Any) -> dict[str, str]:
    headers: dict[str, str] = await login("edit-reviewer", "reviewer")
    return headers


@pytest.fixture
async def mapper(login: Any) -> dict[str, str]:
    headers: dict[str, str] = await login("edit-mapper", "mapper")
    return headers


@pytest.fixture
async def provider(gql: Any, reviewer: dict[str, str]) -> dict[str, Any]:
    """A published provider, made by a reviewer."""
    created = await create_provider(gql, reviewer)
    provider: dict[str, Any] = created["provider"]
    return provider


async def _key_headers(
    sessionmaker: async_sessionmaker[AsyncSession], scopes: list[Scope]
) -> dict[str, str]:
    async with sessionmaker() as session:
        key = await create_key(session, "editing-test-client", scopes, created_by="tests")
        await session.commit()
    return {"X-API-Key": key.key}


# --- who may edit --------------------------------------------------------------------------


async def test_anonymous_callers_cannot_edit(gql: Any, provider: dict[str, Any]) -> None:
    # given no credentials, when editing, then UNAUTHENTICATED and nothing is written
    created = await gql(CREATE_PROVIDER, input={"name": unique_name("anon"), "kind": "BUSINESS"})
    updated = await gql(UPDATE_PROVIDER, id=provider["id"], version=1, input={"name": "x"})
    assert created.codes == ["UNAUTHENTICATED"]
    assert updated.codes == ["UNAUTHENTICATED"]
    assert created.data is None and updated.data is None


async def test_an_api_key_needs_the_edit_scope(
    gql: Any, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    reader = await _key_headers(sessionmaker, [Scope.READ])
    editor = await _key_headers(sessionmaker, [Scope.EDIT])
    values = {"name": unique_name("keyed"), "kind": "BUSINESS"}

    refused = await gql(CREATE_PROVIDER, _headers=reader, input=values)
    accepted = await gql(CREATE_PROVIDER, _headers=editor, input=values)

    assert refused.codes == ["FORBIDDEN"]
    assert not accepted.errors
    payload = accepted.data["createProvider"]
    # An API key does not review: its record is a draft waiting for a reviewer.
    assert payload["provider"]["status"] == "DRAFT"
    assert payload["changeRequest"]["action"] == "CREATE"
    assert payload["changeRequest"]["author"].startswith("key:")


async def test_a_limited_mapper_edits_only_in_their_comuni(
    gql: Any, login: Any, reviewer: dict[str, str], engine: AsyncEngine
) -> None:
    # given a mapper of the Merate hub, a provider in Lecco and one in Merate
    async with engine.connect() as conn:
        hub = await conn.scalar(
            text("SELECT id FROM welfare_point WHERE :merate = ANY(comuni_served) LIMIT 1"),
            {"merate": MERATE},
        )
        served = await conn.scalar(
            text("SELECT comuni_served FROM welfare_point WHERE id = :id"), {"id": hub}
        )
    assert MERATE in served and LECCO not in served
    limited = await login("edit-merate-mapper", "mapper", welfare_point_id=hub)
    lecco = (await create_provider(gql, reviewer))["provider"]
    await create_location(gql, reviewer, lecco["id"], comuneIstat=LECCO)
    merate = (await create_provider(gql, reviewer))["provider"]
    await create_location(
        gql, reviewer, merate["id"], comuneIstat=MERATE, point={"lat": 45.7027, "lon": 9.4186}
    )

    # when the mapper edits each, and adds a location in Lecco
    elsewhere = await gql(
        UPDATE_PROVIDER,
        _headers=limited,
        id=lecco["id"],
        version=1,
        input={"description": "changed from Merate"},
    )
    own = await gql(
        UPDATE_PROVIDER,
        _headers=limited,
        id=merate["id"],
        version=1,
        input={"description": "changed from Merate"},
    )
    place = await gql(
        CREATE_LOCATION, _headers=limited, input={"providerId": merate["id"], "comuneIstat": LECCO}
    )

    # then only the edit in Merate goes through, as a change request
    assert elsewhere.codes == ["FORBIDDEN"]
    assert "comuni of their welfare point" in elsewhere.errors[0]["message"]
    assert not own.errors
    assert own.data["updateProvider"]["changeRequest"]["status"] == "PENDING"
    assert place.codes == ["FORBIDDEN"]
    service = await gql(
        CREATE_SERVICE,
        _headers=limited,
        input={"providerId": lecco["id"], "name": unique_name("fuori zona")},
    )
    assert service.codes == ["FORBIDDEN"]


# --- validation ----------------------------------------------------------------------------

BAD_PROVIDERS = [
    ({"taxCode": "RSSMRA80A01F205A"}, "input.taxCode", "RSSMRA80A01F205A"),
    ({"phone": "12"}, "input.phone", "12"),
    ({"email": "not-an-address"}, "input.email", "not-an-address"),
    ({"website": "ftp://coop.example.it"}, "input.website", "ftp://coop.example.it"),
    ({"name": "   "}, "input.name", "   "),
]


@pytest.mark.parametrize(("fields", "field", "value"), BAD_PROVIDERS)
async def test_bad_provider_input_names_field_and_value_and_writes_nothing(
    gql: Any,
    reviewer: dict[str, str],
    engine: AsyncEngine,
    fields: dict[str, Any],
    field: str,
    value: str,
) -> None:
    before = await counts(engine)
    values = {"name": unique_name("bad"), "kind": "ASSOCIATION", **fields}

    result = await gql(CREATE_PROVIDER, _headers=reviewer, input=values)

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == field
    assert result.errors[0]["extensions"]["value"] == value
    assert await counts(engine) == before


BAD_LOCATIONS = [
    ({"point": {"lat": 200, "lon": 9.39}}, "input.point.lat", 200, "between -90 and 90"),
    ({"comuneIstat": "999999"}, "input.comuneIstat", "999999", "not a comune"),
    ({"openingHours": "Mo-Fr 08:00-"}, "input.openingHours", "Mo-Fr 08:00-", "opening_hours"),
    ({"cap": "2390"}, "input.cap", "2390", "CAP"),
]


@pytest.mark.parametrize(("fields", "field", "value", "reason"), BAD_LOCATIONS)
async def test_bad_location_input_names_field_and_value_and_writes_nothing(
    gql: Any,
    reviewer: dict[str, str],
    engine: AsyncEngine,
    provider: dict[str, Any],
    fields: dict[str, Any],
    field: str,
    value: Any,
    reason: str,
) -> None:
    before = await counts(engine)

    result = await gql(
        CREATE_LOCATION, _headers=reviewer, input={"providerId": provider["id"], **fields}
    )

    assert result.codes == ["BAD_USER_INPUT"]
    error = result.errors[0]
    assert (error["extensions"]["field"], error["extensions"]["value"]) == (field, value)
    assert reason in error["message"]
    assert await counts(engine) == before


BAD_SERVICES = [
    ({"serviceArea": BOWTIE}, "input.serviceArea", "Polygon", "Self-intersection"),
    (
        {"categories": ["assistenza-e-cura", "no-such-category"]},
        "input.categories[1]",
        "no-such-category",
        "not a known category",
    ),
    ({"serviceAreaComuni": ["097042", "123"]}, "input.serviceAreaComuni[1]", "123", "ISTAT"),
    ({"minAge": 70, "maxAge": 18}, "input.minAge", 70, "above"),
    ({"languages": ["xx"]}, "input.languages[0]", "xx", "ISO 639-1"),
    ({"costOptions": [{"amount": 12, "unit": "FREE"}]}, "input.costOptions[0].amount", 12, "FREE"),
]


@pytest.mark.parametrize(("fields", "field", "value", "reason"), BAD_SERVICES)
async def test_bad_service_input_names_field_and_value_and_writes_nothing(
    gql: Any,
    reviewer: dict[str, str],
    engine: AsyncEngine,
    provider: dict[str, Any],
    fields: dict[str, Any],
    field: str,
    value: Any,
    reason: str,
) -> None:
    before = await counts(engine)
    values = {"providerId": provider["id"], "name": unique_name("service"), **fields}

    result = await gql(CREATE_SERVICE, _headers=reviewer, input=values)

    assert result.codes == ["BAD_USER_INPUT"]
    error = result.errors[0]
    assert (error["extensions"]["field"], error["extensions"]["value"]) == (field, value)
    assert reason in error["message"]
    assert await counts(engine) == before


async def test_an_update_checks_ages_against_the_stored_ones(
    gql: Any, reviewer: dict[str, str], provider: dict[str, Any], engine: AsyncEngine
) -> None:
    created = await gql(
        CREATE_SERVICE,
        _headers=reviewer,
        input={
            "providerId": provider["id"],
            "name": unique_name("ages"),
            "minAge": 0,
            "maxAge": 17,
        },
    )
    service = created.data["createService"]["service"]
    before = await counts(engine)

    result = await gql(
        UPDATE_SERVICE, _headers=reviewer, id=service["id"], version=1, input={"minAge": 65}
    )

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == "input.minAge"
    assert await counts(engine) == before


async def test_a_point_outside_the_territory_is_kept_and_flagged(
    gql: Any, reviewer: dict[str, str], provider: dict[str, Any]
) -> None:
    milan = {"lat": 45.4642, "lon": 9.19}
    created = await create_location(gql, reviewer, provider["id"], comuneIstat=None, point=milan)
    location = created["location"]
    assert location["outsideTerritory"] is True
    assert (location["lat"], location["lon"]) == (milan["lat"], milan["lon"])
    assert location["geocodePrecision"] == "EXACT"


# --- a reviewer's edits --------------------------------------------------------------------


async def test_a_reviewers_service_is_published_with_its_lists(
    gql: Any, reviewer: dict[str, str], provider: dict[str, Any]
) -> None:
    place = (await create_location(gql, reviewer, provider["id"]))["location"]
    area = {
        "type": "Polygon",
        "coordinates": [[[9.3, 45.8], [9.4, 45.8], [9.4, 45.9], [9.3, 45.8]]],
    }
    result = await gql(
        CREATE_SERVICE,
        _headers=reviewer,
        input={
            "providerId": provider["id"],
            "name": unique_name("care"),
            "categories": ["assistenza-e-cura"],
            "targetGroups": ["ELDERLY"],
            "delivery": ["AT_HOME", "ON_SITE"],
            "languages": ["it", "EN"],
            "welfareEligible": True,
            "costOptions": [{"amount": 18.5, "unit": "HOUR", "description": "feriale"}],
            "serviceArea": area,
            "serviceAreaComuni": [LECCO],
            "locationIds": [place["id"]],
        },
    )
    assert not result.errors, result.errors
    payload = result.data["createService"]
    service = payload["service"]
    assert payload["changeRequest"] is None
    assert service["status"] == "PUBLISHED" and service["version"] == 1
    assert [c["slug"] for c in service["categories"]] == ["assistenza-e-cura"]
    assert service["costOptions"] == [{"amount": 18.5, "unit": "HOUR", "description": "feriale"}]
    assert service["languages"] == ["it", "en"]
    assert service["locations"] == [{"id": place["id"]}]
    assert service["serviceArea"]["type"] == "MultiPolygon"
    assert service["serviceAreaComuni"] == [{"istatCode": LECCO}]


async def test_a_stale_version_is_a_conflict_with_the_current_version(
    gql: Any, reviewer: dict[str, str], provider: dict[str, Any], engine: AsyncEngine
) -> None:
    first = await gql(
        UPDATE_PROVIDER,
        _headers=reviewer,
        id=provider["id"],
        version=1,
        input={"description": "first"},
    )
    assert first.data["updateProvider"]["provider"]["version"] == 2
    before = await counts(engine)

    stale = await gql(
        UPDATE_PROVIDER,
        _headers=reviewer,
        id=provider["id"],
        version=1,
        input={"description": "second"},
    )

    assert stale.codes == ["CONFLICT"]
    assert stale.errors[0]["extensions"]["currentVersion"] == 2
    assert "version 1 is stale" in stale.errors[0]["message"]
    assert await counts(engine) == before


async def test_concurrent_edits_of_one_version_let_exactly_one_through(
    gql: Any, reviewer: dict[str, str], provider: dict[str, Any]
) -> None:
    edits = [
        gql(
            UPDATE_PROVIDER,
            _headers=reviewer,
            id=provider["id"],
            version=1,
            input={"description": f"edit {number}"},
        )
        for number in range(4)
    ]

    results = await asyncio.gather(*edits)

    assert sorted(tuple(result.codes) for result in results) == [()] + [("CONFLICT",)] * 3
    winner = next(result for result in results if not result.errors)
    assert winner.data["updateProvider"]["provider"]["version"] == 2


async def test_every_write_is_in_the_audit_trail_with_before_and_after(
    gql: Any, reviewer: dict[str, str], provider: dict[str, Any]
) -> None:
    updated = await gql(
        UPDATE_PROVIDER,
        _headers=reviewer,
        id=provider["id"],
        version=1,
        input={"phone": "0341 123456", "website": None},
    )
    assert not updated.errors
    assert updated.data["updateProvider"]["provider"]["phone"] == "+390341123456"

    trail = await gql(AUDIT, _headers=reviewer, id=provider["id"])

    events = [edge["node"] for edge in trail.data["auditTrail"]["edges"]]
    assert [event["action"] for event in events] == ["update", "create"]
    update, create = events
    assert update["actor"] == "edit-reviewer" and update["entityId"] == provider["id"]
    assert update["before"]["version"] == 1 and update["after"]["version"] == 2
    assert update["before"]["phone"] is None and update["after"]["phone"] == "+390341123456"
    assert update["requestId"]
    assert create["before"] is None and create["after"]["name"] == provider["name"]


async def test_audit_trail_is_for_reviewers(
    gql: Any, mapper: dict[str, str], provider: dict[str, Any]
) -> None:
    assert (await gql(AUDIT, _headers=mapper, id=provider["id"])).codes == ["FORBIDDEN"]
    assert (await gql(AUDIT, id=provider["id"])).codes == ["UNAUTHENTICATED"]


async def test_unknown_record_is_not_found(gql: Any, reviewer: dict[str, str]) -> None:
    missing = "UHJvdmlkZXI6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"
    assert from_global_id(missing)[0] == "Provider"
    result = await gql(
        UPDATE_PROVIDER, _headers=reviewer, id=missing, version=1, input={"name": "x"}
    )
    assert result.codes == ["NOT_FOUND"]


# --- a mapper's edits ----------------------------------------------------------------------


async def test_a_mappers_update_waits_for_review_and_publishing_applies_it(
    gql: Any, mapper: dict[str, str], reviewer: dict[str, str], provider: dict[str, Any]
) -> None:
    # when a mapper updates a published provider
    proposed = await gql(
        UPDATE_PROVIDER,
        _headers=mapper,
        id=provider["id"],
        version=1,
        input={"description": "Assistenza domiciliare"},
    )

    # then the record is unchanged and a change request waits
    payload = proposed.data["updateProvider"]
    change = payload["changeRequest"]
    assert payload["provider"]["version"] == 1
    assert (change["action"], change["baseVersion"], change["status"]) == ("UPDATE", 1, "PENDING")
    assert change["payload"] == {"description": "Assistenza domiciliare"}
    # and the mapper cannot publish it
    assert (await gql(PUBLISH, _headers=mapper, id=change["id"])).codes == ["FORBIDDEN"]

    # when a reviewer publishes it, the record changes and counts as verified
    published = await gql(PUBLISH, _headers=reviewer, id=change["id"])
    assert not published.errors, published.errors
    record = published.data["publishChange"]["record"]
    assert (record["version"], record["verifiedBy"]) == (2, "edit-reviewer")
    assert published.data["publishChange"]["changeRequest"]["status"] == "PUBLISHED"
    again = await gql(PUBLISH, _headers=reviewer, id=change["id"])
    assert again.codes == ["CONFLICT"]


async def test_publishing_a_stale_change_is_a_conflict(
    gql: Any, mapper: dict[str, str], reviewer: dict[str, str], provider: dict[str, Any]
) -> None:
    proposed = await gql(
        UPDATE_PROVIDER,
        _headers=mapper,
        id=provider["id"],
        version=1,
        input={"description": "from the mapper"},
    )
    change = proposed.data["updateProvider"]["changeRequest"]
    await gql(
        UPDATE_PROVIDER,
        _headers=reviewer,
        id=provider["id"],
        version=1,
        input={"description": "from the reviewer"},
    )

    result = await gql(PUBLISH, _headers=reviewer, id=change["id"])

    assert result.codes == ["CONFLICT"]
    assert result.errors[0]["extensions"]["currentVersion"] == 2


async def test_a_mapper_corrects_their_own_draft_directly(
    gql: Any, mapper: dict[str, str], reviewer: dict[str, str]
) -> None:
    created = await create_provider(gql, mapper, kind="ASSOCIATION")
    draft = created["provider"]

    corrected = await gql(
        UPDATE_PROVIDER,
        _headers=mapper,
        id=draft["id"],
        version=1,
        input={"email": "info@example.org"},
    )

    payload = corrected.data["updateProvider"]
    assert payload["provider"]["version"] == 2 and payload["provider"]["status"] == "DRAFT"
    assert payload["provider"]["email"] == "info@example.org"
    # the create request carries the correction; publishing it publishes the draft
    assert payload["changeRequest"]["id"] == created["changeRequest"]["id"]
    assert payload["changeRequest"]["payload"]["email"] == "info@example.org"
    published = await gql(PUBLISH, _headers=reviewer, id=created["changeRequest"]["id"])
    assert published.data["publishChange"]["record"]["status"] == "PUBLISHED"


async def test_drafts_stay_private_until_published(
    gql: Any, mapper: dict[str, str], reviewer: dict[str, str]
) -> None:
    name = unique_name("Ippocastano")
    created = await create_provider(gql, mapper, name=name)
    provider_id = created["provider"]["id"]

    hidden = await gql(NODE, id=provider_id)
    listed = await gql(PROVIDERS_BY_TEXT, text=name)
    assert hidden.codes == ["NOT_FOUND"]
    assert provider_id not in [edge["node"]["id"] for edge in listed.data["providers"]["edges"]]

    await gql(PUBLISH, _headers=reviewer, id=created["changeRequest"]["id"])

    shown = await gql(NODE, id=provider_id)
    listed = await gql(PROVIDERS_BY_TEXT, text=name)
    assert shown.data["node"]["status"] == "PUBLISHED"
    assert provider_id in [edge["node"]["id"] for edge in listed.data["providers"]["edges"]]


async def test_welfare_points_are_edited_too(
    gql: Any, reviewer: dict[str, str], mapper: dict[str, str]
) -> None:
    values = {
        "name": unique_name("punto"),
        "kind": "POINT",
        "comuneIstat": LECCO,
        "point": LECCO_POINT,
        "openingHours": "Mo-Fr 09:00-12:00",
    }
    by_reviewer = await gql(CREATE_WELFARE_POINT, _headers=reviewer, input=values)
    by_mapper = await gql(CREATE_WELFARE_POINT, _headers=mapper, input=values)
    assert by_reviewer.data["createWelfarePoint"]["welfarePoint"]["status"] == "PUBLISHED"
    assert by_mapper.data["createWelfarePoint"]["welfarePoint"]["status"] == "DRAFT"
    assert by_mapper.data["createWelfarePoint"]["changeRequest"]["action"] == "CREATE"
    missing_kind = await gql(
        CREATE_WELFARE_POINT, _headers=reviewer, input={"name": unique_name("punto")}
    )
    assert missing_kind.codes == ["BAD_USER_INPUT"]
    assert missing_kind.errors[0]["extensions"]["field"] == "input.kind"


# --- opening hours -------------------------------------------------------------------------


async def test_open_at_follows_edited_opening_hours(
    gql: Any, reviewer: dict[str, str], provider: dict[str, Any]
) -> None:
    # given a service offered at a location open 10-11 every day
    place = (
        await create_location(gql, reviewer, provider["id"], openingHours="Mo-Su 10:00-11:00")
    )["location"]
    name = unique_name("Quercianella")
    await gql(
        CREATE_SERVICE,
        _headers=reviewer,
        input={"providerId": provider["id"], "name": name, "locationIds": [place["id"]]},
    )
    tomorrow = (datetime.now(ROME) + timedelta(days=1)).date()
    morning = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, 30, tzinfo=ROME)
    afternoon = morning.replace(hour=15)

    async def open_at(at: datetime) -> bool:
        result = await gql(SERVICES_OPEN_AT, text=name, at=at.isoformat())
        assert not result.errors, result.errors
        return bool(result.data["services"]["edges"])

    assert await open_at(morning) and not await open_at(afternoon)

    # when the hours move to the afternoon
    moved = await gql(
        UPDATE_LOCATION,
        _headers=reviewer,
        id=place["id"],
        version=1,
        input={"openingHours": "Mo-Su 14:00-16:00"},
    )
    assert not moved.errors, moved.errors

    # then openAt follows at once
    assert await open_at(afternoon) and not await open_at(morning)


async def test_audit_of_a_mapper_create_names_the_mapper(
    gql: Any, mapper: dict[str, str], reviewer: dict[str, str], engine: AsyncEngine
) -> None:
    created = await create_provider(gql, mapper)
    _, key = from_global_id(created["provider"]["id"])
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT actor, action FROM audit_event WHERE entity_id = :id"), {"id": key}
            )
        ).all()
    assert [tuple(row) for row in rows] == [("edit-mapper", "create")]


async def test_created_location_payload(
    gql: Any, reviewer: dict[str, str], provider: dict[str, Any]
) -> None:
    created = await gql(
        CREATE_LOCATION,
        _headers=reviewer,
        input={
            "providerId": provider["id"],
            "address": "Via Roma 1",
            "cap": "23900",
            "comuneIstat": LECCO,
            "point": LECCO_POINT,
        },
    )
    location = created.data["createLocation"]["location"]
    assert (location["address"], location["cap"], location["version"]) == ("Via Roma 1", "23900", 1)
    assert location["outsideTerritory"] is False
