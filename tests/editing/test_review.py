"""Review: rejecting, merging, the freshness queue, duplicate candidates, verification."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import from_global_id
from tests.support.editing import (
    ARCHIVE_PROVIDER,
    AUDIT,
    CREATE_PROVIDER,
    CREATE_SERVICE,
    NODE,
    PUBLISH,
    REJECT,
    UPDATE_LOCATION,
    UPDATE_PROVIDER,
    UPDATE_SERVICE,
    create_location,
    create_provider,
    delete_test_records,
    partita_iva,
    unique_name,
)

# Far (> 250 m) from the point the editing tests use, so their providers are no neighbours.
VARENNA = {"lat": 46.0105, "lon": 9.2836}
CALOLZIO = {"lat": 45.8010, "lon": 9.4300}

CHANGE_REQUESTS = """
query Changes($first: Int, $after: String) {
  changeRequests(first: $first, after: $after) {
    edges { node { id action status } cursor }
    pageInfo { hasNextPage endCursor }
  }
}
"""

FRESHNESS = """
query Fresh($months: Int, $reason: FreshnessReason, $type: EditableType) {
  freshnessQueue(olderThanMonths: $months, reason: $reason, entityType: $type, first: 100) {
    edges { node { entityType reasons verifiedAt verifiedBy hoursChangedAt record { id } } }
  }
}
"""

VERIFY = """
mutation Verify($id: ID!) {
  verifyRecord(id: $id) {
    id ... on Provider { verifiedBy version } ... on Location { verifiedBy version }
    ... on Service { verifiedBy version }
  }
}
"""

MERGE = """
mutation Merge($keep: ID!, $merge: ID!) {
  mergeProviders(keepId: $keep, mergeId: $merge) {
    provider { id version } merged { id status } movedLocations movedServices
  }
}
"""

DUPLICATES = """
query Duplicates($status: DuplicateStatus, $after: String) {
  duplicateCandidates(status: $status, first: 100, after: $after) {
    edges { node { id reason status providerA { id } providerB { id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

DISMISS = """
mutation Dismiss($id: ID!) { dismissDuplicate(id: $id) { id status decidedBy } }
"""


@pytest.fixture(scope="module", autouse=True)
async def cleanup(engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    await delete_test_records(engine)


@pytest.fixture
async def reviewer(login: Any) -> dict[str, str]:
    headers: dict[str, str] = await login("review-reviewer", "reviewer")
    return headers


@pytest.fixture
async def mapper(login: Any) -> dict[str, str]:
    headers: dict[str, str] = await login("review-mapper", "mapper")
    return headers


async def _all_pages(
    gql: Any, query: str, field: str, headers: dict[str, str], **variables: Any
) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        result = await gql(query, _headers=headers, after=after, **variables)
        assert not result.errors, result.errors
        page = result.data[field]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def _pair(node: dict[str, Any]) -> set[str]:
    return {node["providerA"]["id"], node["providerB"]["id"]}


# --- change requests -----------------------------------------------------------------------


async def test_reviewers_list_pending_change_requests_page_by_page(
    gql: Any, mapper: dict[str, str], reviewer: dict[str, str]
) -> None:
    first = (await create_provider(gql, mapper))["changeRequest"]["id"]
    second = (await create_provider(gql, mapper))["changeRequest"]["id"]

    pending = await _all_pages(gql, CHANGE_REQUESTS, "changeRequests", reviewer, first=1)

    ids = [node["id"] for node in pending]
    assert ids.index(first) < ids.index(second)
    assert all(node["status"] == "PENDING" for node in pending)
    assert (await gql(CHANGE_REQUESTS, _headers=mapper)).codes == ["FORBIDDEN"]


async def test_rejecting_needs_a_reason_and_archives_the_draft(
    gql: Any, mapper: dict[str, str], reviewer: dict[str, str]
) -> None:
    created = await create_provider(gql, mapper)
    change = created["changeRequest"]["id"]

    blank = await gql(REJECT, _headers=reviewer, id=change, reason="  ")
    rejected = await gql(REJECT, _headers=reviewer, id=change, reason="Già presente in catalogo")

    assert blank.codes == ["BAD_USER_INPUT"]
    assert blank.errors[0]["extensions"]["field"] == "reason"
    decided = rejected.data["rejectChange"]
    assert decided["changeRequest"]["status"] == "REJECTED"
    assert decided["changeRequest"]["reason"] == "Già presente in catalogo"
    assert decided["record"]["status"] == "ARCHIVED"
    assert (await gql(NODE, id=created["provider"]["id"])).codes == ["NOT_FOUND"]
    assert (await gql(PUBLISH, _headers=reviewer, id=change)).codes == ["CONFLICT"]


async def test_rejecting_an_update_leaves_the_record_alone(
    gql: Any, mapper: dict[str, str], reviewer: dict[str, str]
) -> None:
    provider = (await create_provider(gql, reviewer))["provider"]
    proposed = await gql(
        UPDATE_PROVIDER,
        _headers=mapper,
        id=provider["id"],
        version=1,
        input={"name": "Nome sbagliato"},
    )
    change = proposed.data["updateProvider"]["changeRequest"]["id"]

    await gql(REJECT, _headers=reviewer, id=change, reason="Il nome è quello del registro")

    shown = await gql(NODE, id=provider["id"])
    assert shown.data["node"]["name"] == provider["name"]


async def test_archiving_hides_a_record_and_a_mappers_archive_waits_for_review(
    gql: Any, mapper: dict[str, str], reviewer: dict[str, str]
) -> None:
    provider = (await create_provider(gql, reviewer))["provider"]
    proposed = await gql(ARCHIVE_PROVIDER, _headers=mapper, id=provider["id"], version=1)
    change = proposed.data["archiveProvider"]["changeRequest"]
    assert change["action"] == "ARCHIVE"
    assert (await gql(NODE, id=provider["id"])).data["node"]["status"] == "PUBLISHED"

    await gql(PUBLISH, _headers=reviewer, id=change["id"])

    assert (await gql(NODE, id=provider["id"])).codes == ["NOT_FOUND"]
    again = await gql(
        UPDATE_PROVIDER, _headers=reviewer, id=provider["id"], version=2, input={"name": "x"}
    )
    assert again.codes == ["CONFLICT"]


# --- merge ---------------------------------------------------------------------------------


async def test_merging_moves_places_and_services_and_redirects_the_old_id(
    gql: Any, reviewer: dict[str, str], mapper: dict[str, str]
) -> None:
    # given two providers with the same tax code, the second with a location and a service
    tax_code = partita_iva()
    keep = (await create_provider(gql, reviewer, taxCode=tax_code))["provider"]
    twin = await create_provider(gql, reviewer, taxCode=tax_code)
    merge = twin["provider"]
    assert {keep["id"], merge["id"]} in [_pair(pair) for pair in twin["duplicateCandidates"]]
    place = (await create_location(gql, reviewer, merge["id"], point=CALOLZIO))["location"]
    service = await gql(
        CREATE_SERVICE,
        _headers=reviewer,
        input={
            "providerId": merge["id"],
            "name": unique_name("servizio"),
            "locationIds": [place["id"]],
        },
    )
    service_id = service.data["createService"]["service"]["id"]

    # when a mapper tries, and a reviewer merges
    refused = await gql(MERGE, _headers=mapper, keep=keep["id"], merge=merge["id"])
    merged = await gql(MERGE, _headers=reviewer, keep=keep["id"], merge=merge["id"])

    # then everything moved and the old id answers with the survivor
    assert refused.codes == ["FORBIDDEN"]
    assert not merged.errors, merged.errors
    result = merged.data["mergeProviders"]
    assert (result["movedLocations"], result["movedServices"]) == (1, 1)
    assert result["merged"]["status"] == "ARCHIVED"
    survivor = (await gql(NODE, id=merge["id"])).data["node"]
    assert survivor["id"] == keep["id"]
    assert survivor["locations"] == [{"id": place["id"]}]
    assert survivor["services"] == [{"id": service_id}]
    merged_pairs = await _all_pages(
        gql, DUPLICATES, "duplicateCandidates", reviewer, status="MERGED"
    )
    assert {keep["id"], merge["id"]} in [_pair(pair) for pair in merged_pairs]
    # and the audit trail keeps both sides
    old_trail = await gql(AUDIT, _headers=reviewer, id=merge["id"])
    place_trail = await gql(AUDIT, _headers=reviewer, id=place["id"])
    assert [e["node"]["action"] for e in old_trail.data["auditTrail"]["edges"]] == [
        "merge",
        "create",
    ]
    # the survivor's trail has the merged provider's history too, each event naming its record
    keep_trail = await gql(AUDIT, _headers=reviewer, id=keep["id"], first=50)
    events = [
        (e["node"]["entityId"], e["node"]["action"]) for e in keep_trail.data["auditTrail"]["edges"]
    ]
    assert (merge["id"], "create") in events
    assert (merge["id"], "merge") in events
    assert (keep["id"], "create") in events
    assert {entity for entity, _ in events} == {keep["id"], merge["id"]}
    moved = place_trail.data["auditTrail"]["edges"][0]["node"]
    assert moved["action"] == "merge"
    assert moved["before"]["organization_id"] == from_global_id(merge["id"])[1]
    assert moved["after"]["organization_id"] == from_global_id(keep["id"])[1]
    # a second merge of the same provider is refused
    twice = await gql(MERGE, _headers=reviewer, keep=keep["id"], merge=merge["id"])
    assert twice.codes == ["BAD_USER_INPUT"]


# --- duplicates ----------------------------------------------------------------------------


async def test_a_same_tax_code_is_flagged_then_dismissed(
    gql: Any, reviewer: dict[str, str]
) -> None:
    tax_code = partita_iva()
    first = (await create_provider(gql, reviewer, taxCode=tax_code))["provider"]
    second = await gql(
        CREATE_PROVIDER,
        _headers=reviewer,
        input={"name": unique_name("altro nome"), "kind": "BUSINESS", "taxCode": f"IT{tax_code}"},
    )
    payload = second.data["createProvider"]
    flagged = [
        p
        for p in payload["duplicateCandidates"]
        if _pair(p) == {first["id"], payload["provider"]["id"]}
    ]
    assert [p["reason"] for p in flagged] == ["TAX_CODE"]
    open_pairs = await _all_pages(gql, DUPLICATES, "duplicateCandidates", reviewer)
    assert flagged[0]["id"] in [pair["id"] for pair in open_pairs]

    dismissed = await gql(DISMISS, _headers=reviewer, id=flagged[0]["id"])

    assert dismissed.data["dismissDuplicate"]["status"] == "DISMISSED"
    assert dismissed.data["dismissDuplicate"]["decidedBy"] == "review-reviewer"
    assert (await gql(DISMISS, _headers=reviewer, id=flagged[0]["id"])).codes == ["CONFLICT"]
    open_pairs = await _all_pages(gql, DUPLICATES, "duplicateCandidates", reviewer)
    assert flagged[0]["id"] not in [pair["id"] for pair in open_pairs]
    # and an edit does not flag the dismissed pair again
    edited = await gql(
        UPDATE_PROVIDER,
        _headers=reviewer,
        id=first["id"],
        version=1,
        input={"description": "stesso codice, altro ente"},
    )
    assert edited.data["updateProvider"]["duplicateCandidates"] == []


async def test_a_similar_name_fifty_metres_away_is_flagged(
    gql: Any, reviewer: dict[str, str]
) -> None:
    name = unique_name("Zefiro Cura Domiciliare")
    first = (await create_provider(gql, reviewer, name=name))["provider"]
    await create_location(gql, reviewer, first["id"], point=VARENNA, comuneIstat=None)
    second = (await create_provider(gql, reviewer, name=f"{name} Srl"))["provider"]
    north = {"lat": VARENNA["lat"] + 0.00045, "lon": VARENNA["lon"]}
    _, _, metres = Geod(ellps="WGS84").inv(
        VARENNA["lon"], VARENNA["lat"], north["lon"], north["lat"]
    )
    assert 45 < metres < 55

    placed = await create_location(gql, reviewer, second["id"], point=north, comuneIstat=None)

    flagged = [p for p in placed["duplicateCandidates"] if _pair(p) == {first["id"], second["id"]}]
    assert len(flagged) == 1
    assert flagged[0]["reason"] == "NAME_NEARBY"
    assert flagged[0]["distanceMeters"] == pytest.approx(metres, abs=0.5)
    assert flagged[0]["similarity"] >= 0.6


# --- freshness -----------------------------------------------------------------------------


def _queued(result: Any) -> dict[str, dict[str, Any]]:
    assert not result.errors, result.errors
    return {
        edge["node"]["record"]["id"]: edge["node"]
        for edge in result.data["freshnessQueue"]["edges"]
    }


async def test_an_old_unverified_record_is_due_until_verified(
    gql: Any, reviewer: dict[str, str], mapper: dict[str, str], engine: AsyncEngine
) -> None:
    provider = (await create_provider(gql, reviewer))["provider"]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE organization SET created_at = '1990-01-01', verified_at = '1991-01-01'"
                " WHERE id = :id"
            ),
            {"id": from_global_id(provider["id"])[1]},
        )

    due = _queued(await gql(FRESHNESS, _headers=reviewer, type="PROVIDER"))
    assert due[provider["id"]]["reasons"] == ["NOT_VERIFIED_SINCE"]
    assert due[provider["id"]]["verifiedAt"].startswith("1991-01-01")

    # a mapper's change waiting on version 1
    proposed = await gql(
        UPDATE_PROVIDER,
        _headers=mapper,
        id=provider["id"],
        version=1,
        input={"description": "verificato dopo"},
    )
    change = proposed.data["updateProvider"]["changeRequest"]

    updated_at = "SELECT updated_at FROM organization WHERE id = :id"
    key = {"id": from_global_id(provider["id"])[1]}
    async with engine.connect() as conn:
        last_edit = await conn.scalar(text(updated_at), key)

    verified = await gql(VERIFY, _headers=reviewer, id=provider["id"])
    assert verified.data["verifyRecord"]["verifiedBy"] == "review-reviewer"
    # a verification is no edit: the version and updated_at stay, and the pending change
    # made on that version can still be published
    assert verified.data["verifyRecord"]["version"] == 1
    async with engine.connect() as conn:
        assert await conn.scalar(text(updated_at), key) == last_edit
    published = await gql(PUBLISH, _headers=reviewer, id=change["id"])
    assert not published.errors, published.errors
    due = _queued(await gql(FRESHNESS, _headers=reviewer, type="PROVIDER"))
    assert provider["id"] not in due
    assert (await gql(FRESHNESS, _headers=mapper)).codes == ["FORBIDDEN"]
    assert (await gql(VERIFY, _headers=mapper, id=provider["id"])).codes == ["FORBIDDEN"]
    bad = await gql(FRESHNESS, _headers=reviewer, months=-1)
    assert bad.codes == ["BAD_USER_INPUT"]


async def test_hours_and_prices_changed_after_verification_are_due(
    gql: Any, reviewer: dict[str, str]
) -> None:
    provider = (await create_provider(gql, reviewer))["provider"]
    place = (
        await create_location(
            gql, reviewer, provider["id"], point=CALOLZIO, openingHours="Mo-Fr 09:00-12:00"
        )
    )["location"]
    created = await gql(
        CREATE_SERVICE,
        _headers=reviewer,
        input={
            "providerId": provider["id"],
            "name": unique_name("prezzi"),
            "costOptions": [{"amount": 20, "unit": "HOUR"}],
        },
    )
    service = created.data["createService"]["service"]
    for record in (place, service):
        assert (await gql(VERIFY, _headers=reviewer, id=record["id"])).data["verifyRecord"]
    assert place["id"] not in _queued(
        await gql(FRESHNESS, _headers=reviewer, reason="HOURS_CHANGED")
    )

    # when the hours and the prices change after the verification
    hours = await gql(
        UPDATE_LOCATION,
        _headers=reviewer,
        id=place["id"],
        version=1,  # a verification is no edit: the version stays
        input={"openingHours": "Mo-Fr 14:00-18:00"},
    )
    prices = await gql(
        UPDATE_SERVICE,
        _headers=reviewer,
        id=service["id"],
        version=1,
        input={"costOptions": [{"amount": 22, "unit": "HOUR"}]},
    )
    assert not hours.errors and not prices.errors

    # then both are due, each for its reason
    by_hours = _queued(await gql(FRESHNESS, _headers=reviewer, reason="HOURS_CHANGED"))
    by_prices = _queued(await gql(FRESHNESS, _headers=reviewer, reason="PRICES_CHANGED"))
    assert by_hours[place["id"]]["reasons"] == ["HOURS_CHANGED"]
    assert by_hours[place["id"]]["entityType"] == "LOCATION"
    assert by_prices[service["id"]]["reasons"] == ["PRICES_CHANGED"]
    assert service["id"] not in by_hours and place["id"] not in by_prices
