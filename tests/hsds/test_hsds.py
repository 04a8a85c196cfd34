"""Open Referral HSDS 3.0: the specification's own example files read into import rows, and the
published demo catalogue exported as HSDS (checked with the compiled JSON Schema) and as
GeoJSON in the import profile (checked against the database)."""

from __future__ import annotations

import argparse
import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from geoalchemy2 import WKTElement
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ambrogio.db.models import Location, Organization, Service
from ambrogio.enums import ImportFormat
from ambrogio.errors import UnreadableFile
from ambrogio.export.catalogue import published_catalogue
from ambrogio.hsds.schedules import DESCRIPTION_PREFIX, NotWeekly, opening_hours, weekly_hours
from ambrogio.hsds.vocabularies import kind_of, unit_of
from ambrogio.importing.hsds import package_bytes, parse
from ambrogio.importing.rows import Parsed, RowIssue
from ambrogio.settings import Settings
from tests.support.hsds import EXAMPLES, HSDS, validator

JSON_EXAMPLES = sorted(EXAMPLES.glob("*.json"))

# The import profile (README, "Importing providers"; ``ambrogio.importing.rows``): the names a
# GeoJSON Feature's properties may use.
PROFILE_FIELDS = {
    "external_id", "location_id", "name", "kind", "tax_code", "description", "address", "cap",
    "comune_istat", "phone", "email", "website", "opening_hours", "services", "runts_id",
    "location_name", "geocode_precision", "wheelchair_accessible", "accessibility",
}  # fmt: skip
PROFILE_SERVICE_FIELDS = {
    "service_id", "name", "category", "price_eur", "price_unit", "welfare_eligible",
    "tuir_category", "delivery", "target_groups", "min_age", "max_age", "languages",
    "service_area_comuni", "description", "service_area", "external_categories", "cost_options",
    "categories",
}  # fmt: skip

VISIBLE_PROVIDERS = """
    SELECT id FROM organization WHERE status = 'published' AND merged_into_id IS NULL
"""
VISIBLE_LOCATIONS = f"""
    SELECT l.id, ST_Y(l.geom) AS lat, ST_X(l.geom) AS lon FROM location l
    WHERE l.status = 'published' AND l.organization_id IN ({VISIBLE_PROVIDERS})
"""
VISIBLE_SERVICES = f"""
    SELECT s.id FROM service s
    WHERE s.status = 'published' AND s.organization_id IN ({VISIBLE_PROVIDERS})
"""
VISIBLE_SITES = f"""
    SELECT sal.service_id, sal.location_id FROM service_at_location sal
    WHERE sal.service_id IN ({VISIBLE_SERVICES})
      AND sal.location_id IN (SELECT id FROM ({VISIBLE_LOCATIONS}) AS v)
"""


def all_warnings(parsed: Parsed) -> list[RowIssue]:
    return [*parsed.warnings, *(w for row in parsed.rows for w in row.warnings)]


# An oracle for the example files that does not share the importer's code: records are
# recognised by the key that holds them (or, at the top, by the file's name).

KEY_KINDS = {
    "organization": "organization",
    "organizations": "organization",
    "location": "location",
    "locations": "location",
    "service": "service",
    "services": "service",
}


def file_kind(path: Path) -> str | None:
    for prefix in ("service_at_location", "organization", "service", "location"):
        if path.name.startswith(prefix):
            return prefix
    return None


def collect(value: Any, kind: str | None, found: dict[str, dict[str, dict[str, Any]]]) -> None:
    if isinstance(value, list):
        for item in value:
            collect(item, kind, found)
    elif isinstance(value, dict):
        if kind in ("organization", "location", "service") and "id" in value:
            found[kind].setdefault(str(value["id"]), value)
        for key, child in value.items():
            if key == "contents":
                collect(child, kind, found)
            elif key in KEY_KINDS:
                collect(child, KEY_KINDS[key], found)
            elif isinstance(child, dict | list):
                collect(child, None, found)


