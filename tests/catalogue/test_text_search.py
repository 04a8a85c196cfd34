"""Italian text search: stemming, accents, typos, relevance, and its blend with near/filters."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import from_global_id, record_id

GEOD = Geod(ellps="WGS84")

SERVICES = """
query Search($text: String, $filter: ServiceFilter, $near: LatLonInput, $r: Float,
             $order: ServiceOrder, $first: Int, $after: String) {
  services(text: $text, filter: $filter, near: $near, radiusMeters: $r, orderBy: $order,
           first: $first, after: $after) {
    totalCount
    edges { distanceMeters node { id name description categories { slug } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

PROVIDERS = """
query Search($text: String, $first: Int) {
  providers(text: $text, first: $first) {
    totalCount
    edges { node { id name } }
  }
}
"""


async def _all(gql: Any, **variables: Any) -> list[dict[str, Any]]:
    """Every page; each one's ``totalCount`` is the number of rows all the pages hold."""
    edges: list[dict[str, Any]] = []
    totals: list[int] = []
    after = None
    while True:
        result = await gql(SERVICES, first=50, after=after, **variables)
        assert result.errors == [], result.errors
        page = result.data["services"]
        edges += page["edges"]
        totals.append(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            assert set(totals) == {len(edges)}, totals
            return edges
        after = page["pageInfo"]["endCursor"]


def _key(edge: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(from_global_id(edge["node"]["id"])[1])


@pytest.fixture(scope="module")
async def written(engine: AsyncEngine):
    """A provider whose words exercise stemming, accents and descriptions."""
    org = record_id("test-text", "p1")
    services = {
        "stem": ("Visita del fisioterapista", None),
        "accent": ("Attività motoria in piscina", None),
        "described": ("Aiuto in casa", "Anche sostituzione della badante durante le ferie"),
    }
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO organization (id, source, external_id, name, kind, status)"
                " VALUES (:id, 'test-text', 'p1', 'Centro Zefiro', 'business', 'published')"
            ),
            {"id": org},
        )
        for key, (name, description) in services.items():
            await conn.execute(
                text(
                    "INSERT INTO service (id, source, external_id, organization_id, name,"
                    " description, status) VALUES (:id, 'test-text', :ext, :org, :name,"
                    " :description, 'published')"
                ),
                {
                    "id": record_id("test-text", key),
                    "ext": key,
                    "org": org,
                    "name": name,
                    "description": description,
                },
            )
    yield {key: record_id("test-text", key) for key in services}
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM organization WHERE source = 'test-text'"))


async def test_stemming_finds_other_forms_of_the_word(gql, written) -> None:
    found = {_key(edge) for edge in await _all(gql, text="fisioterapia")}

    assert written["stem"] in found


async def test_a_category_label_finds_its_services(gql, engine) -> None:
    async with engine.connect() as conn:
        in_category = set(
            (
                await conn.scalars(
                    text(
                        "SELECT s.id FROM service s"
                        " JOIN service_category sc ON sc.service_id = s.id"
                        " JOIN taxonomy_term t ON t.id = sc.term_id"
                        " JOIN organization o ON o.id = s.organization_id"
                        " WHERE t.slug = 'asilo-nido' AND s.status = 'published'"
                        " AND o.status = 'published'"
                    )
                )
            ).all()
        )

    found = {_key(edge) for edge in await _all(gql, text="asilo")}

    assert in_category and in_category <= found


async def test_accents_are_ignored(gql, written) -> None:
    found = {_key(edge) for edge in await _all(gql, text="attivita")}

    assert written["accent"] in found


async def test_a_typo_still_finds_the_word(gql) -> None:
    edges = await _all(gql, text="badnte")

    assert edges
    assert "badante" in edges[0]["node"]["name"].lower()


async def test_name_matches_rank_above_description_matches(gql, written) -> None:
    edges = await _all(gql, text="badante")
    keys = [_key(edge) for edge in edges]

    assert written["described"] in keys, "a description match is found"
    first_name_match = next(
        i for i, e in enumerate(edges) if "badante" in e["node"]["name"].lower()
    )
    assert first_name_match < keys.index(written["described"])


async def test_providers_are_found_by_their_services(gql) -> None:
    result = await gql(PROVIDERS, text="badante", first=100)

    assert result.errors == []
    assert result.data["providers"]["totalCount"] > 0


async def test_text_combines_with_filters_and_near(gql) -> None:
    near = {"lat": 45.8566, "lon": 9.3977}
    textual = {_key(e) for e in await _all(gql, text="assistenza")}
    at_home = {_key(e) for e in await _all(gql, filter={"delivery": ["AT_HOME"]})}

    both = await _all(gql, text="assistenza", filter={"delivery": ["AT_HOME"]})
    nearby = await _all(gql, text="fisioterapia", near=near, r=5000.0)
    anywhere = {_key(e) for e in await _all(gql, text="fisioterapia")}

    assert {_key(e) for e in both} == textual & at_home
    assert nearby and {_key(e) for e in nearby} < anywhere
    assert all(e["distanceMeters"] is not None and e["distanceMeters"] <= 5000.0 for e in nearby)


async def test_relevance_pages_return_each_row_once(gql) -> None:
    edges = await _all(gql, text="assistenza")
    keys = [_key(edge) for edge in edges]

    assert len(keys) == len(set(keys)) > 5


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"text": "   "}, "text"),
        ({"text": "il di la"}, "text"),
        ({"text": "x" * 500}, "text"),
        ({"order": "RELEVANCE"}, "orderBy"),
    ],
)
async def test_unusable_text_is_bad_input(gql, variables, field) -> None:
    result = await gql(SERVICES, **variables)

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == field


