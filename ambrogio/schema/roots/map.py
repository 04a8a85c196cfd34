"""Root fields of the map viewport: ``mapClusters``. Vector tiles are served over plain HTTP
(``/tiles/{layer}/{z}/{x}/{y}.mvt``, see ``ambrogio.http.tiles``)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ambrogio.context import Context
from ambrogio.resolvers.map import map_clusters
from ambrogio.schema.types.inputs import ServiceFilter
from ambrogio.schema.types.map import BBoxInput, MapCluster

Info = strawberry.Info[Context, None]


@strawberry.type
class MapQuery:
    @strawberry.field(
        description="Clusters of the published provider locations inside `bbox` at map `zoom` "
        "(0–22), computed in PostGIS; with `filter`, of the providers having a matching "
        "published service (as `providers` does). The counts add up to the locations inside "
        "the bbox. A bbox larger than 1024 tiles at that zoom is BAD_USER_INPUT."
    )
    async def map_clusters(
        self,
        info: Info,
        bbox: Annotated[
            BBoxInput,
            strawberry.argument(description="`west > east` crosses the antimeridian."),
        ],
        zoom: Annotated[
            int,
            strawberry.argument(
                description="Map zoom level (the XYZ tile zoom), 0–22; a cell is a quarter "
                "of a tile of this zoom on each side."
            ),
        ],
        filter: Annotated[
            ServiceFilter | None,
            strawberry.argument(
                description="Only locations of providers with a published service matching it."
            ),
        ] = None,
    ) -> list[MapCluster]:
        return await map_clusters(info, bbox, zoom, filter)
