"""Imported places beyond Lecco get their comune; at-home services without an area get one.

The file's places have coordinates and no comune (nor CAP): one in Bergamo, one in Como, one in
Calolziocorte a few hundred metres from the border with the Province of Bergamo, one in
Lecco, one in Lugano (abroad). The oracle for each comune is the bundled boundary read with
shapely (no SQL), and the names written here by hand. A provider in Bergamo offers an at-home
service without an area: after the import the service reaches a point of Bergamo, not one of
Lecco, and the report says where its area came from.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import shapely
from pyproj import Geod
from sqlalchemy import text

from ambrogio.geo.comune_of import Found, comuni_of
from ambrogio.geo.gazetteer import italy_comuni
from ambrogio.ids import record_id, to_global_id
from ambrogio.settings import Settings
from tests.support.import_db import ImportDb, import_db
from tests.support.import_files import feature, geojson, service

SOURCE = "placing"
GEOD = Geod(ellps="WGS84")
# (lat, lon, the comune's ISTAT code, its name, outside the territory of Lecco)
PLACES = {
    "bergamo": (45.6945, 9.6699, "016024", "Bergamo", True),
    "como": (45.8106, 9.0852, "013075", "Como", True),
    "calolzio": (45.8000, 9.4300, "097013", "Calolziocorte", False),
    "lecco": (45.8536, 9.3904, "097042", "Lecco", False),
}
LUGANO = (46.0037, 8.9511)

LOCATION = """
query Location($id: ID!) {
  node(id: $id) {
    ... on Location {
      outsideTerritory comunePrecision
      comune { istatCode name provinceCode provinceName regionCode regionName }
    }
  }
}
"""
REACHING = """
query Reaching($lat: Float!, $lon: Float!) {
  servicesReaching(point: {lat: $lat, lon: $lon}, first: 100) { edges { node { id name } } }
}
"""


@pytest.fixture(scope="module")
async def imp(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_place_{os.getpid()}", template_db):
        yield db


def _file() -> bytes:
    home = service("Assistenza domiciliare Bergamo", delivery=["at_home"])
    del home["service_area_comuni"]
    features: list[dict[str, Any]] = [
        feature(key, lat=lat, lon=lon, comune_istat=None, cap=None,
                services=[home] if key == "bergamo" else None)
        for key, (lat, lon, *_) in PLACES.items()
    ]  # fmt: skip
    features.append(feature("lugano", lat=LUGANO[0], lon=LUGANO[1], comune_istat=None, cap=None))
    return geojson(*features)


def _oracle(lat: float, lon: float) -> set[str]:
    """The comuni whose bundled boundary covers the point."""
    point = shapely.Point(lon, lat)
    return {
        comune.istat_code
        for comune in italy_comuni()
        if comune.boundary_wkt and shapely.from_wkt(comune.boundary_wkt).covers(point)
    }


async def test_places_get_their_comune_and_home_services_an_area(imp: ImportDb) -> None:
    reviewer = await imp.login("place-reviewer", "reviewer")

    result = await imp.upload(_file(), source=SOURCE, headers=reviewer)

    assert result.errors == [], result.errors
    job = result.data["importProviders"]
    assert job["status"] == "SUCCEEDED", job
    for key, (lat, lon, code, name, outside) in PLACES.items():
        assert _oracle(lat, lon) == {code}, key  # the oracle is what the names say
        location_id = to_global_id("Location", record_id(SOURCE, f"{key}/location"))
        node = (await imp.gql(LOCATION, id=location_id)).data["node"]
        assert node["comune"]["istatCode"] == code and node["comune"]["name"] == name, key
        assert node["comunePrecision"] == "boundary", key
        assert node["outsideTerritory"] is outside, key
    bergamo = (await imp.gql(LOCATION, id=to_global_id(
        "Location", record_id(SOURCE, "bergamo/location")))).data["node"]["comune"]  # fmt: skip
    assert bergamo == {
        "istatCode": "016024",
        "name": "Bergamo",
        "provinceCode": "BG",
        "provinceName": "Bergamo",
        "regionCode": "03",
        "regionName": "Lombardia",
    }
    abroad = to_global_id("Location", record_id(SOURCE, "lugano/location"))
    assert _oracle(*LUGANO) == set()
    node = (await imp.gql(LOCATION, id=abroad)).data["node"]
    assert node["comune"] is None and node["comunePrecision"] is None
    assert node["outsideTerritory"] is True  # outside the envelope

    # The at-home service without an area reaches its provider's comune, and only that.
    home = await imp.scalar(
        "SELECT id::text FROM service WHERE name = 'Assistenza domiciliare Bergamo'"
    )
    area = await imp.scalar(
        "SELECT service_area_comuni::text[] FROM service WHERE id = CAST(:id AS uuid)", id=home
    )
    assert area == ["016024"]
    warned = [w for w in job["warnings"] if w["field"] == "service_area_comuni"]
    assert len(warned) == 1 and "Bergamo (016024)" in warned[0]["reason"], job["warnings"]
    in_bergamo = await imp.gql(REACHING, lat=45.6980, lon=9.6650)
    assert _oracle(45.6980, 9.6650) == {"016024"}
    reached = {edge["node"]["id"] for edge in in_bergamo.data["servicesReaching"]["edges"]}
    assert to_global_id("Service", home) in reached
    in_lecco = await imp.gql(REACHING, lat=45.8536, lon=9.3904)
    assert to_global_id("Service", home) not in {
        edge["node"]["id"] for edge in in_lecco.data["servicesReaching"]["edges"]
    }


async def test_without_a_boundary_the_nearest_centroid_of_the_agreed_province(
    imp: ImportDb,
) -> None:
    # Given the boundaries of Calolziocorte and of its neighbours across the border with
    # Bergamo forgotten (in a transaction rolled back at the end)
    lat, lon = PLACES["calolzio"][:2]
    async with imp.sessionmaker() as session:
        try:
            await session.execute(
                text(
                    "UPDATE comune SET boundary = NULL WHERE ST_DWithin(boundary::geography, "
                    "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, 3000)"
                ),
                {"lat": lat, "lon": lon},
            )
            # When the point is looked up
            found = await comuni_of(session, [(lat, lon), LUGANO])
        finally:
            await session.rollback()
    # Then it gets the nearest centroid of the province its nearest centroids agree on
    comuni = {c.istat_code: c for c in italy_comuni()}
    nearest = sorted(
        (GEOD.inv(lon, lat, c.lon, c.lat)[2], code)
        for code, c in comuni.items()
        if c.lat is not None and c.lon is not None
    )[:5]
    provinces = [comuni[code].province_code for _, code in nearest]
    agreed = max(set(provinces), key=lambda p: (provinces.count(p), -provinces.index(p)))
    expected = next(code for _, code in nearest if comuni[code].province_code == agreed)
    assert found[0] == Found(expected, "centroid")
    assert comuni[expected].province_code == "LC"
    # and a point abroad still gets none
    assert found[1] == Found(None, None)