NEAR_PROVIDERS = """
query Near($text: String, $near: LatLonInput, $r: Float, $first: Int, $after: String) {
  providers(text: $text, near: $near, radiusMeters: $r, first: $first, after: $after) {
    totalCount
    edges { distanceMeters node { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def _located(engine: AsyncEngine, owner: str) -> dict[uuid.UUID, list[tuple[float, float]]]:
    """(lon, lat) of each provider's or service's published located locations, read plainly."""
    joined = {
        "provider": "SELECT l.organization_id, ST_X(l.geom), ST_Y(l.geom) FROM location l",
        "service": "SELECT sal.service_id, ST_X(l.geom), ST_Y(l.geom) FROM service_at_location"
        " sal JOIN location l ON l.id = sal.location_id",
    }[owner]
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(joined + " WHERE l.status = 'published' AND l.geom IS NOT NULL")
        )
        places: dict[uuid.UUID, list[tuple[float, float]]] = {}
        for key, lon, lat in rows:
            places.setdefault(key, []).append((lon, lat))
    return places


def _geod_metres(places: list[tuple[float, float]], lat: float, lon: float) -> float:
    return min(GEOD.inv(lon, lat, p_lon, p_lat)[2] for p_lon, p_lat in places)


@pytest.mark.parametrize(("words", "radius"), [("fisioterapia", 5000.0), ("assistenza", 3000.0)])
async def test_ranked_within_a_radius_against_geod(
    gql, engine: AsyncEngine, words: str, radius: float
) -> None:
    """Relevance pages within a radius: each row's distance is its nearest location's
    (pyproj.Geod), and the rows are the text's matches anywhere that Geod puts inside."""
    lat, lon = 45.8566, 9.3977
    services = await _located(engine, "service")
    anywhere = {_key(e) for e in await _all(gql, text=words)}
    inside = {key for key, at in services.items() if _geod_metres(at, lat, lon) <= radius}
    expected = anywhere & inside

    nearby = await _all(gql, text=words, near={"lat": lat, "lon": lon}, r=radius)

    assert expected and {_key(e) for e in nearby} == expected
    for edge in nearby:
        assert edge["distanceMeters"] == pytest.approx(
            _geod_metres(services[_key(edge)], lat, lon), abs=0.01
        )


async def test_providers_ranked_within_a_radius_against_geod(gql, engine: AsyncEngine) -> None:
    lat, lon, radius = 45.8566, 9.3977, 4000.0
    providers = await _located(engine, "provider")
    edges, totals, after = [], [], None
    while True:
        result = await gql(
            NEAR_PROVIDERS,
            text="assistenza",
            near={"lat": lat, "lon": lon},
            r=radius,
            first=3,
            after=after,
        )
        assert result.errors == [], result.errors
        page = result.data["providers"]
        edges += page["edges"]
        totals.append(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    keys = [_key(edge) for edge in edges]
    assert len(keys) == len(set(keys)) > 5 and set(totals) == {len(keys)}
    for key, edge in zip(keys, edges, strict=True):
        metres = _geod_metres(providers[key], lat, lon)
        assert metres <= radius
        assert edge["distanceMeters"] == pytest.approx(metres, abs=0.01)
