"""The gazetteer: every comune of Italy; Lecco's 84 with codes and centroids, none invented."""

from __future__ import annotations

from pyproj import Geod

GEOD = Geod(ellps="WGS84")

COMUNI = """
query Comuni($after: String) {
  comuni(provinceCodes: ["lc"], first: 100, after: $after) {
    totalCount
    edges { node {
      istatCode name provinceCode caps lat lon centroidSource centroidMissingReason geojson
    } }
    pageInfo { hasNextPage }
  }
}
"""

# Reference positions of a few town halls (OpenStreetMap), an independent check of the centroids.
TOWN_HALLS = {
    "097042": (45.8536, 9.3904),  # Lecco
    "097048": (45.6997, 9.4183),  # Merate
    "097013": (45.8004, 9.4321),  # Calolziocorte
    "097008": (46.0417, 9.3039),  # Bellano
}


async def test_gazetteer_has_the_84_comuni_of_lecco(gql) -> None:
    result = await gql(COMUNI)

    comuni = [edge["node"] for edge in result.data["comuni"]["edges"]]
    assert result.data["comuni"]["totalCount"] == 84 == len(comuni)
    assert not result.data["comuni"]["pageInfo"]["hasNextPage"]
    assert all(c["provinceCode"] == "LC" for c in comuni)
    assert all(len(c["istatCode"]) == 6 and c["istatCode"].startswith("097") for c in comuni)
    assert len({c["istatCode"] for c in comuni}) == 84
    assert all(c["caps"] for c in comuni)


async def test_centroids_are_real_or_absent_with_a_reason(gql) -> None:
    comuni = {
        e["node"]["istatCode"]: e["node"] for e in (await gql(COMUNI)).data["comuni"]["edges"]
    }

    located = [c for c in comuni.values() if c["lat"] is not None]
    assert len(located) == 84
    # GeoNames has no place for Oliveto Lario: a point on its boundary's surface stands in.
    assert comuni["097060"]["name"] == "Oliveto Lario"
    assert comuni["097060"]["centroidSource"] == "boundary:point-on-surface"
    for comune in located:
        assert comune["centroidSource"] and comune["centroidMissingReason"] is None
        assert 45.6 < comune["lat"] < 46.2 and 9.2 < comune["lon"] < 9.65, comune["name"]
        assert comune["geojson"] == {"type": "Point", "coordinates": [comune["lon"], comune["lat"]]}
    for code, (lat, lon) in TOWN_HALLS.items():
        _, _, metres = GEOD.inv(lon, lat, comuni[code]["lon"], comuni[code]["lat"])
        assert metres < 2500, (comuni[code]["name"], metres)


async def test_merged_comuni_use_the_places_they_were_made_of(gql) -> None:
    comuni = {e["node"]["name"]: e["node"] for e in (await gql(COMUNI)).data["comuni"]["edges"]}

    for name in ("La Valletta Brianza", "Valvarrone", "Verderio", "Colico", "Valmadrera"):
        assert comuni[name]["lat"] is not None, name
        assert "geonames" in comuni[name]["centroidSource"].lower()


async def test_every_comune_of_italy_with_its_province_and_region(gql) -> None:
    query = """
    query { comuni(first: 1) { totalCount }
            bergamo: node(id: "Q29tdW5lOjAxNjAyNA") { ... on Comune {
              name provinceCode provinceName regionCode regionName lat lon } } }
    """
    result = await gql(query)

    assert result.errors == [], result.errors
    assert result.data["comuni"]["totalCount"] > 7800  # ISTAT lists 7,896
    bergamo = result.data["bergamo"]
    assert (bergamo["name"], bergamo["provinceCode"], bergamo["regionCode"]) == (
        "Bergamo", "BG", "03",
    )  # fmt: skip
    # Bergamo's town hall (OpenStreetMap), an independent check of its centroid.
    _, _, metres = GEOD.inv(9.6699, 45.6945, bergamo["lon"], bergamo["lat"])
    assert metres < 2500
