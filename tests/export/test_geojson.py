"""GeoJSON out: a FeatureCollection of a filtered search, checked with shapely and pyproj."""

from __future__ import annotations

import pytest
from pyproj import Geod
from shapely.geometry import shape

GEOD = Geod(ellps="WGS84")

FEATURES = """
query Features($near: LatLonInput, $r: Float, $filter: ServiceFilter, $limit: Int) {
  servicesGeoJSON(near: $near, radiusMeters: $r, filter: $filter, limit: $limit)
}
"""

LOCATION = """
query Location($id: ID!) { node(id: $id) { ... on Location { lat lon geojson } } }
"""


async def test_a_feature_collection_of_the_search(gql) -> None:
    lat, lon, radius = 45.85, 9.39, 4000.0

    result = await gql(
        FEATURES, near={"lat": lat, "lon": lon}, r=radius, filter={"delivery": ["ON_SITE"]}
    )

    assert result.errors == []
    collection = result.data["servicesGeoJSON"]
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert features
    distances = []
    for feature in features:
        point = shape(feature["geometry"])
        assert point.geom_type == "Point" and point.is_valid
        metres = GEOD.inv(lon, lat, point.x, point.y)[2]
        assert feature["properties"]["distanceMeters"] == pytest.approx(metres, abs=0.01)
        assert metres <= radius + 0.01
        assert "ON_SITE" in feature["properties"]["delivery"]
        distances.append(metres)
    assert distances == sorted(distances)


async def test_features_agree_with_the_location_nodes(gql) -> None:
    result = await gql(FEATURES, limit=5)

    features = result.data["servicesGeoJSON"]["features"]
    assert len(features) == 5
    for feature in features:
        node = (await gql(LOCATION, id=feature["id"])).data["node"]
        assert feature["geometry"] == node["geojson"]
        assert feature["geometry"]["coordinates"] == [node["lon"], node["lat"]]
        assert feature["properties"]["distanceMeters"] is None


@pytest.mark.parametrize("limit", [0, 10_001])
async def test_limit_is_bounded(gql, limit) -> None:
    result = await gql(FEATURES, limit=limit)

    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == "limit"
