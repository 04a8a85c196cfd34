"""The optional external geocoder, against a fake Nominatim on 127.0.0.1: cached, paced, never
required."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from ambrogio.enums import ImportFormat
from ambrogio.importing.pipeline import ImportOptions, run_import
from ambrogio.settings import Settings
from tests.support.import_db import ImportDb, import_db
from tests.support.import_files import LECCO, feature, geojson


class FakeNominatim(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.asked: list[tuple[float, str]] = []
        self.answers: dict[str, list[dict[str, str]]] = {}
        self.failing = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/search"


class _Handler(BaseHTTPRequestHandler):
    server: FakeNominatim

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)["q"][0]
        self.server.asked.append((time.monotonic(), query))
        if self.server.failing:
            self.send_response(503)
            self.end_headers()
            return
        body = json.dumps(self.server.answers.get(query, [])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def nominatim() -> Iterator[FakeNominatim]:
    server = FakeNominatim()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
async def geo_db(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_imp_geo_{os.getpid()}", template_db):
        yield db


async def _import(db: ImportDb, url: str, data: bytes, source: str) -> object:
    settings = db.settings.model_copy(
        update={"geocoder_url": url, "geocoder_min_interval_seconds": 0.2}
    )
    options = ImportOptions(source=source, format=ImportFormat.GEOJSON)
    return await run_import(db.sessionmaker, settings, data, options)


async def _point(db: ImportDb, source: str, external_id: str) -> tuple[float, float, str]:
    rows = await db.rows(
        "SELECT ST_Y(geom), ST_X(geom), geocode_precision FROM location "
        "WHERE source = :s AND external_id = :e",
        s=source, e=f"{external_id}/location",
    )  # fmt: skip
    return rows[0]


async def test_addresses_are_geocoded_once_and_paced(
    geo_db: ImportDb, nominatim: FakeNominatim
) -> None:
    # given: the geocoder knows one address; another is unknown to it, a third is elsewhere
    nominatim.answers["Via Cavour 7, 23900 Lecco, Italia"] = [{"lat": "45.851", "lon": "9.392"}]
    nominatim.answers["Via Milano 1, 23900 Lecco, Italia"] = [{"lat": "45.46", "lon": "9.19"}]
    rows = [
        feature("known", lat=None, address="Via Cavour 7"),
        feature("unknown", lat=None, address="Via Nessuna 99"),
        feature("elsewhere", lat=None, address="Via Milano 1"),
    ]
    # when
    job = await _import(geo_db, nominatim.url, geojson(*rows), "geo")
    # then
    assert getattr(job, "created", None) == 3
    assert await _point(geo_db, "geo", "known") == (45.851, 9.392, "address")
    centroid = (await geo_db.rows(
        "SELECT ST_Y(centroid), ST_X(centroid) FROM comune WHERE istat_code = :c", c=LECCO
    ))[0]  # fmt: skip
    for name in ("unknown", "elsewhere"):
        assert await _point(geo_db, "geo", name) == (*centroid, "comune")
    assert len(nominatim.asked) == 3
    gaps = [b[0] - a[0] for a, b in zip(nominatim.asked, nominatim.asked[1:], strict=False)]
    assert min(gaps) >= 0.19
    assert await geo_db.scalar("SELECT count(*) FROM geocode_cache") == 3
    # a re-import asks nothing: every answer, "not found" too, is cached
    again = await _import(geo_db, nominatim.url, geojson(*rows), "geo")
    assert (getattr(again, "unchanged", None), len(nominatim.asked)) == (3, 3)


async def test_a_failing_geocoder_falls_back_to_the_comune(
    geo_db: ImportDb, nominatim: FakeNominatim
) -> None:
    nominatim.failing = True
    nominatim.asked.clear()
    rows = [feature(f"down-{n}", lat=None, address=f"Via Spenta {n}") for n in range(5)]
    try:
        job = await _import(geo_db, nominatim.url, geojson(*rows), "down")
    finally:
        nominatim.failing = False
    assert getattr(job, "created", None) == 5
    assert len(nominatim.asked) == 3  # given up after three failures in a row
    assert any(w["field"] == "geocoder" for w in getattr(job, "warnings", []))
    assert {(await _point(geo_db, "down", f"down-{n}"))[2] for n in range(5)} == {"comune"}
    # the geocoder may answer next time: these providers are not skipped as unchanged
    assert (
        await geo_db.scalar(
            "SELECT count(*) FROM import_digest d JOIN organization o ON o.id = d.organization_id "
            "WHERE o.source = 'down'"
        )
        == 0
    )
