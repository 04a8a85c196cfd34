"""Who comes to my home: at-home services whose service area covers a point.

A service area is an explicit (multi)polygon, or a list of comuni. A comune covers the point
when its boundary contains it; a comune without a boundary (the gazetteer lacks a few, see
``geo/gazetteer.py``) covers the points within ``COMUNE_RADIUS_M`` of its centroid, a circle
about the size of a comune of the Province of Lecco (Lecco itself: 45 km², a 3.8 km radius).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Text,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from ambrogio.db.models import SRID, Comune, Service
from ambrogio.enums import Delivery
from ambrogio.geo.point import LatLon, geography

COMUNE_RADIUS_M = 4000.0


def _point_geometry(point: LatLon) -> ColumnElement[object]:
    return func.ST_SetSRID(func.ST_MakePoint(literal(point.lon), literal(point.lat)), SRID)


def comuni_covering(point: LatLon) -> ColumnElement[Any]:
    """The ISTAT codes of the comuni that cover the point, as an array (a small table)."""
    covers = case(
        (Comune.boundary.is_not(None), func.ST_Covers(Comune.boundary, _point_geometry(point))),
        else_=func.ST_DWithin(
            geography(Comune.centroid), point.geography(), literal(COMUNE_RADIUS_M)
        ),
    )
    codes = select(func.coalesce(func.array_agg(Comune.istat_code), literal([], ARRAY(String))))
    return codes.where(covers).scalar_subquery()


def reaches(point: LatLon) -> ColumnElement[bool]:
    at_home = Service.delivery.op("@>")(literal([Delivery.AT_HOME.value], ARRAY(Text)))
    return and_(
        at_home,
        or_(
            func.ST_Covers(Service.service_area, _point_geometry(point)),
            Service.service_area_comuni.op("&&")(comuni_covering(point)),
        ),
    )