def example_records(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    found: dict[str, dict[str, dict[str, Any]]] = {
        "organization": {},
        "location": {},
        "service": {},
    }
    document = json.loads(path.read_text())
    if path.name == "tabular.json":
        for table, kind in (
            ("organizations.csv", "organization"),
            ("locations.csv", "location"),
            ("services.csv", "service"),
        ):
            for row in document[table]:
                found[kind][row["id"]] = row
        return found
    collect(document, file_kind(path), found)
    return found


@pytest.mark.parametrize("path", JSON_EXAMPLES, ids=lambda path: path.name)
def test_every_json_example_reads_into_rows(path: Path) -> None:
    # given the specification's example and what it holds, counted by the oracle
    records = example_records(path)

    # when
    parsed = parse(path.read_bytes(), fmt=ImportFormat.HSDS_JSON, filename=path.name)

    # then every organization is a provider, every physical location a row, every service kept
    assert {row.fields["external_id"] for row in parsed.rows} == set(records["organization"])
    located = {row.fields["location_id"] for row in parsed.rows if "location_id" in row.fields}
    if records["organization"]:
        assert located == set(records["location"])
        services = {s["service_id"] for row in parsed.rows for s in row.services}
        assert services == set(records["service"])
    else:
        # A location alone names no provider; other documents hold no records at all.
        assert parsed.rows == []
        assert parsed.errors or parsed.warnings
    # the out-of-range coordinates of the examples: a warning, no point, never an error
    for row in parsed.rows:
        assert "lat" not in row.fields and "lon" not in row.fields
    out_of_range = [
        w for w in all_warnings(parsed) if w.field == "location.latitude" and w.value == 100
    ]
    assert len(out_of_range) == len(located)
    assert all(w.row >= 1 and "without a point" in w.reason for w in out_of_range)
    assert not any(e.field.endswith(("latitude", "longitude")) for e in parsed.errors)


def test_unknown_taxonomy_terms_are_kept_as_external_terms() -> None:
    parsed = parse((EXAMPLES / "service_full.json").read_bytes(), fmt=ImportFormat.HSDS_JSON)
    (service,) = parsed.rows[0].services
    assert "category" not in service
    assert service["external_categories"] == [
        {"vocabulary": "taxonomy", "code": "code", "name": "name"}
    ]


def test_records_without_an_organization_are_skipped_with_a_warning() -> None:
    # Every Ambrogio location and service belongs to a provider: there is nowhere to put them.
    parsed = parse((EXAMPLES / "location.json").read_bytes(), fmt=ImportFormat.HSDS_JSON)
    assert parsed.rows == []
    assert parsed.errors == []
    assert [(w.row, w.field) for w in parsed.warnings] == [(0, "location.organization")]
    service = {"id": "svc", "name": "Orphan", "status": "active"}
    parsed = parse(json.dumps([service]).encode(), fmt=ImportFormat.HSDS_JSON)
    assert parsed.rows == []
    assert parsed.errors == []
    assert [(w.row, w.field) for w in parsed.warnings] == [(0, "service.organization")]


def zipped(folder: Path, descriptor: Path | None = None) -> bytes:
    """The tables of ``folder`` as a zip, with ``descriptor`` as its ``datapackage.json``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.glob("*.csv")):
            archive.write(path, f"package/{path.name}")
        if descriptor is not None:
            archive.write(descriptor, "package/datapackage.json")
    return buffer.getvalue()


def comparable(parsed: Parsed) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    return [(row.fields, row.services) for row in parsed.rows]


def test_the_csv_package_reads_as_its_json_equivalent() -> None:
    # given the tabular example as CSV files (with the package descriptor, with the link file
    # a checkout leaves in its place, and zipped from the folder) and as tabular.json
    csv_forms = [
        zipped(EXAMPLES / "csv", HSDS / "datapackage.json"),
        zipped(EXAMPLES / "csv", EXAMPLES / "csv" / "datapackage.json"),
        package_bytes(EXAMPLES / "csv"),
    ]
    as_json = parse((EXAMPLES / "tabular.json").read_bytes(), fmt=ImportFormat.HSDS_JSON)

    for data in csv_forms:
        # when
        as_csv = parse(data, fmt=ImportFormat.HSDS_CSV, filename="hsds.zip")
        # then the same rows, values typed alike (CSV "100" and JSON 100), the same warnings
        assert comparable(as_csv) == comparable(as_json)
        assert all_warnings(as_csv) == all_warnings(as_json)
    assert as_json.rows[0].fields["location_id"] == "3a19ff88-4620-4d17-9830-ac1d859eb5d5"
    # the example's location names an organization that is not in the package (noted)
    assert any(w.field == "location.organization_id" for w in as_json.warnings)


def test_the_csv_package_and_the_nested_json_describe_the_same_organization() -> None:
    as_csv = parse(package_bytes(EXAMPLES / "csv"), fmt=ImportFormat.HSDS_CSV)
    nested = parse((EXAMPLES / "organization_full.json").read_bytes(), fmt=ImportFormat.HSDS_JSON)
    (csv_row,), (json_row,) = as_csv.rows, nested.rows
    # Where the two examples differ: only the tables give a tax_id (the placeholder "tax_id",
    # no Italian tax code, so dropped with a warning), and the tables' attribute links to no
    # service of the package.
    assert csv_row.fields == json_row.fields
    assert "tax_code" not in csv_row.fields
    assert [w.value for w in csv_row.warnings if w.field == "organization.tax_id"] == ["tax_id"]
    strip = [{k: v for k, v in s.items() if k != "external_categories"} for s in json_row.services]
    assert csv_row.services == strip


@pytest.mark.parametrize(
    ("data", "fmt", "reason"),
    [
        (b"", ImportFormat.HSDS_JSON, "empty"),
        (b'{"id": "x",', ImportFormat.HSDS_JSON, "not JSON"),
        (b"\xff\xfe{}", ImportFormat.HSDS_JSON, "not UTF-8"),
        (b"id,name\n", ImportFormat.HSDS_CSV, "not a zip"),
    ],
)
def test_an_unreadable_file_says_why(data: bytes, fmt: ImportFormat, reason: str) -> None:
    with pytest.raises(UnreadableFile) as caught:
        parse(data, fmt=fmt, filename="upload")
    assert reason in caught.value.reason
    assert caught.value.reason.startswith("upload: ")


def test_a_package_without_its_organization_table_is_unreadable() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(EXAMPLES / "csv" / "services.csv", "services.csv")
    with pytest.raises(UnreadableFile, match=r"organizations\.csv"):
        parse(buffer.getvalue(), fmt=ImportFormat.HSDS_CSV)


ORG_ID = "5a0e3e0e-1b7a-4d55-9a43-5f7f1c0e2b11"
DOCUMENT = {
    "id": ORG_ID,
    "name": "Cooperativa Sociale La Rete",
    "description": "Servizi domiciliari",
    "legal_status": "Cooperativa sociale di tipo A",
    "website": "https://larete.example",
    "phones": [{"id": "p1", "number": "+39 0341 000000"}],
    "locations": [
        {
            "id": "loc-lecco",
            "location_type": "physical",
            "latitude": "45.8566",
            "longitude": 9.3977,
            "addresses": [
                {
                    "id": "a1",
                    "address_1": "Via Roma 1",
                    "city": "Lecco",
                    "postal_code": "23900",
                    "country": "IT",
                    "address_type": "physical",
                }
            ],
            "schedules": [
                {"id": "s1", "freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR", "opens_at": "09:00",
                 "closes_at": "12:30"},
                {"id": "s2", "byday": "MO,TU,WE,TH,FR", "opens_at": "14:00:00",
                 "closes_at": "18:00:00"},
                {"id": "s3", "byday": "SA", "opens_at": "09:00Z", "closes_at": "12:00Z"},
            ],
        },
        {"id": "loc-web", "location_type": "virtual", "url": "https://larete.example"},
    ],
    "services": [
        {
            "id": "svc-home",
            "name": "Assistenza domiciliare",
            "status": "active",
            "cost_options": [{"id": "c1", "amount": 22.5, "currency": "EUR",
                              "amount_description": "Tariffa oraria"}],
            "attributes": [
                {"id": "at1", "taxonomy_term": {"id": "t1", "code": "assistenza-domiciliare",
                                                "name": "x", "taxonomy": "ambrogio"}},
                {"id": "at2", "taxonomy_term": {"id": "t2", "code": "LH-0300",
                                                "name": "Home care", "taxonomy": "AIRS"}},
                {"id": "at3", "taxonomy_term": {"id": "t3", "code": "at_home", "name": "at_home",
                                                "taxonomy": "ambrogio:delivery"}},
            ],
            "service_areas": [
                {"id": "sa1", "name": "Valmadrera"},
                {"id": "sa2", "extent": "097042", "extent_type": "istat_comune"},
            ],
        },
        {
            "id": "svc-desk",
            "name": "Sportello",
            "status": "active",
            "service_at_locations": [{"id": "sal1", "location_id": "loc-lecco"}],
            "cost_options": [{"id": "c2", "amount": 0}],
        },
        {"id": "svc-old", "name": "Chiuso", "status": "defunct"},
    ],
}  # fmt: skip


def test_a_document_maps_onto_the_import_profile() -> None:
    # when
    parsed = parse(json.dumps(DOCUMENT).encode(), fmt=ImportFormat.HSDS_JSON)

    # then the physical location is a row with its desk service; the at-home service, offered
    # at no location, is in a row of the provider alone; virtual and defunct things are noted
    located, provider_only = parsed.rows
    assert located.fields == {
        "external_id": ORG_ID,
        "name": "Cooperativa Sociale La Rete",
        "kind": "social_cooperative",
        "description": "Servizi domiciliari",
        "website": "https://larete.example",
        "phone": "+39 0341 000000",
        "location_id": "loc-lecco",
        "lat": 45.8566,
        "lon": 9.3977,
        "address": "Via Roma 1",
        "cap": "23900",
        "comune_istat": "097042",
        "opening_hours": "Mo-Fr 09:00-12:30,14:00-18:00; Sa 09:00-12:00",
    }
    assert located.services == [
        {
            "service_id": "svc-desk",
            "name": "Sportello",
            "cost_options": [{"unit": "free", "amount": 0}],
        }
    ]
    assert "location_id" not in provider_only.fields
    assert provider_only.services == [
        {
            "service_id": "svc-home",
            "name": "Assistenza domiciliare",
            "cost_options": [{"unit": "hour", "amount": 22.5}],
            "category": "assistenza-domiciliare",
            "delivery": ["at_home"],
            "external_categories": [{"vocabulary": "AIRS", "code": "LH-0300", "name": "Home care"}],
            "service_area_comuni": ["097083", "097042"],
        }
    ]
    noted = {(w.field, w.value) for w in all_warnings(parsed)}
    assert ("location.location_type", "virtual") in noted
    assert ("service.status", "defunct") in noted
    assert parsed.errors == []


def test_a_bundle_gathers_records_under_their_organization() -> None:
    # given an organization, and its service and location given apart from it
    organization = json.loads((EXAMPLES / "organization_list.json").read_text())["contents"][0]
    service = {"id": "svc", "name": "Extra", "status": "active", "organization_id": ORG_ID}
    location = {"id": "loc", "location_type": "physical", "organization_id": ORG_ID}
    bundle = {
        "organizations": [organization, {"id": ORG_ID, "name": "La Rete"}],
        "services": [service],
        "locations": [location],
    }

    # when
    parsed = parse(json.dumps(bundle).encode(), fmt=ImportFormat.HSDS_JSON)

    # then the first organization alone; the second at its location, and with its service
    # (offered at no location) in a row of the provider alone
    alone, located, provider_only = parsed.rows
    assert alone.fields["external_id"] == organization["id"] and alone.services == []
    assert located.fields["external_id"] == ORG_ID and located.fields["location_id"] == "loc"
    assert located.services == []
    assert provider_only.fields["external_id"] == ORG_ID
    assert "location_id" not in provider_only.fields
    assert [s["service_id"] for s in provider_only.services] == ["svc"]


@pytest.mark.parametrize(
    ("hours", "weekly"),
    [
        ("Mo-Fr 08:30-12:30,14:00-18:00; Sa 09:00-12:00; PH off",
         "Mo-Fr 08:30-12:30,14:00-18:00; Sa 09:00-12:00"),
        ("Mo-Fr 09:00-12:00; Th 14:00-17:00; PH off", "Mo-We,Fr 09:00-12:00; Th 14:00-17:00"),
        ("Tu,Th 15:00-19:00", "Tu,Th 15:00-19:00"),
        ("Mo-Fr 07:30-16:30; Aug off; PH off", "Mo-Fr 07:30-16:30"),
        ("24/7", None),
    ],
)  # fmt: skip
def test_weekly_hours_travel_as_schedules(hours: str, weekly: str | None) -> None:
    schedules = [
        {"freq": "WEEKLY", "byday": group.byday, "opens_at": opens, "closes_at": closes}
        for group in weekly_hours(hours)
        for opens, closes in group.ranges
    ]
    # Weekly fields say the weekly part; the description carries the whole string back.
    assert opening_hours(schedules) == weekly
    described = [{**s, "description": DESCRIPTION_PREFIX + hours} for s in schedules or [{}]]
    assert opening_hours(described) == hours


def test_schedules_beyond_weekly_hours_are_refused() -> None:
    with pytest.raises(NotWeekly, match="MONTHLY"):
        opening_hours([{"freq": "MONTHLY", "byday": "2MO", "opens_at": "09:00"}])
    with pytest.raises(NotWeekly, match="occurrence"):
        opening_hours([{"byday": "2MO", "opens_at": "09:00", "closes_at": "10:00"}])
    with pytest.raises(NotWeekly, match="closes_at"):
        opening_hours([{"byday": "MO", "opens_at": "09:00"}])


def test_kinds_and_units_from_words() -> None:
    assert kind_of("Limited Company") == "business"
    assert kind_of("Associazione di promozione sociale") == "association"
    assert kind_of("social_cooperative") == "social_cooperative"
    assert kind_of("tax_status") is None
    assert unit_of("per 1 hour session") == "session"
    assert unit_of("Tariffa oraria") == "hour"
    assert unit_of(None, "Retta mensile") == "month"
    assert unit_of("quota") is None


# Exports of the demo catalogue


async def ids_of(engine: AsyncEngine, sql: str) -> set[str]:
    async with engine.connect() as conn:
        return {str(row[0]) for row in await conn.execute(text(sql))}


async def test_the_hsds_export_is_valid_and_exactly_the_published_catalogue(
    client: Any, engine: AsyncEngine
) -> None:
    # when
    response = await client.get("/export/hsds.json")

    # then a download of valid HSDS organizations
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="hsds.json"'
    assert response.headers["content-type"].startswith("application/json")
    organizations = response.json()
    check = validator()
    for organization in organizations:
        errors = [f"{list(e.path)}: {e.message}" for e in check.iter_errors(organization)]
        assert errors == [], organization["id"]
    # and the published records, all of them, no other
    providers = {o["id"] for o in organizations}
    locations = [loc["id"] for o in organizations for loc in o.get("locations", [])]
    services = [s["id"] for o in organizations for s in o.get("services", [])]
    assert len(providers) == len(organizations) == 284
    assert providers == await ids_of(engine, VISIBLE_PROVIDERS)
    assert sorted(locations) == sorted(await ids_of(engine, VISIBLE_LOCATIONS))
    assert sorted(services) == sorted(await ids_of(engine, VISIBLE_SERVICES))
    sites = {
        (s["id"], link["location_id"])
        for o in organizations
        for s in o.get("services", [])
        for link in s.get("service_at_locations", [])
    }
    async with engine.connect() as conn:
        expected = {(str(a), str(b)) for a, b in await conn.execute(text(VISIBLE_SITES))}
    assert sites == expected


async def test_the_geojson_export_is_the_catalogue_in_the_import_profile(
    client: Any, engine: AsyncEngine
) -> None:
    # when
    response = await client.get("/export/catalogue.geojson")

    # then
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    async with engine.connect() as conn:
        points = {
            str(row.id): (row.lat, row.lon) for row in await conn.execute(text(VISIBLE_LOCATIONS))
        }
        sites = {(str(a), str(b)) for a, b in await conn.execute(text(VISIBLE_SITES))}
    located = [f for f in features if "location_id" in f["properties"]]
    assert sorted(f["properties"]["location_id"] for f in located) == sorted(points)
    for feature in located:
        lat, lon = points[feature["properties"]["location_id"]]
        feature_lon, feature_lat = feature["geometry"]["coordinates"]
        assert abs(feature_lat - lat) <= 1e-9 and abs(feature_lon - lon) <= 1e-9
    for feature in features:
        properties = feature["properties"]
        assert set(properties) <= PROFILE_FIELDS
        assert {"external_id", "name", "kind", "services"} <= set(properties)
        for service in properties["services"]:
            assert set(service) <= PROFILE_SERVICE_FIELDS
        if "location_id" not in properties:
            assert feature["geometry"] is None
    exported_sites = {
        (s["service_id"], f["properties"]["location_id"]) for f in located
        for s in f["properties"]["services"]
    }  # fmt: skip
    assert exported_sites == sites
    everywhere = {s["service_id"] for f in features for s in f["properties"]["services"]}
    assert everywhere == await ids_of(engine, VISIBLE_SERVICES)


def as_rows(features: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Features flattened as the import flattens them, without empty lists."""

    def tidy(record: dict[str, Any]) -> dict[str, Any]:
        # Every price is in ``cost_options``; ``price_eur``/``price_unit`` repeat the first.
        return {k: v for k, v in record.items() if v != [] and k not in ("price_eur", "price_unit")}

    rows = []
    for feature in features:
        fields = {k: v for k, v in feature["properties"].items() if k != "services"}
        if feature["geometry"] is not None:
            fields["lon"], fields["lat"] = feature["geometry"]["coordinates"]
        rows.append((fields, [tidy(s) for s in feature["properties"]["services"]]))
    return rows


async def test_an_hsds_export_reads_back_as_the_geojson_export(client: Any) -> None:
    # given both exports of the same catalogue
    exported = (await client.get("/export/hsds.json")).content
    features = (await client.get("/export/catalogue.geojson")).json()["features"]

    # when the HSDS export is imported
    parsed = parse(exported, fmt=ImportFormat.HSDS_JSON, filename="hsds.json")

    # then it gives the rows the GeoJSON export describes, with nothing refused
    assert parsed.errors == []
    assert [(w.field, w.reason) for w in all_warnings(parsed)] == []
    assert comparable(parsed) == as_rows(features)


async def test_drafts_are_not_exported(
    client: Any, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # given a draft provider with a published location and service, and a draft location and
    # service of a published provider
    draft_provider, draft_location, draft_service = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    published_location, published_service = uuid.uuid4(), uuid.uuid4()
    point = WKTElement("POINT(9.39 45.85)", srid=4326)
    async with sessionmaker() as session, session.begin():
        owner = (
            await session.execute(text(f"{VISIBLE_PROVIDERS} ORDER BY id LIMIT 1"))
        ).scalar_one()
        session.add(
            Organization(
                id=draft_provider, name="Bozza", kind="business", status="draft",
                source="test-hsds", external_id=str(draft_provider),
            )
        )  # fmt: skip
        await session.flush()
        for location, organization, status in (
            (published_location, draft_provider, "published"),
            (draft_location, owner, "draft"),
        ):
            session.add(
                Location(
                    id=location, organization_id=organization, status=status, geom=point,
                    geocode_precision="exact",
                )
            )  # fmt: skip
        for service, organization, status in (
            (published_service, draft_provider, "published"),
            (draft_service, owner, "draft"),
        ):
            session.add(
                Service(id=service, organization_id=organization, name="Bozza", status=status)
            )
    try:
        # when
        hsds_body = (await client.get("/export/hsds.json")).text
        geojson_body = (await client.get("/export/catalogue.geojson")).text
    finally:
        async with sessionmaker() as session, session.begin():
            await session.execute(
                delete(Service).where(Service.id.in_([published_service, draft_service]))
            )
            await session.execute(
                delete(Location).where(Location.id.in_([published_location, draft_location]))
            )
            await session.execute(delete(Organization).where(Organization.id == draft_provider))

    # then none of them is in either export
    for record in (
        draft_provider, draft_location, draft_service, published_location, published_service
    ):  # fmt: skip
        assert str(record) not in hsds_body
        assert str(record) not in geojson_body


async def test_the_export_reads_in_a_few_statements_per_batch(
    sessionmaker: async_sessionmaker[AsyncSession], statements: Any
) -> None:
    statements.reset()
    batches = [batch async for batch in published_catalogue(sessionmaker, batch_size=100)]
    assert [len(batch.providers) for batch in batches] == [100, 100, 84]
    # The comuni once, then per batch the providers and five statements for their records.
    assert statements.count == 1 + 6 * len(batches)


def test_the_export_command_writes_a_file(settings: Settings, db_url: str, tmp_path: Path) -> None:
    from ambrogio.cli.transfer import export_catalogue

    target = tmp_path / "catalogue.geojson"
    test_settings = settings.model_copy(update={"database_url": db_url})
    args = argparse.Namespace(format="geojson", output=str(target))
    assert export_catalogue(test_settings, args) == 0
    assert json.loads(target.read_text())["type"] == "FeatureCollection"
    assert [p.name for p in tmp_path.iterdir()] == ["catalogue.geojson"]
