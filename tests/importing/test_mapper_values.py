"""Values as people write them: categories by label or synonym, enumerations in Italian."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ambrogio.settings import Settings
from tests.support.import_db import ImportDb, import_db
from tests.support.import_files import feature, geojson, service, to_csv


@pytest.fixture(scope="module")
async def imp(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_mapper_{os.getpid()}", template_db):
        yield db


@pytest.fixture(scope="module")
async def reviewer(imp: ImportDb) -> dict[str, str]:
    return await imp.login("mapper-values-reviewer", "reviewer")


# (what the file says, the category it means)
NAMED = [
    ("asilo nido", "asilo-nido"),  # Italian label, lower case
    ("Trasporto disabili", "trasporto-disabili"),  # Italian label
    ("assistenza domiciliare", "assistenza-domiciliare"),  # the slug without hyphens
    ("ATTIVITÀ FISICA ADATTATA", "attivita-fisica-adattata"),  # upper case, accented
    ("Physiotherapy", "fisioterapia"),  # English label
    ("Speech therapy", "logopedia"),  # English label
    ("Home carer", "badante"),  # English label without its bracket
    ("assistente familiare", "badante"),  # synonym
    ("Badanti", "badante"),  # synonym
    ("fisioterapista", "fisioterapia"),  # synonym
    ("Scuolabus", "trasporto-scolastico"),  # synonym
]
MISSPELT = "asilo nidoo"


def people_file() -> list[dict[str, Any]]:
    features = [
        feature(
            f"named-{n}",
            lat=45.85 + n / 1000,
            kind="Cooperativa sociale",
            services=[
                service(
                    f"Servizio {n}",
                    category=written,
                    delivery=["a domicilio", "In sede"],
                    target_groups=["anziani", "Famiglie"],
                    price_unit="ora",
                    tuir_category="lettera f ter",
                )
            ],
        )
        for n, (written, _) in enumerate(NAMED)
    ]
    features.append(
        feature(
            "misspelt",
            services=[service("Nido", category=MISSPELT, delivery=["online"], price_unit="mese")],
        )
    )
    return features


@pytest.mark.parametrize("fmt", ["GEOJSON", "CSV"])
async def test_labels_synonyms_and_italian_values_import_and_a_misspelling_names_the_slug(
    imp: ImportDb, reviewer: dict[str, str], fmt: str
) -> None:
    # given
    features = people_file()
    data = geojson(*features) if fmt == "GEOJSON" else to_csv(*features)
    source = f"people-{fmt.lower()}"
    # when
    result = await imp.upload(
        data, source=source, headers=reviewer, fmt=fmt, filename=f"f.{fmt.lower()}",
        skip_bad_rows=True,
    )  # fmt: skip
    # then
    assert result.errors == []
    report = result.data["importProviders"]
    errors = report["errors"]
    assert len(errors) == 1, errors
    (error,) = errors
    # The last feature; a CSV counts its header line too.
    assert error["row"] == len(NAMED) + (1 if fmt == "GEOJSON" else 2)
    assert error["field"] == "services[0].category"
    assert error["value"] == MISSPELT
    assert "did you mean `asilo-nido`?" in error["reason"]
    assert report["created"] == len(NAMED)
    rows = await imp.rows(
        "SELECT o.external_id, t.slug, s.delivery, s.target_groups, s.tuir_category, c.unit, "
        "o.kind FROM organization o JOIN service s ON s.organization_id = o.id "
        "JOIN service_category sc ON sc.service_id = s.id "
        "JOIN taxonomy_term t ON t.id = sc.term_id "
        "JOIN cost_option c ON c.service_id = s.id WHERE o.source = :source",
        source=source,
    )
    stored = {row[0]: row[1:] for row in rows}
    assert {key: value[0] for key, value in stored.items()} == {
        f"named-{n}": slug for n, (_, slug) in enumerate(NAMED)
    }
    for _, delivery, groups, tuir, unit, kind in stored.values():
        assert sorted(delivery) == ["at_home", "on_site"]
        assert sorted(groups) == ["elderly", "families"]
        assert (tuir, unit, kind) == ("art51_f_ter", "hour", "social_cooperative")


async def test_an_unknown_enumeration_value_suggests_the_nearest(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    data = geojson(
        feature("typo", services=[service(delivery=["a domiclio"], target_groups=["anziain"])])
    )
    result = await imp.upload(data, source="typo", headers=reviewer, dry_run=True)
    errors = {e["field"]: e for e in result.data["importProviders"]["errors"]}
    assert set(errors) == {"services[0].delivery[0]", "services[0].target_groups[0]"}
    assert "did you mean `at_home`?" in errors["services[0].delivery[0]"]["reason"]
    assert "did you mean `elderly`?" in errors["services[0].target_groups[0]"]["reason"]


def hsds_organization(category_code: str) -> bytes:
    service_id = "5f7d2c4e-0000-4000-8000-000000000001"
    return json.dumps(
        {
            "id": "5f7d2c4e-0000-4000-8000-000000000000",
            "name": "Cooperativa Sociale HSDS",
            "description": "Cooperativa",
            "services": [
                {
                    "id": service_id,
                    "name": "Fisioterapia in sede",
                    "status": "active",
                    "attributes": [
                        {
                            "id": "5f7d2c4e-0000-4000-8000-000000000002",
                            "link_id": service_id,
                            "link_type": "service",
                            "taxonomy_term": {
                                "id": "5f7d2c4e-0000-4000-8000-000000000003",
                                "code": category_code,
                                "name": category_code,
                                "description": category_code,
                                "taxonomy": "ambrogio",
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


async def test_an_hsds_file_names_a_category_by_label_or_synonym(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    named = await imp.upload(
        hsds_organization("Fisioterapista"), source="hsds-named", headers=reviewer,
        fmt="HSDS_JSON", filename="org.json",
    )  # fmt: skip
    assert named.data["importProviders"]["errors"] == []
    slugs = await imp.rows(
        "SELECT t.slug FROM organization o JOIN service s ON s.organization_id = o.id "
        "JOIN service_category sc ON sc.service_id = s.id "
        "JOIN taxonomy_term t ON t.id = sc.term_id WHERE o.source = 'hsds-named'"
    )
    assert [slug for (slug,) in slugs] == ["fisioterapia"]

    misspelt = await imp.upload(
        hsds_organization("Fisioterapa"), source="hsds-misspelt", headers=reviewer,
        fmt="HSDS_JSON", filename="org.json", dry_run=True,
    )  # fmt: skip
    (error,) = misspelt.data["importProviders"]["errors"]
    assert error["value"] == "Fisioterapa"
    assert "did you mean `fisioterapia`?" in error["reason"]
