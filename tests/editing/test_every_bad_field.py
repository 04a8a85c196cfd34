"""An editing mutation reports every bad field of its input at once, and writes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.editing import (
    CREATE_LOCATION,
    CREATE_PROVIDER,
    CREATE_SERVICE,
    UPDATE_PROVIDER,
    counts,
    create_provider,
    delete_test_records,
    unique_name,
)


@pytest.fixture(scope="module", autouse=True)
async def cleanup(engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    await delete_test_records(engine)


@pytest.fixture
async def reviewer(login: Any) -> dict[str, str]:
    headers: dict[str, str] = await login("every-field-reviewer", "reviewer")
    return headers


def problems(result: Any) -> dict[str, dict[str, Any]]:
    """field -> extensions of each error, all BAD_USER_INPUT, each field once."""
    assert result.data is None or all(value is None for value in result.data.values())
    assert set(result.codes) == {"BAD_USER_INPUT"}
    fields = [error["extensions"]["field"] for error in result.errors]
    assert len(fields) == len(set(fields)), fields
    return {error["extensions"]["field"]: error | error["extensions"] for error in result.errors}


async def test_a_provider_with_four_bad_fields_gets_four_errors(
    gql: Any, reviewer: dict[str, str], engine: AsyncEngine
) -> None:
    # given a provider whose tax code, e-mail, phone and website are all wrong
    before = await counts(engine)
    values = {
        "name": unique_name("four bad fields"),
        "kind": "ASSOCIATION",
        "taxCode": "RSSMRA80A01F205A",
        "email": "not-an-address",
        "phone": "12",
        "website": "ftp://coop.example.it",
    }
    # when
    result = await gql(CREATE_PROVIDER, _headers=reviewer, input=values)
    # then each is reported with its value and reason, and nothing is written
    found = problems(result)
    assert {field: error["value"] for field, error in found.items()} == {
        "input.taxCode": "RSSMRA80A01F205A",
        "input.email": "not-an-address",
        "input.phone": "12",
        "input.website": "ftp://coop.example.it",
    }
    assert "codice fiscale" in found["input.taxCode"]["message"]
    assert "e-mail" in found["input.email"]["message"]
    assert "phone" in found["input.phone"]["message"]
    assert "http(s) URL" in found["input.website"]["message"]
    assert all(error["path"] == ["createProvider"] for error in result.errors)
    assert await counts(engine) == before


async def test_an_update_reports_every_bad_field_and_keeps_the_record(
    gql: Any, reviewer: dict[str, str], engine: AsyncEngine
) -> None:
    provider = (await create_provider(gql, reviewer))["provider"]
    before = await counts(engine)

    result = await gql(
        UPDATE_PROVIDER,
        _headers=reviewer,
        id=provider["id"],
        version=provider["version"],
        input={"name": " ", "email": "@", "phone": "12", "kind": "BUSINESS"},
    )

    assert set(problems(result)) == {"input.name", "input.email", "input.phone"}
    assert await counts(engine) == before


async def test_a_service_reports_bad_fields_nested_lists_and_ids_together(
    gql: Any, reviewer: dict[str, str], engine: AsyncEngine
) -> None:
    provider = (await create_provider(gql, reviewer))["provider"]
    before = await counts(engine)
    values = {
        "providerId": provider["id"],
        "name": unique_name("servizio"),
        "categories": ["asilo nido", "asilo nidoo"],
        "languages": ["it", "xx"],
        "minAge": 70,
        "maxAge": 18,
        "costOptions": [{"amount": 12, "unit": "FREE"}, {"amount": -1, "unit": "HOUR"}],
        "locationIds": [provider["id"]],  # a provider's id, not a location's
    }

    result = await gql(CREATE_SERVICE, _headers=reviewer, input=values)

    found = problems(result)
    assert set(found) == {
        "input.categories[1]",
        "input.languages[1]",
        "input.minAge",
        "input.costOptions[0].amount",
        "input.costOptions[1].amount",
        "input.locationIds[0]",
    }
    assert "did you mean `asilo-nido`?" in found["input.categories[1]"]["message"]
    assert await counts(engine) == before


async def test_one_bad_field_is_still_one_error(
    gql: Any, reviewer: dict[str, str], engine: AsyncEngine
) -> None:
    provider = (await create_provider(gql, reviewer))["provider"]
    result = await gql(
        CREATE_LOCATION,
        _headers=reviewer,
        input={"providerId": provider["id"], "cap": "2390", "point": {"lat": 45.85, "lon": 9.39}},
    )
    assert list(problems(result)) == ["input.cap"]
