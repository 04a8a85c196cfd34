"""Export, import into an empty database: the same published catalogue, in both formats.

The session database's published catalogue (the demo data, plus one provider that uses every
field the demo data leave empty: several categories, an external term, a service area polygon,
prices with descriptions and without an amount, location names, accessibility, geocode
precisions other than ``exact``) is downloaded from ``/export/hsds.json`` and
``/export/catalogue.geojson`` and imported, by a reviewer, into a fresh database. Both
catalogues are then read with the same SQL, each from its own database, and compared field by
field; records are matched by their original ids, which the import keeps as external ids
(``{provider}``, ``{provider}/location/{location}``, ``{provider}/service/{service}``).

Welfare points are neither HSDS organizations nor features of the import profile: neither
export carries them, and they are not compared.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import shapely
from geoalchemy2 import WKTElement
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from ambrogio.db.models import (
    CostOption,
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    ServiceCategory,
    TaxonomyTerm,
)
from ambrogio.settings import Settings
from tests.support.hsds import validator
from tests.support.import_db import ImportDb, import_db

SOURCE = "roundtrip"
TOLERANCE = 1e-9  # degrees, for points and polygon vertices

# How each database names a record by its original id: the session database by its own id,
# the imported one by the external id the import gave it.
ORIGINAL_KEYS = {"provider": "o.id::text", "location": "l.id::text", "service": "s.id::text"}
IMPORTED_KEYS = {
    "provider": "o.external_id",
    "location": "split_part(l.external_id, '/location/', 2)",
    "service": "split_part(s.external_id, '/service/', 2)",
}

VISIBLE = "o.status = 'published' AND o.merged_into_id IS NULL"

# Phone numbers are compared without spaces: an import stores them in E.164 form (as editing
# does), the demo data as a person writes them ("+39 0341 283070").
PROVIDERS = """
SELECT {provider} AS key, o.name, o.kind, o.tax_code, o.runts_id, o.description, o.email,
       regexp_replace(o.phone, '[^+0-9]', '', 'g') AS phone, o.website
FROM organization o WHERE {visible}
"""

LOCATIONS = """
SELECT {provider} AS provider, {location} AS key, l.name, ST_Y(l.geom) AS lat,
       ST_X(l.geom) AS lon, l.geocode_precision, l.address, l.cap, l.comune_istat,
       l.opening_hours, l.wheelchair_accessible, l.accessibility
FROM location l JOIN organization o ON o.id = l.organization_id
WHERE l.status = 'published' AND {visible}
"""

SERVICES = """
SELECT {provider} AS provider, {service} AS key, s.name, s.description, s.welfare_eligible,
       s.tuir_category, s.target_groups, s.min_age, s.max_age, s.languages, s.delivery,
       ARRAY(SELECT unnest(s.service_area_comuni) ORDER BY 1) AS service_area_comuni,
       ST_AsBinary(s.service_area) AS service_area,
       ARRAY(
           SELECT CASE WHEN t.vocabulary = 'ambrogio' THEN t.slug
                       ELSE concat_ws(' | ', t.vocabulary, t.external_id, t.label_it) END
           FROM service_category c JOIN taxonomy_term t ON t.id = c.term_id
           WHERE c.service_id = s.id AND t.status = 'published' ORDER BY 1
       ) AS categories,
       ARRAY(
           SELECT concat_ws(' | ', coalesce(p.amount::text, '-'), p.currency, p.unit,
                            coalesce(p.description, '-'))
           FROM cost_option p WHERE p.service_id = s.id ORDER BY 1
       ) AS prices,
       ARRAY(
           SELECT {location}
           FROM service_at_location x JOIN location l ON l.id = x.location_id
           WHERE x.service_id = s.id AND l.status = 'published' ORDER BY 1
       ) AS offered_at
