"""Validated WGS84 inputs: points, radii and bounding boxes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, cast, func, literal
from sqlalchemy.types import UserDefinedType

from ambrogio.db.models import SRID
from ambrogio.errors import BadUserInput

# Half the Earth's circumference would be "everything"; a catalogue search wider than this is
# a mistake in the client (metres vs kilometres, usually).
MAX_RADIUS_M = 500_000.0


class PlainGeography(UserDefinedType[object]):
    """Renders a bare ``::geography`` cast, the exact expression of the GiST indexes on
    ``(geom::geography)``; a typmod such as ``geography(GEOMETRY,-1)`` would not match them."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "geography"


def geography(column: Any) -> ColumnElement[object]:
    return cast(column, PlainGeography())


def knn(geom: Any, point: ColumnElement[object]) -> ColumnElement[float]:
    """``<->``, the distance that drives a KNN index scan: spherical between geographies,
    Euclidean between planar geometries."""
    result: ColumnElement[float] = geom.op("<->", return_type=Float())(point)
    return result


@dataclass(frozen=True)
class LatLon:
    lat: float
    lon: float

    @classmethod
    def checked(cls, lat: float, lon: float, field: str) -> LatLon:
        if not math.isfinite(lat) or not -90.0 <= lat <= 90.0:
            raise BadUserInput(f"{field}.lat", lat, "must be a latitude between -90 and 90")
        if not math.isfinite(lon) or not -180.0 <= lon <= 180.0:
            raise BadUserInput(f"{field}.lon", lon, "must be a longitude between -180 and 180")
        return cls(lat, lon)

    def geography(self) -> ColumnElement[object]:
        """The point as a geography bind expression."""
        return point_geography(literal(self.lon), literal(self.lat))

    def geometry(self) -> ColumnElement[object]:
        """The point as a WGS84 geometry bind expression."""
        return point_geometry(literal(self.lon), literal(self.lat))


def point_geometry(lon: ColumnElement[float], lat: ColumnElement[float]) -> ColumnElement[object]:
    """The WGS84 geometry of a point from its longitude and latitude expressions."""
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID)


def point_geography(lon: ColumnElement[float], lat: ColumnElement[float]) -> ColumnElement[object]:
    """The geography of a WGS84 point from its longitude and latitude expressions."""
    return geography(point_geometry(lon, lat))


def checked_radius(radius_m: float | None, field: str = "radiusMeters") -> float | None:
    if radius_m is None:
        return None
    if not math.isfinite(radius_m) or radius_m <= 0:
        raise BadUserInput(field, radius_m, "must be a positive number of metres")
    if radius_m > MAX_RADIUS_M:
        raise BadUserInput(field, radius_m, f"must be at most {MAX_RADIUS_M:.0f} metres")
    return radius_m
