"""The types of the map viewport: the bounding box and ``mapClusters``' clusters (the root field
is in ``ambrogio.schema.roots.map``)."""

from __future__ import annotations

import uuid
from typing import cast

import strawberry
from strawberry.scalars import JSON

from ambrogio.context import Context
from ambrogio.schema.types.catalogue import Location, Provider

Info = strawberry.Info[Context, None]

WEST = "The western edge: a longitude in degrees, -180 to 180."
SOUTH = "The southern edge: a latitude in degrees, -90 to 90."
EAST = "The eastern edge: a longitude in degrees, -180 to 180."
NORTH = "The northern edge: a latitude in degrees, -90 to 90, not below `south`."


@strawberry.input(
    description="A WGS84 bounding box, edges included. West of east as usual; `west > east` "
    "means the box crosses the antimeridian (as in GeoJSON, RFC 7946): `west: 170, east: -170` "
    "is the 20° band around longitude 180. Longitudes -180 to 180, south ≤ north."
)
class BBoxInput:
    west: float = strawberry.field(description=WEST)
    south: float = strawberry.field(description=SOUTH)
    east: float = strawberry.field(description=EAST)
    north: float = strawberry.field(description=NORTH)


@strawberry.type(name="BBox", description="A WGS84 bounding box.")
class Box:
    west: float = strawberry.field(description=WEST)
    south: float = strawberry.field(description=SOUTH)
    east: float = strawberry.field(description=EAST)
    north: float = strawberry.field(description=NORTH)


@strawberry.type(
    description="The published provider locations in one cell of the map grid (only those "
    "inside the asked bbox). The grid is the tile grid two zoom levels deeper, anchored to the "
    "Web Mercator origin, so a cell and its cluster do not move as the map pans."
)
class MapCluster:
    # The least location (provider) id as text when the cluster holds one (is one
    # provider's); its edges (west, south, east, north): read only when a field asks.
    location_key: strawberry.Private[str | None]
    provider_key: strawberry.Private[str | None]
    edges: strawberry.Private[tuple[float, float, float, float]]
    cell: str = strawberry.field(
        description="The grid cell as a tile `z/x/y` (z = zoom + 2): stable across requests; "
        "`/tiles/providers/{cell}.mvt` with the same filter shows its points."
    )
    count: int = strawberry.field(description="How many locations the cluster holds.")
    provider_count: int = strawberry.field(description="How many distinct providers.")
    lat: float = strawberry.field(description="Mean latitude of its locations.")
    lon: float = strawberry.field(description="Mean longitude of its locations.")

    @strawberry.field(description="The bounding box of its locations.")
    def bbox(self) -> Box:
        west, south, east, north = self.edges
        return Box(west=west, south=south, east=east, north=north)

    @strawberry.field(description="The centroid as a GeoJSON Point.")
    def geojson(self) -> JSON:
        return cast(JSON, {"type": "Point", "coordinates": [self.lon, self.lat]})

    @strawberry.field(description="The location, when the cluster holds exactly one.")
    async def location(self, info: Info) -> Location | None:
        if self.location_key is None:
            return None
        row = await info.context.loaders.location.load(uuid.UUID(self.location_key))
        return Location.from_row(row) if row else None

    @strawberry.field(description="The provider, when all its locations are one provider's.")
    async def provider(self, info: Info) -> Provider | None:
        if self.provider_key is None:
            return None
        row = await info.context.loaders.provider.load(uuid.UUID(self.provider_key))
        return Provider.from_row(row) if row else None
