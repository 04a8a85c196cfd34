"""Geometry conversion at the edges: the only place where database geometries meet Shapely."""

from __future__ import annotations

from typing import Any

from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping


def lat_lon(geom: WKBElement | None) -> tuple[float, float] | None:
    """(lat, lon) of a point geometry, or None when there is no point."""
    if geom is None:
        return None
    point = to_shape(geom)
    return float(point.y), float(point.x)


def geojson(geom: WKBElement | None) -> dict[str, Any] | None:
    """A GeoJSON geometry object (RFC 7946: lon, lat order)."""
    if geom is None:
        return None
    return dict(mapping(to_shape(geom)))
