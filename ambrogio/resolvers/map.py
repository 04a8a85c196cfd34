"""``mapClusters``: validate the viewport, sum the map grid (or cluster in PostGIS), load
single items lazily."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import strawberry

from ambrogio.catalogue.filter_input import resolve_filter
from ambrogio.catalogue.filters import service_conditions
from ambrogio.catalogue.visibility import Stmt
from ambrogio.context import Context
from ambrogio.db import prepared
from ambrogio.db.prepared import Prepared
from ambrogio.geo.bbox import BBox
from ambrogio.geo.clusters import cell_zoom, checked_view, clusters_stmt
from ambrogio.geo.grid import grid_clusters_query, grid_key
from ambrogio.geo.tiles import checked_zoom
from ambrogio.resolvers.filters import filter_input
from ambrogio.schema.types.inputs import ServiceFilter
from ambrogio.schema.types.map import BBoxInput, MapCluster

Info = strawberry.Info[Context, None]

grid_prepared = cache(Prepared.of)


# A plan's clusters: it reads none of their boxes or single items.
NO_EDGES = (math.nan, math.nan, math.nan, math.nan)


def _cluster(row: Any, zoom: int) -> MapCluster:
    return MapCluster(
        location_key=row.location_id,
        provider_key=row.provider_id,
        edges=(row.west, row.south, row.east, row.north),
        cell=f"{cell_zoom(zoom)}/{row.cx}/{row.cy}",
        count=row.count,
        provider_count=row.providers,
        lat=float(row.lat),
        lon=float(row.lon),
    )


async def map_clusters(
    info: Info, bbox: BBoxInput, zoom: int, filter: ServiceFilter | None
) -> list[MapCluster]:
    checked_zoom(zoom, "zoom")
    box = checked_view(
        BBox.checked(bbox.west, bbox.south, bbox.east, bbox.north, "bbox"), zoom, "bbox"
    )
    given = filter_input(filter)
    # A compiled plan reads the plain fields only (``RootInfo.reads``): no boxes, no items.
    extents = getattr(info, "reads", None) is None
    if given is None:
        # No filter to read: no session, one statement on a pooled connection.
        query = grid_clusters_query(box, zoom, "", extents)
        if query is not None:
            return await _from_grid(info, query, zoom, extents)
    async with info.context.sessionmaker() as session:
        spec = await resolve_filter(session, given)
        key = grid_key(given, spec)
        # The grid holds the filters maps send most; any other takes every point of the view.
        query = grid_clusters_query(box, zoom, key, extents) if key is not None else None
        if query is None:
            conditions = service_conditions(spec) if given is not None else None
            rows = (await session.execute(clusters_stmt(box, zoom, conditions))).all()
            return [_cluster(row, zoom) for row in rows]
    return await _from_grid(info, query, zoom, extents)


async def _from_grid(
    info: Info, query: tuple[Stmt, dict[str, Any]], zoom: int, extents: bool = True
) -> list[MapCluster]:
    stmt, params = query
    rows = await prepared.fetch(info.context.engine, grid_prepared(stmt), params)
    if extents:
        return [_cluster(row, zoom) for row in rows]
    at = cell_zoom(zoom)
    return [
        MapCluster(
            location_key=None,
            provider_key=None,
            edges=NO_EDGES,
            cell=f"{at}/{row.cx}/{row.cy}",
            count=row.count,
            provider_count=row.providers,
            lat=float(row.lat),
            lon=float(row.lon),
        )
        for row in rows
    ]
