"""Unchanged providers skipped before validation, and never when the catalogue moved since."""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from ambrogio.importing import digests
from ambrogio.importing.rows import Parsed, SourceRow
from ambrogio.settings import Settings
from tests.support.import_db import ImportDb, import_db
from tests.support.import_files import PARTITA_IVA, feature, geojson, service

OPTIONS = {"status": "published"}
FILE = [
    feature("a", tax_code=PARTITA_IVA),
    feature("b", services=[service(), service("Badante", category="badante", price_eur=15)]),
    feature("c", location_id="north", lat=45.95, lon=9.38),
    feature("c", location_id="south", lat=45.75, lon=9.40),
]


@pytest.fixture(scope="module")
async def imp(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_dig_{os.getpid()}", template_db):
        yield db


@pytest.fixture(scope="module")
async def reviewer(imp: ImportDb) -> dict[str, str]:
    return await imp.login("dig-reviewer", "reviewer")


async def upload(imp: ImportDb, headers: dict[str, str], source: str, **kw: Any) -> dict[str, Any]:
    features = kw.pop("features", FILE)
    result = await imp.upload(geojson(*features), source=source, headers=headers, **kw)
    assert result.errors == [], result.errors
    out: dict[str, Any] = result.data["importProviders"]
    assert out["status"] == "SUCCEEDED", out
    return out


def counts(out: dict[str, Any]) -> tuple[int, int, int]:
    return out["created"], out["updated"], out["unchanged"]


async def stored(imp: ImportDb, source: str) -> set[str]:
    rows = await imp.rows(
        "SELECT o.external_id FROM import_digest d JOIN organization o ON o.id = d.organization_id "
        "WHERE o.source = :s",
        s=source,
    )
    return {external_id for (external_id,) in rows}


def rows_of(*features: dict[str, Any]) -> list[SourceRow]:
    """The source rows the GeoJSON reader makes of these features (what the digest reads)."""
    out = []
    for number, item in enumerate(features, start=1):
        props = copy.deepcopy(item["properties"])
        services = props.pop("services")
        if item["geometry"] is not None:
            props["lon"], props["lat"] = item["geometry"]["coordinates"]
        out.append(SourceRow(number, props, services))
    return out


def _set(path: str, value: Any) -> dict[str, Any]:
    item = copy.deepcopy(FILE[1])
    target: Any = item["properties"]
    *steps, last = path.split(".")
    for step in steps:
        target = target[int(step)] if step.isdigit() else target[step]
    target[last] = value
    return item


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("phone", "0341 999999"),
        ("address", "Via Roma 2"),
        ("opening_hours", "Mo-Fr 09:00-12:00"),
        ("services.0.price_eur", 23),
        ("services.0.price_unit", "visit"),
        ("services.1.name", "Badanti"),
        ("services.1.category", "assistenza-domiciliare"),
        ("services.0.service_area_comuni", ["097042"]),
        ("services.0.cost_options", [{"amount": 22.5, "unit": "hour", "description": "sera"}]),
        ("services.0.delivery", ["on_site"]),
    ],
)
def test_a_change_anywhere_in_a_providers_record_changes_its_digest(path: str, value: Any) -> None:
    # given
    same = digests.digest(rows_of(FILE[1]), OPTIONS)
    # when
    changed = digests.digest(rows_of(_set(path, value)), OPTIONS)
    # then
    assert digests.digest(rows_of(copy.deepcopy(FILE[1])), OPTIONS) == same
    assert changed != same


def test_the_digest_covers_every_row_of_a_provider_and_the_options() -> None:
    both = digests.digest(rows_of(FILE[2], FILE[3]), OPTIONS)
    assert digests.digest(rows_of(FILE[2]), OPTIONS) != both
    moved = copy.deepcopy(FILE[3])
    moved["geometry"]["coordinates"] = [9.41, 45.75]
    assert digests.digest(rows_of(FILE[2], moved), OPTIONS) != both
    assert digests.digest(rows_of(FILE[2], FILE[3]), {"status": "draft"}) != both


def test_only_the_providers_with_their_stored_digest_are_left_out() -> None:
    # given: a stored digest for a (the same) and for b (another input's)
    rows = rows_of(*FILE)
    a, b = (digests.provider_id("src", row) for row in rows[:2])
    assert a is not None and b is not None
    stored = {
        a: (digests.digest(rows[:1], OPTIONS), []),
        b: (digests.digest(rows[:1], OPTIONS), []),
    }
    # when
    split = digests.split(Parsed(rows=rows), "src", OPTIONS, stored)
    # then
    assert split.unchanged == 1
    assert [row.number for row in split.parsed.rows] == [2, 3, 4]
    assert a not in split.digests and b in split.digests


