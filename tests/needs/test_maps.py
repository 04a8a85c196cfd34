"""The gap map for planners: GeoJSON, CSV and vector tiles carry needsGaps's figures, one
feature per comune at its boundary or centroid; without the permission, 401 or 403."""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime
from typing import Any

import mapbox_vector_tile
import pytest
import shapely
import shapely.geometry

from ambrogio.needs import analysis
from tests.support.import_db import ImportDb
from tests.support.needs import (
    GALBIATE,
    LECCO,
    VALMADRERA,
    day_in,
    desk,
    ended_quarters,
    need_row,
    replace_needs,
)

GAPS = """
query ($category: String) {
  needsGaps(category: $category) {
    cells { comune { istatCode lat lon } category { slug } pooled needs unmetReferrals
            servicesReaching freeSeats gapScore }
  }
}"""


@pytest.fixture(scope="module")
async def planner(needs_db: ImportDb) -> dict[str, str]:
    point = await desk(needs_db.sessionmaker, needs_db.settings, "maps", LECCO)
    quarters = ended_quarters(analysis.today_in_rome(datetime.now(UTC)), 2)
    rows = [
        need_row(point.id, comune, slug, day_in(quarter.first_week, n % 5))
        for comune, slug, count in (
            (LECCO, "badante", 9),
            (VALMADRERA, "badante", 6),
            (GALBIATE, "asilo-nido", 5),
            (GALBIATE, "badante", 2),
        )
        for quarter in quarters
        for n in range(count)
    ]
    await replace_needs(needs_db.sessionmaker, rows)
    return await needs_db.login("planner-maps", "planner")


async def _cells(needs_db: ImportDb, planner: dict[str, str], category: str | None) -> Any:
    result = await needs_db.gql(GAPS, planner, category=category)
    assert not result.errors
    return [
        cell
        for cell in result.data["needsGaps"]["cells"]
        if not cell["pooled"] and (cell["category"] or {}).get("slug") == category
    ]


@pytest.mark.parametrize("category", [None, "badante"])
async def test_the_geojson_is_the_gap_analysis_on_the_map(
    needs_db: ImportDb, planner: dict[str, str], category: str | None
) -> None:
    query = f"?category={category}" if category else ""
    response = await needs_db.client.get(f"/needs/gaps.geojson{query}", headers=planner)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    cells = await _cells(needs_db, planner, category)
    assert len(cells) >= 2  # guard
    by_code = {feature["id"]: feature for feature in body["features"]}
    assert set(by_code) == {cell["comune"]["istatCode"] for cell in cells}
    for cell in cells:
        feature = by_code[cell["comune"]["istatCode"]]
        assert feature["properties"]["needs"] == cell["needs"]
        assert feature["properties"]["unmet"] == cell["unmetReferrals"]
        assert feature["properties"]["services"] == cell["servicesReaching"]
        assert feature["properties"]["gap_score"] == cell["gapScore"]
        # the comune's boundary, holding (to the simplification's slack) its centroid
        assert feature["geometry"]["type"] == "MultiPolygon"
        assert feature["properties"]["polygon"] is True
        centroid = shapely.Point(cell["comune"]["lon"], cell["comune"]["lat"])
        assert shapely.geometry.shape(feature["geometry"]).distance(centroid) < 0.002


async def test_the_csv_holds_every_row(needs_db: ImportDb, planner: dict[str, str]) -> None:
    response = await needs_db.client.get("/needs/gaps.csv", headers=planner)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    result = await needs_db.gql(GAPS, planner)
    cells = result.data["needsGaps"]["cells"]
    assert len(rows) == len(cells) > 0
    lecco = next(r for r in rows if r["comune"] == LECCO and r["category"] == "badante")
    assert lecco["name"] == "Lecco" and int(lecco["needs"]) == 18


def _tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    n = 1 << zoom
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


async def test_the_tiles_hold_the_comuni_of_the_tile(
    needs_db: ImportDb, planner: dict[str, str]
) -> None:
    cells = await _cells(needs_db, planner, "badante")
    lecco = next(cell for cell in cells if cell["comune"]["istatCode"] == LECCO)
    x, y = _tile_of(lecco["comune"]["lon"], lecco["comune"]["lat"], 10)
    response = await needs_db.client.get(
        f"/tiles/needs_gaps/10/{x}/{y}.mvt?category=badante", headers=planner
    )
    assert response.status_code == 200
    layer = mapbox_vector_tile.decode(response.content)["needs_gaps"]
    found = {f["properties"]["comune"]: f["properties"] for f in layer["features"]}
    assert found[LECCO]["needs"] == lecco["needs"]
    assert found[LECCO]["category"] == "badante"
    assert set(found) <= {cell["comune"]["istatCode"] for cell in cells}
    # far away, nothing
    empty = await needs_db.client.get("/tiles/needs_gaps/10/0/0.mvt", headers=planner)
    assert empty.status_code == 204


async def test_tilejson_documents_the_layer(needs_db: ImportDb) -> None:
    response = await needs_db.client.get("/tiles/needs_gaps.json?category=badante")
    body = response.json()
    assert body["tiles"][0].endswith("/tiles/needs_gaps/{z}/{x}/{y}.mvt?category=badante")
    assert set(body["vector_layers"][0]["fields"]) >= {"comune", "needs", "gap_score"}


@pytest.mark.parametrize("path", ["/needs/gaps.geojson", "/needs/gaps.csv",
                                  "/tiles/needs_gaps/10/500/300.mvt"])  # fmt: skip
async def test_the_map_needs_the_permission(needs_db: ImportDb, path: str) -> None:
    anonymous = await needs_db.client.get(path)
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    key = await needs_db.client.post(
        "/graphql",
        json={"query": 'mutation { createApiKey(name: "k") { key } }'},
        headers=await needs_db.login("admin-maps", "admin"),
    )
    api = {"X-API-Key": key.json()["data"]["createApiKey"]["key"]}
    assert (await needs_db.client.get(path, headers=api)).status_code == 403


async def test_bad_parameters_name_themselves(needs_db: ImportDb, planner: dict[str, str]) -> None:
    for query, field in (
        ("from=2026-01-01", "from"),
        ("to=2026-W03", "to"),
        ("comuni=097042,12", "comuni"),
        ("category=astronautica", "category"),
        ("colour=red", "colour"),
    ):
        response = await needs_db.client.get(f"/needs/gaps.geojson?{query}", headers=planner)
        assert response.status_code == 400, query
        assert response.json()["errors"][0]["extensions"]["field"] == field