FROM service s JOIN organization o ON o.id = s.organization_id
WHERE s.status = 'published' AND {visible}
"""


@dataclass
class Catalogue:
    """Published providers, locations and services by original id, each a dict of its fields."""

    providers: dict[str, dict[str, Any]]
    locations: dict[tuple[str, str], dict[str, Any]]
    services: dict[tuple[str, str], dict[str, Any]]


async def read_catalogue(conn: AsyncConnection, keys: dict[str, str]) -> Catalogue:
    def sql(template: str) -> Any:
        return text(template.format(visible=VISIBLE, **keys))

    providers = {row["key"]: dict(row) for row in (await conn.execute(sql(PROVIDERS))).mappings()}
    locations = {
        (row["provider"], row["key"]): dict(row)
        for row in (await conn.execute(sql(LOCATIONS))).mappings()
    }
    services = {
        (row["provider"], row["key"]): dict(row)
        for row in (await conn.execute(sql(SERVICES))).mappings()
    }
    return Catalogue(providers, locations, services)


def _same(name: str, a: Any, b: Any) -> bool:
    if name in ("lat", "lon"):
        return (a is None) == (b is None) and (a is None or abs(a - b) <= TOLERANCE)
    if name == "service_area":
        if a is None or b is None:
            return a is None and b is None
        return bool(shapely.from_wkb(bytes(a)).equals_exact(shapely.from_wkb(bytes(b)), TOLERANCE))
    return bool(a == b)


def differences(original: Catalogue, imported: Catalogue) -> list[str]:
    """What differs, one line per record or field, empty when the catalogues are the same."""
    found: list[str] = []
    for kind in ("providers", "locations", "services"):
        mine, theirs = getattr(original, kind), getattr(imported, kind)
        for key in sorted(set(mine) - set(theirs)):
            found.append(f"{kind} {key}: lost")
        for key in sorted(set(theirs) - set(mine)):
            found.append(f"{kind} {key}: not in the original")
        for key in sorted(set(mine) & set(theirs)):
            for name, value in mine[key].items():
                if not _same(name, value, theirs[key][name]):
                    found.append(f"{kind} {key} {name}: {value!r} became {theirs[key][name]!r}")
    return found


# One provider with what the demo data never have.

EDGE_PROVIDER = uuid.UUID("6f1d0c4e-0000-4000-8000-00000000e0e1")
EDGE_LOCATIONS = (
    uuid.UUID("6f1d0c4e-0000-4000-8000-00000000e0e2"),
    uuid.UUID("6f1d0c4e-0000-4000-8000-00000000e0e3"),
)
EDGE_SERVICES = (
    uuid.UUID("6f1d0c4e-0000-4000-8000-00000000e0e4"),
    uuid.UUID("6f1d0c4e-0000-4000-8000-00000000e0e5"),
)
EDGE_TERM = uuid.UUID("6f1d0c4e-0000-4000-8000-00000000e0e6")
AREA = (
    "MULTIPOLYGON(((9.3812345678 45.8412345678, 9.4412345678 45.8412345678, "
    "9.4412345678 45.8812345678, 9.3812345678 45.8812345678, 9.3812345678 45.8412345678)))"
)


async def add_edge_provider(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session, session.begin():
        slugs = (
            await session.execute(
                text(
                    "SELECT id FROM taxonomy_term WHERE vocabulary = 'ambrogio' "
                    "AND status = 'published' AND parent_id IS NOT NULL ORDER BY slug LIMIT 2"
                )
            )
        ).scalars()
        own_terms = list(slugs)
        session.add(
            TaxonomyTerm(
                id=EDGE_TERM, slug="x-airs-lh-0300-5000", vocabulary="AIRS",
                label_it="Assistenza domiciliare (AIRS)", label_en="Home care",
                source="vocabulary:AIRS", external_id="LH-0300.5000", status="published",
            )
        )  # fmt: skip
        session.add(
            Organization(
                id=EDGE_PROVIDER, name="Associazione Filo d'Argento (prova)", kind="association",
                tax_code="02834500973",
                runts_id="RUNTS-123456", description="Compagnia e trasporto\nper anziani.",
                email="info@filodargento.example", phone="+390341123456",
                website="https://filodargento.example", status="published",
                source="test-roundtrip", external_id="filo",
            )
        )  # fmt: skip
        await session.flush()
        exact, rough = EDGE_LOCATIONS
        session.add_all(
            [
                Location(
                    id=exact, organization_id=EDGE_PROVIDER, name="Sede di Lecco",
                    geom=WKTElement("POINT(9.39771234567891 45.85661234567891)", srid=4326),
                    geocode_precision="address", address="Via Roma 12", cap="23900",
                    comune_istat="097042", opening_hours="Mo-Fr 09:00-12:30; Sa 09:00-12:00",
                    wheelchair_accessible=False, status="published",
                    source="test-roundtrip", external_id="filo/lecco",
                ),
                Location(
                    id=rough, organization_id=EDGE_PROVIDER, name="Recapito di Valmadrera",
                    geom=WKTElement("POINT(9.36 45.846)", srid=4326), geocode_precision="comune",
                    comune_istat="097083", wheelchair_accessible=True,
                    accessibility="Rampa all'ingresso.\nBagno accessibile.", status="published",
                    source="test-roundtrip", external_id="filo/valmadrera",
                ),
            ]
        )  # fmt: skip
        await session.flush()
        companionship, online = EDGE_SERVICES
        session.add_all(
            [
                Service(
                    id=companionship, organization_id=EDGE_PROVIDER, name="Compagnia a domicilio",
                    description="Visite e accompagnamento.", welfare_eligible=True,
                    tuir_category="art51_f_bis", target_groups=["elderly", "disabled"],
                    min_age=65, max_age=120, languages=["it", "en"],
                    delivery=["at_home", "on_site"], service_area=WKTElement(AREA, srid=4326),
                    service_area_comuni=["097042", "097083"], status="published",
                    source="test-roundtrip", external_id="filo/compagnia",
                ),
                Service(
                    id=online, organization_id=EDGE_PROVIDER, name="Ascolto telefonico",
                    delivery=["online"], status="published",
                    source="test-roundtrip", external_id="filo/ascolto",
                ),
            ]
        )  # fmt: skip
        await session.flush()
        session.add_all(
            [
                *(ServiceCategory(service_id=companionship, term_id=t) for t in own_terms),
                ServiceCategory(service_id=companionship, term_id=EDGE_TERM),
                ServiceCategory(service_id=online, term_id=own_terms[0]),
                CostOption(service_id=companionship, amount=Decimal("18.50"), unit="hour",
                           description="Tariffa oraria"),
                CostOption(service_id=companionship, amount=Decimal("120.00"), unit="month",
                           description="Abbonamento mensile"),
                CostOption(service_id=companionship, unit="flat",
                           description="Trasporto: a preventivo"),
                CostOption(service_id=online, amount=Decimal("0.00"), unit="free"),
                *(ServiceAtLocation(service_id=companionship, location_id=loc)
                  for loc in EDGE_LOCATIONS),
            ]
        )  # fmt: skip


async def remove_edge_provider(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(Service).where(Service.organization_id == EDGE_PROVIDER))
        await session.execute(delete(Location).where(Location.organization_id == EDGE_PROVIDER))
        await session.execute(delete(Organization).where(Organization.id == EDGE_PROVIDER))
        await session.execute(delete(TaxonomyTerm).where(TaxonomyTerm.id == EDGE_TERM))


@dataclass
class Exported:
    hsds: bytes
    geojson: bytes
    catalogue: Catalogue


@pytest.fixture(scope="module")
async def exported(
    client: Any, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Exported]:
    """Both exports and the catalogue they were made from; the session database is left as
    it was."""
    await add_edge_provider(sessionmaker)
    try:
        hsds = (await client.get("/export/hsds.json")).content
        geojson = (await client.get("/export/catalogue.geojson")).content
        async with engine.connect() as conn:
            catalogue = await read_catalogue(conn, ORIGINAL_KEYS)
    finally:
        await remove_edge_provider(sessionmaker)
    yield Exported(hsds, geojson, catalogue)


@pytest.fixture
async def empty(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_trip_{os.getpid()}", template_db):
        yield db


def report(result: Any) -> dict[str, Any]:
    assert result.errors == [], result.errors
    data: dict[str, Any] = result.data["importProviders"]
    return data


def comparable_features(body: bytes, ids: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The features of a GeoJSON export, in a stable order, ids translated through ``ids``."""

    def key(value: str) -> str:
        return ids.get(value, value) if ids else value

    features = []
    for feature in json.loads(body)["features"]:
        properties = dict(feature["properties"])
        properties["external_id"] = key(properties["external_id"])
        if "phone" in properties:
            properties["phone"] = properties["phone"].replace(" ", "")
        if "location_id" in properties:
            properties["location_id"] = key(properties["location_id"])
        services = []
        for service in properties["services"]:
            service = {**service, "service_id": key(service["service_id"])}
            for name in ("cost_options", "external_categories"):
                if name in service:
                    service[name] = sorted(service[name], key=json.dumps)
            services.append(service)
        properties["services"] = sorted(services, key=lambda s: s["service_id"])
        features.append(
            {
                **feature,
                **({"id": key(feature["id"])} if "id" in feature else {}),
                "properties": properties,
            }
        )
    return sorted(
        features,
        key=lambda f: (f["properties"]["external_id"], f["properties"].get("location_id", "")),
    )


