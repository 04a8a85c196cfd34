"""Root fields of the catalogue: node, listings and proximity search, taxonomy, gazetteer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from ambrogio.context import Context
from ambrogio.resolvers import availability, categories, features, listing, search
from ambrogio.resolvers import facets as facets_resolver
from ambrogio.resolvers import node as node_resolver
from ambrogio.schema.types.availability import Slot
from ambrogio.schema.types.catalogue import Provider, Service
from ambrogio.schema.types.category import Category
from ambrogio.schema.types.comune import Comune
from ambrogio.schema.types.facets import Facets
from ambrogio.schema.types.inputs import (
    AFTER,
    FIRST,
    Filter,
    LatLonInput,
    Near,
    RadiusMeters,
    ServiceFilter,
    ServiceOrder,
)
from ambrogio.schema.types.node import Connection, Node
from ambrogio.schema.types.welfare_point import WelfarePoint

Info = strawberry.Info[Context, None]

ORDER = (
    "Default: RELEVANCE with `text`, else DISTANCE with `near`, else NAME. "
    "UPDATED_AT is newest first."
)
TEXT = (
    "Italian text search (stemming, accents ignored, typos tolerated by trigram similarity). "
    "Ordered by RELEVANCE, blended with `near`: relevance / (1 + metres / 2000)."
)


@strawberry.type
class CatalogueQuery:
    @strawberry.field(description="Any object by its global id; NOT_FOUND when not visible.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
    ) -> Node | None:
        return await node_resolver.node(info, id)

    @strawberry.field(
        description="Objects by their global ids, in the order asked, null for one not "
        "visible; at most 100 ids."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="Global ids, at most 100.")
        ],
    ) -> list[Node | None]:
        return await node_resolver.nodes(info, ids)

    @strawberry.field(
        description="Published providers. With `near`: nearest first (by their nearest "
        "location), each edge with `distanceMeters`; `radiusMeters` limits the distance."
    )
    async def providers(
        self,
        info: Info,
        near: Near = None,
        radius_meters: RadiusMeters = None,
        text: Annotated[str | None, strawberry.argument(description=TEXT)] = None,
        filter: Annotated[
            ServiceFilter | None,
            strawberry.argument(description="Providers with a published service that matches."),
        ] = None,
        order_by: Annotated[ServiceOrder | None, strawberry.argument(description=ORDER)] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> Connection[Provider]:
        return await search.providers(
            info, near, radius_meters, text, filter, order_by, first, after
        )

    @strawberry.field(
        description="Published services. With `near`: services offered at a location, nearest "
        "first, each edge with `distanceMeters`; `radiusMeters` limits the distance."
    )
    async def services(
        self,
        info: Info,
        near: Near = None,
        radius_meters: RadiusMeters = None,
        text: Annotated[str | None, strawberry.argument(description=TEXT)] = None,
        filter: Filter = None,
        order_by: Annotated[ServiceOrder | None, strawberry.argument(description=ORDER)] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> Connection[Service]:
        return await search.services(
            info, near, radius_meters, text, filter, order_by, first, after
        )

    @strawberry.field(
        description="Who comes to my home: published AT_HOME services whose service area covers "
        "`point`, by name. A service area is a polygon or a list of comuni; a comune without a "
        "boundary covers a 4 km radius around its centroid."
    )
    async def services_reaching(
        self,
        info: Info,
        point: Annotated[
            LatLonInput,
            strawberry.argument(description="The home's point (WGS84 latitude and longitude)."),
        ],
        filter: Filter = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> Connection[Service]:
        return await search.services_reaching(info, point, filter, first, after)

    @strawberry.field(
        description="Counts per category, comune, target group and delivery mode of the "
        "services that `services` would return with the same arguments."
    )
    async def facets(
        self,
        info: Info,
        near: Near = None,
        radius_meters: RadiusMeters = None,
        text: Annotated[str | None, strawberry.argument(description=TEXT)] = None,
        filter: Filter = None,
    ) -> Facets:
        return await facets_resolver.facets(info, near, radius_meters, text, filter)

    @strawberry.field(
        name="servicesGeoJSON",
        description="The services of a search as a GeoJSON FeatureCollection: one Point "
        "feature per (service, published location), nearest first with `near`, else by name; "
        "`limit` 1–10000 features.",
    )
    async def services_geo_json(
        self,
        info: Info,
        near: Near = None,
        radius_meters: RadiusMeters = None,
        text: Annotated[str | None, strawberry.argument(description=TEXT)] = None,
        filter: Filter = None,
        limit: Annotated[
            int | None,
            strawberry.argument(
                description="Most features to return, 1–10000 (default 1000); outside that, "
                "`BAD_USER_INPUT`."
            ),
        ] = 1000,
    ) -> JSON:
        return cast(
            JSON,
            await features.services_geojson(info, near, radius_meters, text, filter, limit),
        )

    @strawberry.field(
        description="The slots of a service overlapping [from, to) (at most 92 days), by start, "
        "with the seats still free."
    )
    async def slots(
        self,
        info: Info,
        service_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The service's global id; `NOT_FOUND` if no published service has it."
            ),
        ],
        from_: Annotated[
            datetime,
            strawberry.argument(
                name="from",
                description="Start of the range, included (ISO 8601 with an offset, e.g. "
                "`2026-12-07T00:00:00+01:00`).",
            ),
        ],
        to: Annotated[
            datetime,
            strawberry.argument(
                description="End of the range, excluded; at most 92 days after `from`, else "
                "`BAD_USER_INPUT`."
            ),
        ],
    ) -> list[Slot]:
        return await availability.slots(info, service_id, from_, to)

    @strawberry.field(description="Welfare hubs and points: by name, or nearest first with `near`.")
    async def welfare_points(
        self,
        info: Info,
        near: Near = None,
        radius_meters: RadiusMeters = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> Connection[WelfarePoint]:
        return await search.welfare_points(info, near, radius_meters, first, after)

    @strawberry.field(
        description="The roots of the welfare taxonomy; sub-categories via `children`."
    )
    async def categories(self, info: Info) -> list[Category]:
        return await categories.root_categories(info)

    @strawberry.field(
        description="The comuni of the gazetteer (every comune of Italy), by ISTAT code."
    )
    async def comuni(
        self,
        info: Info,
        province_codes: Annotated[
            list[str] | None,
            strawberry.argument(description='Only the comuni of these provinces, e.g. ["LC"].'),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = 100,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> Connection[Comune]:
        return await listing.comuni(info, province_codes, first, after)
