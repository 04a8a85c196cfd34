"""``/tiles/{layer}/{z}/{x}/{y}.mvt`` decoded with ``mapbox-vector-tile`` and compared with the
oracle of ``map_oracle``: tile bounds and tile coordinates computed in Python."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import mapbox_vector_tile
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.geo import tiles
from ambrogio.geo.tiles import CLUSTER_CELLS, CLUSTER_MAX_ZOOM
from ambrogio.http.tiles import PARAMS, accepts_gzip
from ambrogio.ids import from_global_id
from ambrogio.schema.types.inputs import PriceInput, ServiceFilter
from tests.support.map_oracle import LECCO, Catalogue, Offer, read_catalogue, tile_of, tile_xy

EXTENT, BUFFER = 4096, 64
ROME = ZoneInfo("Europe/Rome")


@pytest.fixture(scope="module")
async def catalogue(engine: AsyncEngine) -> Catalogue:
    return await read_catalogue(engine)


async def get_tile(client: Any, path: str, **headers: str) -> Any:
    return await client.get(path, headers=headers)


def decode(body: bytes, layer: str) -> list[dict[str, Any]]:
    if not body:
        return []
    tile = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})
    assert list(tile) == [layer]
    assert tile[layer]["extent"] == EXTENT
    return list(tile[layer]["features"])


def pixel(lat: float, lon: float, z: int, x: int, y: int) -> tuple[float, float]:
    fx, fy = tile_xy(lat, lon, z)
    return (fx - x) * EXTENT, (fy - y) * EXTENT


def within(px: tuple[float, float], margin: float) -> bool:
    return all(-margin <= value <= EXTENT + margin for value in px)


def key(attribute: str) -> uuid.UUID:
    return uuid.UUID(attribute)


def lecco_tiles(z: int) -> list[tuple[int, int, int]]:
    """The tile over Lecco and its eight neighbours."""
    x, y = tile_of(*LECCO, z)
    return [(z, x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]


@pytest.mark.parametrize("zxy", lecco_tiles(14))
async def test_a_provider_tile_holds_exactly_the_locations_inside_it(
    client, catalogue, zxy
) -> None:
    z, x, y = zxy
    at = {p.location: (p, pixel(p.lat, p.lon, z, x, y)) for p in catalogue.points}

    response = await get_tile(client, f"/tiles/providers/{z}/{x}/{y}.mvt")
    features = decode(response.content, "providers")

    got = {key(f["properties"]["location_id"]): f for f in features}
    assert len(got) == len(features)
    assert set(got) == {loc for loc, (_, px) in at.items() if within(px, BUFFER)}
    inside = {loc for loc, f in got.items() if within(f["geometry"]["coordinates"], 0)}
    assert inside == {loc for loc, (_, px) in at.items() if within(px, 0)}
    for loc, feature in got.items():
        point, px = at[loc]
        assert feature["geometry"]["type"] == "Point"
        assert feature["geometry"]["coordinates"] == pytest.approx(px, abs=0.51)
        assert feature["properties"] == {
            "id": str(point.provider),
            "location_id": str(loc),
            "name": point.name,
            "kind": point.kind,
            "geocode_precision": point.precision,
            **({"comune": point.comune} if point.comune else {}),
        }
    if (x, y) == tile_of(*LECCO, z):
        assert len(inside) >= 5, "the tile over Lecco is not empty"


async def test_the_services_layer_has_a_feature_per_service_and_location(client, catalogue) -> None:
    z, x, y = lecco_tiles(13)[4]

    def keep(offer: Offer) -> bool:
        return "salute-e-benessere" in offer.slugs and "on_site" in offer.delivery

    response = await get_tile(
        client, f"/tiles/services/{z}/{x}/{y}.mvt?categories=salute-e-benessere&delivery=ON_SITE"
    )
    features = decode(response.content, "services")

    expected = {
        (service, p.location)
        for p in catalogue.points
        if within(pixel(p.lat, p.lon, z, x, y), BUFFER)
        for service in catalogue.offered_at.get(p.location, ())
        if catalogue.offers[service].visible and keep(catalogue.offers[service])
    }
    got = {(key(f["properties"]["id"]), key(f["properties"]["location_id"])): f for f in features}
    assert len(got) == len(features) and set(got) == expected and expected
    for (service, _), feature in got.items():
        offer = catalogue.offers[service]
        assert feature["properties"]["provider_id"] == str(offer.provider)
        assert feature["properties"]["categories"] == ",".join(offer.own_slugs)
        assert set(feature["properties"]["delivery"].split(",")) == offer.delivery


async def test_the_welfare_points_layer(client, catalogue) -> None:
    z, x, y = lecco_tiles(10)[4]

    response = await get_tile(client, f"/tiles/welfare_points/{z}/{x}/{y}.mvt")

    got = {key(f["properties"]["id"]) for f in decode(response.content, "welfare_points")}
    expected = {
        point
        for point, (lat, lon) in catalogue.welfare.items()
        if within(pixel(lat, lon, z, x, y), BUFFER)
    }
    assert got == expected and expected


async def test_filters_as_query_parameters_match_the_providers_query(client, catalogue) -> None:
    z, x, y = lecco_tiles(13)[4]
    path = f"/tiles/providers/{z}/{x}/{y}.mvt"
    matching = catalogue.providers_matching(
        lambda o: "assistenza-e-cura" in o.slugs and bool({"at_home", "online"} & o.delivery)
    )

    commas = await get_tile(client, f"{path}?categories=assistenza-e-cura&delivery=at_home,ONLINE")
    repeated = await get_tile(
        client, f"{path}?delivery=AT_HOME&categories=assistenza-e-cura&delivery=online"
    )

    got = {key(f["properties"]["location_id"]) for f in decode(commas.content, "providers")}
    expected = {p.location for p in matching if within(pixel(p.lat, p.lon, z, x, y), BUFFER)}
    assert got == expected and 0 < len(expected) < len(catalogue.points)
    assert repeated.content == commas.content


async def test_etag_and_if_none_match(client) -> None:
    z, x, y = lecco_tiles(14)[4]
    path = f"/tiles/providers/{z}/{x}/{y}.mvt"

    first = await get_tile(client, path)
    again = await get_tile(client, path)
    other = await get_tile(client, f"/tiles/providers/{z - 1}/{x // 2}/{y // 2}.mvt")
    etag = first.headers["etag"]

    assert first.status_code == 200
    assert first.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert "max-age=" in first.headers["cache-control"]
    assert etag.startswith('"') and etag.endswith('"'), "a strong validator"
    assert again.headers["etag"] == etag and again.content == first.content
    assert other.headers["etag"] != etag
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        cached = await get_tile(client, path, **{"if-none-match": header})
        assert cached.status_code == 304 and cached.content == b""
        assert cached.headers["etag"] == etag and "cache-control" in cached.headers
    stale = await get_tile(client, path, **{"if-none-match": '"nope"'})
    assert stale.status_code == 200 and stale.content == first.content


async def test_a_tile_without_data_is_empty(client) -> None:
    x, y = tile_of(0.0, -150.0, 5)  # the Pacific
    z, lx, ly = lecco_tiles(14)[4]

    pacific = await get_tile(client, f"/tiles/providers/5/{x}/{y}.mvt")
    nothing = await get_tile(
        client, f"/tiles/providers/{z}/{lx}/{ly}.mvt?modifiedAfter=2999-01-01T00:00:00Z"
    )

    for response in (pacific, nothing):
        assert response.status_code == 204 and response.content == b""
        assert response.headers["etag"] and response.headers["cache-control"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/tiles/providers/30/0/0.mvt", "z"),
        ("/tiles/providers/-1/0/0.mvt", "z"),
        ("/tiles/providers/zz/0/0.mvt", "z"),
        ("/tiles/providers/14/16384/5000.mvt", "x"),
        ("/tiles/providers/14/-1/5000.mvt", "x"),
        ("/tiles/providers/0/0/1.mvt", "y"),
        ("/tiles/providers/14/8619/1e3.mvt", "y"),
        ("/tiles/roads/14/8619/5838.mvt", "layer"),
        ("/tiles/providers/14/8619/5838.mvt?delivery=teleport", "delivery"),
        ("/tiles/providers/14/8619/5838.mvt?categories=nope", "categories"),
        ("/tiles/providers/14/8619/5838.mvt?categories=badante,", "categories"),
        ("/tiles/providers/14/8619/5838.mvt?age=old", "age"),
        ("/tiles/providers/14/8619/5838.mvt?age=200", "age"),
        ("/tiles/providers/14/8619/5838.mvt?age=1&age=2", "age"),
        ("/tiles/providers/14/8619/5838.mvt?welfareEligible=maybe", "welfareEligible"),
        ("/tiles/providers/14/8619/5838.mvt?priceMax=-5", "priceMax"),
        ("/tiles/providers/14/8619/5838.mvt?priceMax=nan", "priceMax"),
        ("/tiles/providers/14/8619/5838.mvt?priceUnit=week", "priceUnit"),
        ("/tiles/providers/14/8619/5838.mvt?priceMin=9&priceMax=5", "priceMin"),
        ("/tiles/providers/14/8619/5838.mvt?modifiedAfter=2025-01-01T00:00", "modifiedAfter"),
        ("/tiles/providers/14/8619/5838.mvt?comuni=97042", "comuni"),
        ("/tiles/providers/14/8619/5838.mvt?categorie=badante", "categorie"),
        ("/tiles/welfare_points/14/8619/5838.mvt?categories=badante", "categories"),
    ],
)
async def test_bad_tile_requests_are_400_naming_the_parameter(client, path, field) -> None:
    response = await get_tile(client, path)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert error["message"].startswith(f"{field}: ")


def test_every_service_filter_field_is_a_tile_parameter() -> None:
    # given the GraphQL input and the parameters the tiles derive from the filter pipeline
    graphql = {_camel(f.name) for f in dataclasses.fields(ServiceFilter) if f.name != "price"}
    graphql |= {"price" + f.name.capitalize() for f in dataclasses.fields(PriceInput)}

    # then each ServiceFilter field (the price's parts one by one) is a tile parameter
    assert graphql == set(PARAMS) and "freeBetween" in PARAMS and "openAt" in PARAMS


def _camel(name: str) -> str:
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(word.capitalize() for word in rest)


@pytest.fixture
async def far_slot(engine: AsyncEngine, catalogue: Catalogue) -> AsyncIterator[tuple[Any, ...]]:
    """A free slot two months ahead, beyond the demo slots, of a service offered at a located
    place: (service, its located places, window start, window end)."""
    located = {p.location: p for p in catalogue.points}
    service, places = next(
        (sid, [located[loc] for loc, sids in catalogue.offered_at.items() if sid in sids])
        for sid, offer in sorted(catalogue.offers.items())
        if offer.visible and any(sid in sids for sids in catalogue.offered_at.values())
    )
    start = datetime.now(UTC) + timedelta(days=61)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO slot (id, service_id, starts_at, ends_at, capacity, status, source,"
                " external_id) VALUES (:id, :service, :start, :end, 2, 'open', 'test-tiles', 'x')"
            ),
            {"id": uuid.uuid4(), "service": service, "start": start, "end": start + HOUR},
        )
    yield service, places, start - timedelta(days=1), start + timedelta(days=1)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM slot WHERE source = 'test-tiles'"))


HOUR = timedelta(hours=1)


async def test_free_between_as_a_tile_parameter(client, far_slot) -> None:
    service, places, start, end = far_slot
    place = places[0]
    z = 14
    x, y = tile_of(place.lat, place.lon, z)
    window = f"{start.isoformat()}/{end.isoformat()}".replace("+", "%2B")

    # when the services tile around the service's place is asked for free slots in the window
    response = await get_tile(client, f"/tiles/services/{z}/{x}/{y}.mvt?freeBetween={window}")
    later = f"{(end + HOUR).isoformat()}/{(end + 2 * HOUR).isoformat()}".replace("+", "%2B")
    empty = await get_tile(client, f"/tiles/services/{z}/{x}/{y}.mvt?freeBetween={later}")

    # then it holds exactly that service, at each of its places in the tile
    got = {
        (key(f["properties"]["id"]), key(f["properties"]["location_id"]))
        for f in decode(response.content, "services")
    }
    expected = {
        (service, p.location) for p in places if within(pixel(p.lat, p.lon, z, x, y), BUFFER)
    }
    assert got == expected and (service, place.location) in expected
    assert empty.status_code == 204


OPEN_SERVICES = """
query Open($at: DateTime!, $after: String) {
  services(filter: {openAt: $at}, first: 100, after: $after) {
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_open_at_as_a_tile_parameter_matches_the_services_query(
    client, gql, catalogue
) -> None:
    # given the services open on a weekday morning, as the GraphQL query lists them
    at = next_weekday_morning()
    open_ids: set[uuid.UUID] = set()
    after = None
    while True:
        result = await gql(OPEN_SERVICES, at=at.isoformat(), after=after)
        page = result.data["services"]
        open_ids |= {uuid.UUID(from_global_id(edge["node"]["id"])[1]) for edge in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    z, x, y = lecco_tiles(13)[4]

    # when the services tile over Lecco is asked with the same instant
    stamp = at.isoformat().replace("+", "%2B")
    response = await get_tile(client, f"/tiles/services/{z}/{x}/{y}.mvt?openAt={stamp}")

    # then it holds those services, at their places in the tile, and no other
    got = {
        (key(f["properties"]["id"]), key(f["properties"]["location_id"]))
        for f in decode(response.content, "services")
    }
    expected = {
        (service, p.location)
        for p in catalogue.points
        if within(pixel(p.lat, p.lon, z, x, y), BUFFER)
        for service in catalogue.offered_at.get(p.location, ())
        if service in open_ids
    }
    all_here = {
        (service, p.location)
        for p in catalogue.points
        if within(pixel(p.lat, p.lon, z, x, y), BUFFER)
        for service in catalogue.offered_at.get(p.location, ())
        if catalogue.offers[service].visible
    }
    assert got == expected and 0 < len(expected) < len(all_here)


def next_weekday_morning() -> datetime:
    """Tomorrow or the next working day, 10:00 in Rome: inside the opening-hours window."""
    day = datetime.now(ROME).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, tzinfo=ROME)


CELL = EXTENT // CLUSTER_CELLS


@pytest.mark.parametrize("z", [10, CLUSTER_MAX_ZOOM])
async def test_low_zoom_provider_tiles_hold_one_cluster_per_cell(client, catalogue, z) -> None:
    x, y = tile_of(*LECCO, z)
    cells: dict[tuple[int, int], list[tuple[Any, tuple[int, int]]]] = defaultdict(list)
    for point in catalogue.points:
        px, py = (round(value) for value in pixel(point.lat, point.lon, z, x, y))
        if 0 <= px < EXTENT and 0 <= py < EXTENT:
            cells[(px // CELL, py // CELL)].append((point, (px, py)))

    response = await get_tile(client, f"/tiles/providers/{z}/{x}/{y}.mvt")
    features = decode(response.content, "providers")

    got = {
        (
            int(f["geometry"]["coordinates"][0]) // CELL,
            int(f["geometry"]["coordinates"][1]) // CELL,
        ): f
        for f in features
    }
    assert cells and len(got) == len(features) == len(cells) <= CLUSTER_CELLS**2
    assert set(got) == set(cells)
    for cell, members in cells.items():
        feature = got[cell]
        n = len(members)
        mean = [round(sum(px[i] for _, px in members) / n) for i in (0, 1)]
        assert feature["properties"]["count"] == n
        assert feature["geometry"]["coordinates"] == pytest.approx(mean, abs=0.51)
        if n == 1:
            point = members[0][0]
            assert feature["properties"]["id"] == str(point.provider)
            assert feature["properties"]["location_id"] == str(point.location)
            assert feature["properties"]["name"] == point.name
        else:
            assert set(feature["properties"]) == {"count"}
    assert any(len(members) > 1 for members in cells.values()), "some cells hold several"


async def test_tiles_above_the_cluster_zoom_are_not_clustered(client) -> None:
    x, y = tile_of(*LECCO, CLUSTER_MAX_ZOOM + 1)

    response = await get_tile(client, f"/tiles/providers/{CLUSTER_MAX_ZOOM + 1}/{x}/{y}.mvt")

    features = decode(response.content, "providers")
    assert features and all("count" not in f["properties"] for f in features)


async def test_a_client_accepting_gzip_gets_the_tile_gzipped(client) -> None:
    z, x, y = lecco_tiles(14)[4]
    path = f"/tiles/providers/{z}/{x}/{y}.mvt"

    plain = await client.get(path, headers={"accept-encoding": "identity"})
    zipped = await client.get(path, headers={"accept-encoding": "br;q=1.0, gzip;q=0.8"})

    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    # httpx decodes the body; the bytes on the wire are fewer than the tile's.
    assert zipped.content == plain.content and plain.content
    assert int(zipped.headers["content-length"]) < len(plain.content)
    assert zipped.headers["etag"] == plain.headers["etag"]


@pytest.mark.parametrize(
    ("header", "gzip"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        (None, False),
        ("gzip;q=x", False),
    ],
)
def test_accept_encoding(header: str | None, gzip: bool) -> None:
    assert accepts_gzip(header) is gzip


async def test_a_cached_tile_is_made_again_once_the_catalogue_changes(
    client, engine, catalogue
) -> None:
    z, x, y = lecco_tiles(14)[4]
    path = f"/tiles/providers/{z}/{x}/{y}.mvt"
    first = await get_tile(client, path)
    shown = {f["properties"]["id"] for f in decode(first.content, "providers")}
    provider = next(p.provider for p in catalogue.points if str(p.provider) in shown)
    again = await get_tile(client, path, **{"if-none-match": first.headers["etag"]})
    assert again.status_code == 304

    async def renamed(suffix: str) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE organization SET name = name || :suffix WHERE id = :id"),
                {"suffix": suffix, "id": provider},
            )

    async def names_after_change(etag: str) -> set[str]:
        for _ in range(100):  # the notification comes at commit, on the listener's connection
            response = await get_tile(client, path, **{"if-none-match": etag})
            if response.status_code == 200:
                return {f["properties"]["name"] for f in decode(response.content, "providers")}
            await asyncio.sleep(0.05)
        raise AssertionError("the tile was not made again")

    await renamed(" (renamed)")
    try:
        names = await names_after_change(first.headers["etag"])
    finally:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE organization SET name = left(name, -10) WHERE id = :id"),
                {"id": provider},
            )
    assert any(name.endswith(" (renamed)") for name in names)


async def test_a_dense_tile_above_the_cluster_zoom_is_clustered(
    client, catalogue, monkeypatch
) -> None:
    z = CLUSTER_MAX_ZOOM + 3
    x, y = tile_of(*LECCO, z)
    inside = [
        p
        for p in catalogue.points
        if all(0 <= round(v) < EXTENT for v in pixel(p.lat, p.lon, z, x, y))
    ]
    monkeypatch.setattr(tiles, "MAX_FEATURES", len(inside) // 2)

    response = await get_tile(client, f"/tiles/providers/{z}/{x}/{y}.mvt")

    features = decode(response.content, "providers")
    assert len(inside) >= 4, "the tile over Lecco holds a few providers"
    assert all("count" in f["properties"] for f in features)
    assert sum(f["properties"]["count"] for f in features) == len(inside)
