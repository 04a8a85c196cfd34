"""Comune: an Italian municipality of the gazetteer."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from ambrogio.context import Context
from ambrogio.db import models
from ambrogio.geo.convert import geojson, lat_lon
from ambrogio.ids import to_global_id
from ambrogio.schema.types.node import Node

Info = strawberry.Info[Context, None]


@strawberry.type(description="An Italian comune, keyed by its ISTAT code.")
class Comune(Node):
    istat_code: str = strawberry.field(description="6-digit ISTAT code, e.g. 097042 (Lecco).")
    name: str = strawberry.field(description="The official Italian name, as ISTAT spells it.")
    province_code: str = strawberry.field(description="Two-letter province code, e.g. LC.")
    province_name: str | None = strawberry.field(description="e.g. Lecco.")
    region_code: str | None = strawberry.field(description="2-digit ISTAT code, e.g. 03.")
    region_name: str | None = strawberry.field(description="e.g. Lombardia.")
    cadastral_code: str = strawberry.field(
        description="The cadastral (Belfiore) code, e.g. E507 for Lecco: the one a codice "
        "fiscale carries for a birthplace."
    )
    caps: list[str] = strawberry.field(description="Postal codes (CAP).")
    lat: float | None = strawberry.field(description="Centroid latitude; null when unknown.")
    lon: float | None = strawberry.field(description="Centroid longitude; null when unknown.")
    centroid_source: str | None = strawberry.field(description="Where the centroid comes from.")
    centroid_missing_reason: str | None = strawberry.field(
        description="Why there is no centroid (Ambrogio never invents coordinates)."
    )
    _centroid: strawberry.Private[Any]

    @strawberry.field(description="The centroid as a GeoJSON Point, or null.")
    def geojson(self) -> JSON | None:
        return cast(JSON, geojson(self._centroid))

    @classmethod
    async def load(cls, info: Info, code: str | None) -> Comune | None:
        """The comune with this ISTAT code, through the request's loader."""
        if code is None:
            return None
        row = await info.context.loaders.comune.load(code)
        return cls.from_row(row) if row else None

    @classmethod
    async def load_many(cls, info: Info, codes: list[str]) -> list[Comune]:
        rows = await info.context.loaders.comune.load_many(codes)
        return [cls.from_row(row) for row in rows if row is not None]

    @classmethod
    def from_row(cls, row: models.Comune) -> Comune:
        point = lat_lon(row.centroid)
        return cls(
            id=strawberry.ID(to_global_id("Comune", row.istat_code)),
            istat_code=row.istat_code,
            name=row.name,
            province_code=row.province_code,
            province_name=row.province_name,
            region_code=row.region_code,
            region_name=row.region_name,
            cadastral_code=row.cadastral_code,
            caps=list(row.caps),
            lat=point[0] if point else None,
            lon=point[1] if point else None,
            centroid_source=row.centroid_source,
            centroid_missing_reason=row.centroid_missing_reason,
            _centroid=row.centroid,
        )
