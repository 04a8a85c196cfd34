"""Bulk import through the GraphQL multipart upload, on a database of its own."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ambrogio.ids import record_id, to_global_id
from ambrogio.settings import Settings
from tests.support.import_db import ImportDb, import_db
from tests.support.import_files import (
    CODICE_FISCALE,
    LECCO,
    MERATE,
    PARTITA_IVA,
    PARTITA_IVA_2,
    feature,
    geojson,
    service,
    to_csv,
)

SELF_INTERSECTING = {  # a bow tie
    "type": "Polygon",
    "coordinates": [[[9.30, 45.80], [9.40, 45.90], [9.40, 45.80], [9.30, 45.90], [9.30, 45.80]]],
}

LOCATION = """
query Location($id: ID!) {
  node(id: $id) { ... on Location { lat lon geocodePrecision outsideTerritory } }
}
"""
JOBS = "query { importJobs(first: 50) { totalCount edges { node { id status caller } } } }"
JOB = "query Job($id: ID!) { importJob(id: $id) { id status dryRun created errors { row } } }"
APPROVE = "mutation A($id: ID!) { approveImport(jobId: $id) { status created failure } }"
REJECT = "mutation R($id: ID!, $reason: String!) { rejectImport(jobId: $id, reason: $reason) { status reason } }"  # noqa: E501


@pytest.fixture(scope="module")
async def imp(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_imp_{os.getpid()}", template_db):
        yield db


@pytest.fixture(scope="module")
async def reviewer(imp: ImportDb) -> dict[str, str]:
    return await imp.login("imp-reviewer", "reviewer")


@pytest.fixture(scope="module")
async def mapper(imp: ImportDb) -> dict[str, str]:
    return await imp.login("imp-mapper", "mapper")


def report(result: Any) -> dict[str, Any]:
    assert result.errors == [], result.errors
    data: dict[str, Any] = result.data["importProviders"]
    return data


def bad_rows_file() -> bytes:
    return geojson(
        feature("good"),  # 1
        feature("noname", name=None),  # 2
        feature("far", lat=200.0),  # 3
        feature("badcf", tax_code="RSSMRA85T10A562X"),  # 4
        feature("bowtie", services=[service(service_area=SELF_INTERSECTING)]),  # 5
        feature("nocat", services=[service(category="chiromanzia")]),  # 6
        feature("good", address="Via Roma 2"),  # 7: the location of row 1 again
    )


async def test_bad_rows_are_each_reported_and_nothing_is_written(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    # given
    before = await imp.counts()
    # when
    out = report(await imp.upload(bad_rows_file(), source="bad", headers=reviewer))
    # then
    assert out["status"] == "FAILED"
    assert (out["created"], out["updated"], out["skipped"]) == (0, 0, 0)
    errors = {(e["row"], e["field"]): e for e in out["errors"]}
    assert set(errors) == {
        (2, "name"),
        (3, "lat"),
        (4, "tax_code"),
        (5, "services[0].service_area"),
        (6, "services[0].category"),
        (7, "location_id"),
    }
    assert errors[(2, "name")]["reason"] == "is required"
    assert errors[(3, "lat")]["value"] == 200
    assert "between -90 and 90" in errors[(3, "lat")]["reason"]
    assert errors[(4, "tax_code")]["value"] == "RSSMRA85T10A562X"
    assert "codice fiscale" in errors[(4, "tax_code")]["reason"]
    assert "Self-intersection" in errors[(5, "services[0].service_area")]["reason"]
    assert errors[(6, "services[0].category")]["value"] == "chiromanzia"
    assert "row 1" in errors[(7, "location_id")]["reason"]
    assert await imp.counts() == before


async def test_skip_bad_rows_writes_the_good_rows_only(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    out = report(
        await imp.upload(bad_rows_file(), source="skip", headers=reviewer, skip_bad_rows=True)
    )
    assert out["status"] == "SUCCEEDED"
    assert (out["created"], out["skipped"], len(out["errors"])) == (1, 6, 6)
    names = await imp.rows("SELECT external_id FROM organization WHERE source = 'skip'")
    assert [name for (name,) in names] == ["good"]
    assert await imp.scalar("SELECT count(*) FROM location WHERE source = 'skip'") == 1


@pytest.mark.parametrize(
    ("data", "filename", "fmt", "reason"),
    [
        (
            "città;name\n".encode("latin-1"),
            "latin.csv",
            "CSV",
            "is not UTF-8: byte 0xe0 at offset 4",
        ),
        (b"", "empty.geojson", "GEOJSON", "is empty"),
        (b"  \n", "blank.csv", "CSV", "is empty"),
        (b"{not json", "broken.geojson", "GEOJSON", "is not JSON"),
        (b'{"type": "Feature"}', "feature.geojson", "GEOJSON", "not a GeoJSON FeatureCollection"),
    ],
)
async def test_unreadable_files_are_bad_user_input_on_file(
    imp: ImportDb, reviewer: dict[str, str], data: bytes, filename: str, fmt: str, reason: str
) -> None:
    before = await imp.counts()
    result = await imp.upload(
        data, source="unreadable", headers=reviewer, filename=filename, fmt=fmt
    )
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == "file"
    assert reason in result.errors[0]["message"]
    assert await imp.counts() == before


async def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    limit = imp.settings.import_max_bytes
    big = geojson(*[feature(f"big-{n}") for n in range(limit // 500)])
    assert len(big) > limit >= 10 * 2**20
    result = await imp.upload(big, source="big", headers=reviewer)
    assert result.status == 413
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == "file"
    assert f"{limit:,} bytes (10 MiB)" in result.errors[0]["message"]
    assert await imp.scalar("SELECT count(*) FROM organization WHERE source = 'big'") == 0


async def test_the_resolver_counts_the_bytes_of_an_upload_without_length() -> None:
    from ambrogio.errors import BadUserInput
    from ambrogio.resolvers.importing import read_upload

    class Stream:
        filename = "stream.csv"

        def __init__(self, size: int) -> None:
            self.left = size

        async def read(self, n: int) -> bytes:
            chunk = b"x" * min(n, self.left)
            self.left -= len(chunk)
            return chunk

    assert len((await read_upload(Stream(3000), 3000))[0]) == 3000
    with pytest.raises(BadUserInput) as raised:
        await read_upload(Stream(3001), 3000)
    assert raised.value.field == "file" and "3,000 bytes" in raised.value.reason


async def test_anonymous_import_is_unauthenticated(imp: ImportDb) -> None:
    result = await imp.upload(geojson(feature("anon")), source="anon", headers=None)
    assert result.codes == ["UNAUTHENTICATED"]
    assert await imp.scalar("SELECT count(*) FROM organization WHERE source = 'anon'") == 0


FILE = [
    feature("a", tax_code=PARTITA_IVA),
    feature(
        "b",
        lat=45.70,
        lon=9.41,
        comune_istat=MERATE,
        cap="23807",
        tax_code=CODICE_FISCALE,
        services=[
            service("Badante", category="badante", service_id="s-1"),
            service(
                "Centro diurno",
                category="centro-diurno",
                price_eur=None,
                price_unit="free",
                delivery=["on_site"],
            ),
        ],
    ),
    feature("c", location_id="north", lat=45.95, lon=9.38, services=[]),
    feature("c", location_id="south", lat=45.75, lon=9.40, opening_hours="Tu,Th 15:00-19:00"),
]


async def _versions(imp: ImportDb, source: str) -> list[Any]:
    return await imp.rows(
        "SELECT 'o', external_id, version, updated_at FROM organization WHERE source = :s "
        "UNION ALL SELECT 'l', external_id, version, updated_at FROM location WHERE source = :s "
        "UNION ALL SELECT 's', external_id, version, updated_at FROM service WHERE source = :s "
        "ORDER BY 1, 2",
        s=source,
    )


async def test_dry_run_reports_exactly_and_writes_nothing_but_the_job(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    # given: one provider already there, one changed
    report(await imp.upload(geojson(*FILE[:2]), source="dry", headers=reviewer))
    before = await imp.counts()
    changed = [FILE[0], feature("b", name="Altro nome"), *FILE[2:]]
    # when
    out = report(await imp.upload(geojson(*changed), source="dry", headers=reviewer, dry_run=True))
    # then
    assert (out["status"], out["dryRun"]) == ("SUCCEEDED", True)
    assert (out["rows"], out["created"], out["updated"], out["unchanged"]) == (4, 1, 1, 1)
    assert await imp.counts() == before
    job = await imp.gql(JOB, reviewer, id=out["id"])
    assert job.data["importJob"]["dryRun"] is True
    assert job.data["importJob"]["created"] == 1


async def test_reimport_changes_nothing_and_a_changed_field_bumps_one_version(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    first = report(await imp.upload(geojson(*FILE), source="again", headers=reviewer))
    assert (first["status"], first["created"], first["updated"]) == ("SUCCEEDED", 3, 0)
    versions = await _versions(imp, "again")
    assert len(versions) == 3 + 4 + 4

    again = report(await imp.upload(geojson(*FILE), source="again", headers=reviewer))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert await _versions(imp, "again") == versions

    phoned = {**FILE[1], "properties": {**FILE[1]["properties"], "phone": "0341 999999"}}
    edited = [FILE[0], phoned, *FILE[2:]]
    changed = report(await imp.upload(geojson(*edited), source="again", headers=reviewer))
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 2)
    after = {(kind, ext): (version, at) for kind, ext, version, at in await _versions(imp, "again")}
    for kind, ext, version, at in versions:
        bumped = (kind, ext) == ("o", "b")
        assert after[(kind, ext)][0] == version + (1 if bumped else 0), (kind, ext)
        assert (after[(kind, ext)][1] > at) == bumped


async def test_a_changed_price_is_an_updated_provider_and_service(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    report(await imp.upload(geojson(FILE[0]), source="price", headers=reviewer))
    dearer = feature("a", tax_code=PARTITA_IVA, services=[service(price_eur=25)])
    out = report(await imp.upload(geojson(dearer), source="price", headers=reviewer))
    assert (out["created"], out["updated"]) == (0, 1)
    rows = await imp.rows(
        "SELECT s.version, c.amount, s.prices_changed_at IS NOT NULL FROM service s "
        "JOIN cost_option c ON c.service_id = s.id WHERE s.source = 'price'"
    )
    assert [(v, str(amount), changed) for v, amount, changed in rows] == [(2, "25.00", True)]
    assert await imp.scalar("SELECT version FROM organization WHERE source = 'price'") == 1


async def test_the_csv_equivalent_of_a_geojson_file_is_the_same_records(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    report(await imp.upload(geojson(*FILE), source="same", headers=reviewer))
    records = await _versions(imp, "same")
    for delimiter in (",", ";"):
        out = report(
            await imp.upload(
                to_csv(*FILE, delimiter=delimiter),
                source="same",
                headers=reviewer,
                filename="providers.csv",
                fmt="CSV",
            )
        )
        assert (out["rows"], out["created"], out["updated"], out["unchanged"]) == (4, 0, 0, 3)
    assert await _versions(imp, "same") == records


async def test_rows_without_coordinates_get_the_comune_centroid(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    rows = [
        feature("by-comune", lat=None, comune_istat=MERATE, cap=None),
        feature("by-cap", lat=None, comune_istat=None, cap="23900"),
        feature("nowhere", lat=None, comune_istat=None, cap=None, address="Via Roma 1"),
    ]
    out = report(await imp.upload(geojson(*rows), source="centroid", headers=reviewer))
    assert (out["status"], out["created"]) == ("SUCCEEDED", 3)
    assert [(w["row"], w["field"]) for w in out["warnings"]] == [(3, "lat")]
    for external_id, comune in (("by-comune", MERATE), ("by-cap", LECCO)):
        lat, lon = (
            await imp.rows(
                "SELECT ST_Y(centroid), ST_X(centroid) FROM comune WHERE istat_code = :c", c=comune
            )
        )[0]
        location = record_id("centroid", f"{external_id}/location")
        result = await imp.gql(LOCATION, id=to_global_id("Location", location))
        assert result.data["node"] == {
            "lat": pytest.approx(lat, abs=1e-9),
            "lon": pytest.approx(lon, abs=1e-9),
            "geocodePrecision": "COMUNE",
            "outsideTerritory": False,
        }
        assert (
            await imp.scalar("SELECT comune_istat FROM location WHERE id = :id", id=location)
            == comune
        )
    exact = record_id("again", "a/location")
    located = await imp.gql(LOCATION, id=to_global_id("Location", exact))
    assert located.data["node"]["geocodePrecision"] == "EXACT"
    unlocated = await imp.scalar(
        "SELECT geom IS NULL AND geocode_precision IS NULL FROM location WHERE source = 'centroid' "
        "AND external_id = 'nowhere/location'"
    )
    assert unlocated is True


async def test_a_point_outside_the_territory_is_kept_and_flagged(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    out = report(
        await imp.upload(
            geojson(feature("milano", lat=45.46, lon=9.19)), source="outside", headers=reviewer
        )
    )
    assert out["created"] == 1
    location = record_id("outside", "milano/location")
    result = await imp.gql(LOCATION, id=to_global_id("Location", location))
    assert result.data["node"]["outsideTerritory"] is True


async def test_a_mappers_import_waits_for_review(
    imp: ImportDb, mapper: dict[str, str], reviewer: dict[str, str]
) -> None:
    # given
    before = await imp.counts()
    # when
    out = report(await imp.upload(geojson(*FILE), source="mapped", headers=mapper))
    # then: counted, not written
    assert (out["status"], out["created"]) == ("PENDING_REVIEW", 3)
    assert await imp.counts() == before
    assert await imp.scalar("SELECT file_content IS NOT NULL FROM import_job WHERE status = "
                            "'pending_review' AND caller = 'imp-mapper'") is True  # fmt: skip
    # a mapper may not approve
    denied = await imp.gql(APPROVE, mapper, id=out["id"])
    assert denied.codes == ["FORBIDDEN"]
    # the reviewer approves: published
    approved = await imp.gql(APPROVE, reviewer, id=out["id"])
    assert approved.data["approveImport"] == {"status": "SUCCEEDED", "created": 3, "failure": None}
    assert (
        await imp.scalar(
            "SELECT count(*) FROM organization WHERE source = 'mapped' AND status = 'published'"
        )
        == 3
    )
    again = await imp.gql(APPROVE, reviewer, id=out["id"])
    assert again.codes == ["CONFLICT"]


async def test_a_rejected_import_writes_nothing(
    imp: ImportDb, mapper: dict[str, str], reviewer: dict[str, str]
) -> None:
    out = report(await imp.upload(geojson(*FILE), source="refused", headers=mapper))
    rejected = await imp.gql(REJECT, reviewer, id=out["id"], reason="not our territory")
    assert rejected.data["rejectImport"] == {"status": "REJECTED", "reason": "not our territory"}
    assert await imp.scalar("SELECT count(*) FROM organization WHERE source = 'refused'") == 0
    assert (
        await imp.scalar("SELECT file_content IS NULL FROM import_job WHERE source = 'refused'")
        is True
    )


async def test_importers_see_their_own_jobs_and_reviewers_all(
    imp: ImportDb, mapper: dict[str, str], reviewer: dict[str, str]
) -> None:
    report(await imp.upload(geojson(FILE[0]), source="mine", headers=mapper, dry_run=True))
    own = (await imp.gql(JOBS, mapper)).data["importJobs"]
    every = (await imp.gql(JOBS, reviewer)).data["importJobs"]
    assert own["totalCount"] >= 1
    assert {edge["node"]["caller"] for edge in own["edges"]} == {"imp-mapper"}
    assert every["totalCount"] > own["totalCount"]
    reviewers_job = next(e["node"] for e in every["edges"] if e["node"]["caller"] == "imp-reviewer")
    hidden = await imp.gql(JOB, mapper, id=reviewers_job["id"])
    assert hidden.data["importJob"] is None


async def test_duplicates_are_flagged_and_hours_get_open_intervals(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    # The same tax code, names and places unlike any other provider's.
    twins = [
        feature("twin-1", name="Fondazione Gemelli", tax_code=PARTITA_IVA_2, lat=46.10,
                lon=9.35, opening_hours="Mo-Sa 07:15-12:45"),
        feature("twin-2", name="Bottega Solidale Quattro Venti", tax_code=PARTITA_IVA_2,
                lat=45.62, lon=9.60),
    ]  # fmt: skip
    out = report(await imp.upload(geojson(*twins), source="twins", headers=reviewer))
    assert out["duplicatesFlagged"] == 1
    assert any(w["field"] == "duplicates" for w in out["warnings"])
    assert (
        await imp.scalar(
            "SELECT count(*) FROM opening_hours_set s JOIN open_interval i ON i.set_id = s.id "
            "WHERE s.hours = 'Mo-Sa 07:15-12:45' AND s.comune_istat = :c",
            c=LECCO,
        )
        > 0
    )
    audit = await imp.rows(
        "SELECT actor, after->>'created' FROM audit_event WHERE action = 'import' "
        "AND entity_id = (SELECT id FROM import_job WHERE source = 'twins')"
    )
    assert audit == [("imp-reviewer", "2")]


OPTIONAL = """
SELECT o.runts_id, l.name, l.geocode_precision, l.wheelchair_accessible, l.accessibility,
       ARRAY(SELECT t.slug FROM service s JOIN service_category c ON c.service_id = s.id
             JOIN taxonomy_term t ON t.id = c.term_id
             WHERE s.organization_id = o.id ORDER BY 1) AS categories