async def test_a_reimport_skips_the_unchanged_providers_before_validating_them(
    imp: ImportDb, reviewer: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    # given
    first = await upload(imp, reviewer, "same")
    assert counts(first) == (3, 0, 0)
    assert await stored(imp, "same") == {"a", "b", "c"}
    versions = await imp.rows(
        "SELECT id, version, updated_at FROM location WHERE source = 'same' ORDER BY id"
    )
    # when
    with caplog.at_level(logging.INFO, logger="ambrogio.importing"):
        again = await upload(imp, reviewer, "same")
    # then
    assert (again["rows"], *counts(again)) == (4, 0, 0, 3)
    assert any("3 providers unchanged" in message for message in caplog.messages)
    assert (
        await imp.rows(
            "SELECT id, version, updated_at FROM location WHERE source = 'same' ORDER BY id"
        )
        == versions
    )
    # and a changed provider is validated and written again, the others still skipped
    phoned = _set("phone", "0341 999999")
    out = await upload(imp, reviewer, "same", features=[FILE[0], phoned, *FILE[2:]])
    assert counts(out) == (0, 1, 2)
    assert (
        await imp.scalar(
            "SELECT phone FROM organization WHERE source = 'same' AND external_id = 'b'"
        )
        == "+390341999999"
    )


EDITS = {
    "provider": "UPDATE organization SET phone = '+390341000000' WHERE id = :p",
    "location": "UPDATE location SET address = 'Via Altra 9' WHERE organization_id = :p",
    "service": "UPDATE service SET name = 'Altro' WHERE organization_id = :p",
    "price": "UPDATE cost_option SET amount = 1 "
    "WHERE service_id IN (SELECT id FROM service WHERE organization_id = :p)",
    "category": "DELETE FROM service_category "
    "WHERE service_id IN (SELECT id FROM service WHERE organization_id = :p)",
    "place": "DELETE FROM service_at_location "
    "WHERE service_id IN (SELECT id FROM service WHERE organization_id = :p)",
}


@pytest.mark.parametrize("edit", sorted(EDITS))
async def test_an_edit_made_in_ambrogio_since_the_import_is_not_masked(
    imp: ImportDb, reviewer: dict[str, str], edit: str
) -> None:
    # given: an import, then an edit of b's records outside it
    source = f"edit-{edit}"
    await upload(imp, reviewer, source)
    provider = await imp.scalar(
        "SELECT id FROM organization WHERE source = :s AND external_id = 'b'", s=source
    )
    async with imp.engine.begin() as conn:
        assert (await conn.execute(text(EDITS[edit]), {"p": provider})).rowcount > 0
    assert await stored(imp, source) == {"a", "c"}
    # when
    out = await upload(imp, reviewer, source)
    # then: b is compared with the catalogue again, and the file's values are back
    assert counts(out) == (0, 1, 2)
    assert await stored(imp, source) == {"a", "b", "c"}
    again = await upload(imp, reviewer, source)
    assert counts(again) == (0, 0, 3)


async def test_a_skipped_providers_warnings_are_reported_again_at_its_rows(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    # given: an at-home service without an area (a warning: its provider's comuni are used)
    homeless = feature("w", services=[service(service_area_comuni=None, delivery=["at_home"])])
    first = await upload(imp, reviewer, "warned", features=[*FILE, homeless])
    warned = [w for w in first["warnings"] if w["row"]]  # row 0: the duplicates flagged
    assert {w["row"] for w in warned} == {5}
    assert await stored(imp, "warned") == {"a", "b", "c", "w"}
    # when the same file comes again, then with w first
    again = await upload(imp, reviewer, "warned", features=[*FILE, homeless])
    moved = await upload(imp, reviewer, "warned", features=[homeless, *FILE])
    # then w is skipped each time, and its warning said again, at the row it now has
    assert counts(again) == counts(moved) == (0, 0, 4)
    assert [w for w in again["warnings"] if w["row"]] == warned
    assert [w for w in moved["warnings"] if w["row"]] == [{**warned[0], "row": 1}]


async def test_a_dry_run_stores_no_digest_and_reports_as_a_real_run(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    dry = await upload(imp, reviewer, "dry", dry_run=True)
    assert counts(dry) == (3, 0, 0)
    assert await stored(imp, "dry") == set()
    await upload(imp, reviewer, "dry")
    again = await upload(imp, reviewer, "dry", dry_run=True)
    assert counts(again) == (0, 0, 3)


async def test_a_taxonomy_change_forgets_every_digest(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    await upload(imp, reviewer, "terms")
    assert await stored(imp, "terms") == {"a", "b", "c"}
    async with imp.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE taxonomy_term SET synonyms = synonyms || '{badanti}' WHERE slug = 'badante'"
            )
        )
    assert await stored(imp, "terms") == set()
    assert counts(await upload(imp, reviewer, "terms")) == (0, 0, 3)


async def test_a_provider_merged_into_another_gets_no_digest(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    # given b merged into a after their import
    await upload(imp, reviewer, "merged")
    async with imp.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE organization m SET merged_into_id = k.id, status = 'archived' "
                "FROM organization k WHERE m.source = 'merged' AND m.external_id = 'b' "
                "AND k.source = 'merged' AND k.external_id = 'a'"
            )
        )
    assert await stored(imp, "merged") == {"a", "c"}
    # when the file comes again, twice
    await upload(imp, reviewer, "merged")
    again = await upload(imp, reviewer, "merged")
    # then b is read each time (its places and services go to a), never skipped
    assert await stored(imp, "merged") == {"a", "c"}
    assert again["unchanged"] == 3
