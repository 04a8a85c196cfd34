"""The Open Referral HSDS 3.0 example files import end to end, through ``importProviders``.

The examples describe one organization of another country, with a location at latitude 100:
that location imports without a point and a warning says so; nothing in the files is an error.
Counts are taken from the JSON here, independently of the importer.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ambrogio.hsds.documents import package_bytes
from ambrogio.settings import Settings
from tests.support.hsds import EXAMPLES
from tests.support.import_db import ImportDb, import_db

WITH_ORGANIZATIONS = (
    "organization_full.json",
    "organization_list.json",
    "service_full.json",
    "service_list.json",
    "service_at_location_full.json",
    "service_at_location_list.json",
    "tabular.json",
)
WITHOUT = ("base.json", "location.json", "taxonomy.json", "taxonomy_term_list.json")


@pytest.fixture(scope="module")
async def imp(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_imp_hsds_{os.getpid()}", template_db):
        yield db


@pytest.fixture(scope="module")
async def reviewer(imp: ImportDb) -> dict[str, str]:
    return await imp.login("hsds-reviewer", "reviewer")


def _organization(document: Any) -> dict[str, Any]:
    """The one organization an example describes, wherever it sits in the document."""
    if isinstance(document, dict) and "organizations.csv" in document:
        return dict(document["organizations.csv"][0])
    if isinstance(document, dict) and "contents" in document:
        document = document["contents"][0]
    if isinstance(document, list):
        document = document[0]
    if "organization" in document and isinstance(document["organization"], dict):
        return dict(document["organization"])
    if "organizations" in document:
        return dict(document["organizations"][0])
    if "service" in document:
        return dict(document["service"]["organization"])
    return dict(document)


@pytest.mark.parametrize("name", WITH_ORGANIZATIONS)
async def test_each_example_with_an_organization_imports(
    imp: ImportDb, reviewer: dict[str, str], name: str
) -> None:
    source = f"hsds-{name.removesuffix('.json').replace('_', '-')}"
    result = await imp.upload(
        (EXAMPLES / name).read_bytes(),
        source=source,
        headers=reviewer,
        filename=name,
        fmt="HSDS_JSON",
    )
    assert result.errors == [], result.errors
    out = result.data["importProviders"]
    assert out["status"] == "SUCCEEDED", out
    assert out["errors"] == []
    assert out["created"] == 1

    organization = _organization(json.loads((EXAMPLES / name).read_text()))
    stored = await imp.rows(
        "SELECT name, status FROM organization WHERE source = :source", source=source
    )
    assert [tuple(row) for row in stored] == [(organization["name"], "published")]

    # the location at latitude 100 is kept without a point, and a warning names the value
    out_of_range = [w for w in out["warnings"] if w["field"] == "location.latitude"]
    points = await imp.rows(
        "SELECT l.geom IS NULL, l.geocode_precision FROM location l "
        "JOIN organization o ON o.id = l.organization_id WHERE o.source = :source",
        source=source,
    )
    if out_of_range:
        assert out_of_range[0]["value"] == 100
        assert "without a point" in out_of_range[0]["reason"]
        assert [tuple(row) for row in points] == [(True, None)]


@pytest.mark.parametrize("name", WITHOUT)
async def test_examples_without_an_organization_import_nothing_and_say_so(
    imp: ImportDb, reviewer: dict[str, str], name: str
) -> None:
    before = await imp.counts()
    result = await imp.upload(
        (EXAMPLES / name).read_bytes(),
        source="hsds-nothing",
        headers=reviewer,
        filename=name,
        fmt="HSDS_JSON",
    )
    out = result.data["importProviders"]
    assert out["status"] == "SUCCEEDED", out
    assert (out["rows"], out["created"], out["errors"]) == (0, 0, [])
    assert out["warnings"], "an import of nothing says why"
    after = await imp.counts()
    assert {k: v for k, v in after.items() if k != "audit_event"} == {
        k: v for k, v in before.items() if k != "audit_event"
    }


async def test_the_tabular_package_imports_and_keeps_unknown_terms(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    result = await imp.upload(
        package_bytes(EXAMPLES / "csv"),
        source="hsds-csv",
        headers=reviewer,
        filename="hsds.zip",
        fmt="HSDS_CSV",
    )
    out = result.data["importProviders"]
    assert out["status"] == "SUCCEEDED", out
    assert out["errors"] == []
    assert out["created"] == 1
    # the example's placeholder tax id is no Italian tax code: dropped, with a warning
    assert any(w["field"] == "organization.tax_id" for w in out["warnings"])

    names = await imp.rows("SELECT name FROM organization WHERE source = 'hsds-csv'")
    with (EXAMPLES / "csv" / "organizations.csv").open(newline="") as table:
        expected = [row["name"] for row in csv.DictReader(table)]
    assert [row[0] for row in names] == expected


async def test_unknown_taxonomy_terms_are_kept_as_external_terms(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    document = json.loads((EXAMPLES / "service_full.json").read_text())
    codes = {
        attribute["taxonomy_term"]["code"]
        for attribute in document.get("attributes", [])
        if attribute.get("taxonomy_term")
    }
    assert codes, "the example's service has taxonomy terms"
    result = await imp.upload(
        json.dumps(document).encode(), source="hsds-terms", headers=reviewer, fmt="HSDS_JSON"
    )
    assert result.data["importProviders"]["errors"] == []
    external = await imp.rows(
        "SELECT tt.vocabulary, tt.external_id FROM taxonomy_term tt "
        "JOIN service_category sc ON sc.term_id = tt.id "
        "JOIN service s ON s.id = sc.service_id "
        "JOIN organization o ON o.id = s.organization_id WHERE o.source = 'hsds-terms'"
    )
    assert {code for _, code in external} == codes
    assert all(vocabulary != "ambrogio" for vocabulary, _ in external)


async def test_reimporting_an_example_changes_nothing(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    data = (EXAMPLES / "organization_full.json").read_bytes()
    first = await imp.upload(data, source="hsds-again", headers=reviewer, fmt="HSDS_JSON")
    assert first.data["importProviders"]["created"] == 1
    again = (await imp.upload(data, source="hsds-again", headers=reviewer, fmt="HSDS_JSON")).data[
        "importProviders"
    ]
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