FROM organization o JOIN location l ON l.organization_id = o.id WHERE o.source = 'optional'
"""


async def test_the_optional_fields_are_written_when_given_and_kept_when_left_out(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    # given a file with the fields an export adds
    extras = {
        "runts_id": "123456",
        "location_name": "Sede operativa",
        "geocode_precision": "address",
        "wheelchair_accessible": False,
        "accessibility": "Ingresso con due gradini",
    }
    badante = [service(categories=["badante", "assistenza-domiciliare"])]
    out = report(
        await imp.upload(
            geojson(feature("opt", services=badante, **extras)),
            source="optional",
            headers=reviewer,
        )
    )
    assert (out["created"], out["errors"]) == (1, [])
    assert [tuple(row) for row in await imp.rows(OPTIONAL)] == [
        ("123456", "Sede operativa", "address", False, "Ingresso con due gradini",
         ["assistenza-domiciliare", "badante"]),
    ]  # fmt: skip

    # when a file without them is imported: the precision of given coordinates is exact, the
    # rest stays
    out = report(
        await imp.upload(
            geojson(feature("opt", services=badante)), source="optional", headers=reviewer
        )
    )
    assert (out["updated"], out["errors"]) == (1, [])
    assert [tuple(row) for row in await imp.rows(OPTIONAL)] == [
        ("123456", "Sede operativa", "exact", False, "Ingresso con due gradini",
         ["assistenza-domiciliare", "badante"]),
    ]  # fmt: skip


async def test_a_geocode_precision_needs_coordinates_and_a_known_value(
    imp: ImportDb, reviewer: dict[str, str]
) -> None:
    out = report(
        await imp.upload(
            geojson(
                feature("no-point", lat=None, geocode_precision="comune"),
                feature("gps", geocode_precision="gps"),
            ),
            source="precision",
            headers=reviewer,
            dry_run=True,
        )
    )
    assert [(e["row"], e["field"], e["value"]) for e in out["errors"]] == [
        (1, "geocode_precision", "comune"),
        (2, "geocode_precision", "gps"),
    ]