ORIGINAL_IDS = """
SELECT id::text, external_id FROM organization WHERE source = :source
UNION ALL SELECT id::text, split_part(external_id, '/location/', 2) FROM location
WHERE source = :source
UNION ALL SELECT id::text, split_part(external_id, '/service/', 2) FROM service
WHERE source = :source
"""


@pytest.mark.parametrize(
    ("fmt", "filename"), [("HSDS_JSON", "hsds.json"), ("GEOJSON", "catalogue.geojson")]
)
async def test_the_published_catalogue_survives_export_and_import(
    exported: Exported, empty: ImportDb, fmt: str, filename: str
) -> None:
    data = exported.hsds if fmt == "HSDS_JSON" else exported.geojson
    assert str(EDGE_PROVIDER) in data.decode()
    reviewer = await empty.login("trip-reviewer", "reviewer")

    # when the export is imported into an empty database
    first = report(
        await empty.upload(data, source=SOURCE, headers=reviewer, filename=filename, fmt=fmt)
    )

    # then nothing is refused or doubted, and every provider is created
    assert first["errors"] == []
    assert first["warnings"] == []
    assert first["status"] == "SUCCEEDED", first["failure"]
    assert first["created"] == len(exported.catalogue.providers)

    # and the published catalogue is the same, field by field
    async with empty.engine.connect() as conn:
        imported = await read_catalogue(conn, IMPORTED_KEYS)
    assert differences(exported.catalogue, imported)[:20] == []

    # when the same file is imported again, then nothing changes
    again = report(
        await empty.upload(data, source=SOURCE, headers=reviewer, filename=filename, fmt=fmt)
    )
    assert (again["created"], again["updated"], again["warnings"]) == (0, 0, [])
    assert again["unchanged"] == len(exported.catalogue.providers)

    # and the imported catalogue exports as the original did, but for the ids
    ids = {row[0]: row[1] for row in await empty.rows(ORIGINAL_IDS, source=SOURCE)}
    export_again = (await empty.client.get("/export/catalogue.geojson")).content
    assert comparable_features(export_again, ids) == comparable_features(exported.geojson)


def test_an_export_with_every_field_is_valid_hsds(exported: Exported) -> None:
    check = validator()
    for organization in json.loads(exported.hsds):
        errors = [f"{list(e.path)}: {e.message}" for e in check.iter_errors(organization)]
        assert errors == [], organization["id"]


def test_the_comparison_sees_a_lost_field() -> None:
    # given a catalogue and the same catalogue with one location's precision lost
    location = {"name": "Sede", "lat": 45.85, "lon": 9.39, "geocode_precision": "comune"}
    original = Catalogue({}, {("p", "l"): location}, {})
    imported = Catalogue({}, {("p", "l"): {**location, "geocode_precision": "exact"}}, {})
    moved = Catalogue({}, {("p", "l"): {**location, "lat": 45.85 + 2e-9}}, {})

    # then the comparison names it, and a move beyond the tolerance too
    assert differences(original, imported) == [
        "locations ('p', 'l') geocode_precision: 'comune' became 'exact'"
    ]
    assert [line.split(":")[0] for line in differences(original, moved)] == [
        "locations ('p', 'l') lat"
    ]
    assert differences(original, original) == []
