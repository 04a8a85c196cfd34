"""``facets``: counts of the current search in one round trip."""

from __future__ import annotations

import uuid
from collections import defaultdict

import strawberry

from ambrogio.catalogue import facet_cells
from ambrogio.catalogue.facets import facet_counts, root_term_ids
from ambrogio.context import Context
from ambrogio.enums import Delivery, TargetGroup
from ambrogio.resolvers.search import checked_near, service_search_conditions
from ambrogio.schema.types.facets import (
    CategoryFacet,
    ComuneFacet,
    DeliveryFacet,
    Facets,
    TargetGroupFacet,
)
from ambrogio.schema.types.inputs import LatLonInput, ServiceFilter

Info = strawberry.Info[Context, None]


async def facets(
    info: Info,
    near: LatLonInput | None,
    radius_m: float | None,
    text: str | None,
    filter: ServiceFilter | None,
) -> Facets:
    point, radius = checked_near(near, radius_m)
    async with info.context.sessionmaker() as session:
        if facet_cells.applies(point, radius, text is None and filter is None):
            assert point is not None and radius is not None
            qx, qy = (await session.execute(facet_cells.planar_point(point))).one()
            lines = facet_cells.cell_lines(qx, qy, radius)
            stmt = facet_cells.facet_cells_statement(point, radius)
            rows = (await session.execute(stmt, lines.params())).all()
        else:
            conditions = await service_search_conditions(session, near, radius_m, text, filter)
            rows = (await session.execute(facet_counts(conditions))).all()
        roots = set((await session.scalars(root_term_ids())).all())
    by_facet: dict[str, dict[str, int]] = defaultdict(dict)
    for facet, key, count in rows:
        by_facet[facet][key] = int(count)
    counts = {uuid.UUID(key): count for key, count in by_facet["category"].items()}

    def ranked(values: dict[str, int]) -> list[tuple[str, int]]:
        return sorted(values.items(), key=lambda item: (-item[1], item[0]))

    return Facets(
        total=by_facet["total"].get("", 0),
        categories=[
            CategoryFacet(pk=pk, counts=counts, count=count)
            for pk, count in sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
            if pk in roots
        ],
        comuni=[ComuneFacet(code=key, count=n) for key, n in ranked(by_facet["comune"])],
        target_groups=[
            TargetGroupFacet(target_group=TargetGroup(key), count=n)
            for key, n in ranked(by_facet["target_group"])
        ],
        delivery=[
            DeliveryFacet(delivery=Delivery(key), count=n)
            for key, n in ranked(by_facet["delivery"])
        ],
    )
