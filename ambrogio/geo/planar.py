"""The territory's metric plane: UTM zone 32N (EPSG:32632), for KNN scans cheaper than on
the sphere, with the bounds that keep a search on it exact on the ellipsoid.

Each location inside ``REGION`` also has its point in UTM 32N, ``location.geom_utm`` (a
generated column with its own GiST index, migration 0012); outside, none. A KNN scan on it
orders by the planar distance ``p``, a plain Euclidean distance, several times cheaper to
walk than the spherical ``<->`` on geography. ``geo/nearby.py`` reports and orders by the
ellipsoidal distance ``d``; these facts tie the two, for a query point ``q`` in
``QUERY_AREA`` and a location ``r`` (``tests/geo/test_planar.py`` checks the constants with
pyproj):

1. Transverse Mercator is conformal and its scale factor ``k`` is at least ``K0`` = 0.9996
   everywhere, and at most ``K_MAX`` inside ``REGION``. The image of the geodesic from ``q``
   to ``r`` is a curve of length ``∫ k ds``; the straight segment is no longer, so if the
   geodesic stays inside ``REGION``, ``p ≤ K_MAX · d``.
2. Every point of ``QUERY_AREA`` is at least ``D_MIN`` from the edge of ``REGION``: a geodesic
   that leaves ``REGION`` (or reaches a location outside it, which has no planar point) is
   longer than ``D_MIN``.

Hence ``d ≥ min(p / K_MAX, D_MIN)`` for every location: one left out of the ``m`` planar
candidates (``p ≥ p_max``) or without a planar point is at least ``threshold(p_max)`` away.
And the preimage of the segment from ``q`` to ``r`` is a path of length ``∫ dp / k ≤ p / K0``,
so ``d ≤ p / K0``: a location with ``p < K0 · d0`` is nearer than ``d0`` (the cursor floor).

The plane serves a search from ``QUERY_AREA`` whose radius and cursor stay below ``D_MIN``;
any other takes the geography index (``applies``).

The same facts decide "within ``r`` of ``q``" on the plane for most locations (``within``):
``d ≤ r`` implies ``p ≤ K_MAX · r`` (and that the location has a planar point), so the planar
index bounds the set; ``p < K0 · r`` implies ``d < r``, so only the thin ring between
``K0 · r`` and ``K_MAX · r`` pays for the ellipsoidal test.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, literal_column, or_, select

from ambrogio.db import models
from ambrogio.geo.point import LatLon, geography

# WGS 84 / UTM zone 32N: central meridian 9°E, k0 = 0.9996. Locations with a planar point:
# lon 3°..15°, lat 36°..56° (UTM 32N and its neighbours), the generated column's test.
PLANAR_SRID = models.PLANAR_SRID
REGION = models.PLANAR_REGION
K0 = 0.9996
# Largest scale factor in REGION (1.00321, at its southern corners), rounded up.
K_MAX = 1.0035
# Query points that may use the plane: lon 6°..12°, lat 40°..50° (the territory and around).
QUERY_AREA = (6.0, 40.0, 12.0, 50.0)
# Shortest geodesic from QUERY_AREA to the edge of REGION (214 km, at 50°N), rounded down.
D_MIN = 200_000.0


def applies(point: LatLon, radius_m: float | None, cursor_m: float | None) -> bool:
    west, south, east, north = QUERY_AREA
    return (
        west <= point.lon <= east
        and south <= point.lat <= north
        and (radius_m is None or radius_m < D_MIN)
        and (cursor_m is None or cursor_m < D_MIN)
    )


def threshold(p_max: float, complete: bool) -> float:
    """Below this ellipsoidal distance every location is among the candidates: all of them
    when the scan returned fewer than asked (``complete``: every planar point), else those
    planar-nearer than the farthest candidate, ``p_max``."""
    return D_MIN if complete else min(p_max / K_MAX, D_MIN)


def floor(cursor_m: float) -> float:
    """A planar distance below this means an ellipsoidal distance below ``cursor_m``."""
    return K0 * cursor_m - 0.01


def planar_point(point: ColumnElement[object]) -> ColumnElement[object]:
    """The query point in the plane, computed once per statement (an uncorrelated scalar
    subquery: PostgreSQL's InitPlan) rather than once per row it is compared with."""
    return select(func.ST_Transform(point, literal_column(str(PLANAR_SRID)))).scalar_subquery()


def within(place: Any, point: LatLon, radius_m: float) -> ColumnElement[bool]:
    """``place`` (a location) is within ``radius_m`` of ``point`` on the ellipsoid: exactly
    what ``ST_DWithin`` on geography answers, through the planar GiST index when the plane
    applies (see the module docstring), else through the geography index."""
    sphere = func.ST_DWithin(geography(place.geom), point.geography(), literal(radius_m))
    if not applies(point, radius_m, None):
        return sphere
    plane = planar_point(point.geometry())
    return and_(
        func.ST_DWithin(place.geom_utm, plane, literal(radius_m * K_MAX)),
        or_(func.ST_DWithin(place.geom_utm, plane, literal(floor(radius_m))), sphere),
    )
