"""``servicesGeoJSON``: the located services of a search as a GeoJSON FeatureCollection."""

from __future__ import annotations

from typing import Any

import strawberry

from ambrogio.context import Context
from ambrogio.enums import Delivery
from ambrogio.errors import BadUserInput
from ambrogio.geo.features import service_features
from ambrogio.ids import to_global_id
from ambrogio.resolvers.search import checked_near, service_search_conditions
from ambrogio.schema.types.inputs import LatLonInput, ServiceFilter

Info = strawberry.Info[Context, None]

MAX_FEATURES = 10_000


async def services_geojson(
    info: Info,
    near: LatLonInput | None,
    radius_m: float | None,
    text: str | None,
    filter: ServiceFilter | None,
    limit: int | None,
) -> dict[str, Any]:
    size = 1000 if limit is None else limit
    if not 1 <= size <= MAX_FEATURES:
        raise BadUserInput("limit", limit, f"must be between 1 and {MAX_FEATURES}")
    point, _ = checked_near(near, radius_m)
    async with info.context.sessionmaker() as session:
        conditions = await service_search_conditions(session, near, radius_m, text, filter)
        rows = (await session.execute(service_features(conditions, point, radius_m, size))).all()
    features = [
        {
            "type": "Feature",
            "id": to_global_id("Location", row.location_id),
            # RFC 7946: longitude first.
            "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
            "properties": {
                "service": to_global_id("Service", row.id),
                "name": row.name,
                "provider": to_global_id("Provider", row.provider_id),
                "providerName": row.provider_name,
                "categories": sorted(row.categories or []),
                "delivery": [Delivery(value).name for value in row.delivery],
                "geocodePrecision": row.geocode_precision.upper(),
                "distanceMeters": float(row.d) if row.d is not None else None,
            },
        }
        for row in rows
    ]
    return {"type": "FeatureCollection", "features": features}
