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
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from ambrogio.db.models import SRID, Comune, Service
from ambrogio.enums import Delivery
from ambrogio.geo.point import LatLon, geography

COMUNE_RADIUS_M = 4000.0


def _point_geometry(point: LatLon) -> ColumnElement[object]:
    return func.ST_SetSRID(func.ST_MakePoint(literal(point.lon), literal(point.lat)), SRID)


def comuni_covering(point: LatLon) -> ColumnElement[Any]:
    """The ISTAT codes of the comuni that cover the point, as an array.

    Two branches: the boundaries through their GiST index (``&&`` first: testing every
    comune's boundary would read all of Italy's, about 350 ms), and the few comuni without one
    by their centroid's circle.
    """
    here = _point_geometry(point)
    by_boundary = select(Comune.istat_code).where(
        Comune.boundary.op("&&")(here), func.ST_Covers(Comune.boundary, here)
    )
    by_circle = select(Comune.istat_code).where(
        Comune.boundary.is_(None),
        func.ST_DWithin(geography(Comune.centroid), point.geography(), literal(COMUNE_RADIUS_M)),
    )
    covering = union_all(by_boundary, by_circle).subquery()
    empty = literal([], ARRAY(String))
    return select(func.coalesce(func.array_agg(covering.c.istat_code), empty)).scalar_subquery()


def reaches(point: LatLon) -> ColumnElement[bool]:
    at_home = Service.delivery.op("@>")(literal([Delivery.AT_HOME.value], ARRAY(Text)))
    return and_(
        at_home,
        or_(
            func.ST_Covers(Service.service_area, _point_geometry(point)),
            Service.service_area_comuni.op("&&")(comuni_covering(point)),
        ),
    )
