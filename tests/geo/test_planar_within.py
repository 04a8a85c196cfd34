"""``geo.planar.within`` answers "within r metres on the ellipsoid" exactly, checked against
``pyproj.Geod`` for points around the circle's edge, where the plane alone cannot decide:
between ``K0 · r`` and ``K_MAX · r`` of planar distance, and a few centimetres either side
of ``r`` itself."""

from __future__ import annotations

import random

import pytest
from pyproj import Geod
from sqlalchemy import Float, column, func, literal, select, values
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.db.models import PLANAR_SRID, SRID
from ambrogio.geo import planar
from ambrogio.geo.point import LatLon

GEOD = Geod(ellps="WGS84")
LECCO = LatLon(45.8566, 9.3977)
# Where the ellipsoidal test must run: the ring between the two planar bounds.
RING = (planar.K0 - 0.002, planar.K_MAX + 0.002)
# Points closer than this to the edge are not judged: ST_DWithin and Geod agree to a
# millimetre, not to the last bit.
UNDECIDED_M = 0.005


def _points(radius: float, seed: int) -> list[tuple[float, float, float]]:
    """(lon, lat, geodesic metres from LECCO): across the ring, and just either side of r."""
    rng = random.Random(seed)
    factors = [rng.uniform(*RING) for _ in range(150)]
    factors += [1 + sign * rng.uniform(0.01, 0.05) / radius for sign in (-1, 1) for _ in range(25)]
    factors += [rng.uniform(0.0, 0.99) for _ in range(25)]  # inside by far: the plane decides
    points = []
    for factor in factors:
        azimuth = rng.uniform(-180.0, 180.0)
        lon, lat, _ = GEOD.fwd(LECCO.lon, LECCO.lat, azimuth, radius * factor)
        points.append((lon, lat, GEOD.inv(LECCO.lon, LECCO.lat, lon, lat)[2]))
    return points


@pytest.mark.parametrize("radius", [250.0, 3000.0, 40_000.0])
async def test_within_is_the_ellipsoidal_radius(engine: AsyncEngine, radius: float) -> None:
    points = _points(radius, seed=int(radius))
    rows = values(column("i"), column("lon", Float), column("lat", Float), name="sample").data(
        [(i, lon, lat) for i, (lon, lat, _) in enumerate(points)]
    )
    geom = func.ST_SetSRID(func.ST_MakePoint(rows.c.lon, rows.c.lat), literal(SRID))
    place = select(
        rows.c.i,
        geom.label("geom"),
        func.ST_Transform(geom, literal(PLANAR_SRID)).label("geom_utm"),
    ).subquery()

    async with engine.connect() as conn:
        result = await conn.execute(
            select(place.c.i, planar.within(place.c, LECCO, radius)).order_by(place.c.i)
        )
        answers = dict(result.all())

    judged = [(i, d) for i, (_, _, d) in enumerate(points) if abs(d - radius) > UNDECIDED_M]
    assert sum(d <= radius for _, d in judged) > 50 and sum(d > radius for _, d in judged) > 50
    wrong = [(i, d) for i, d in judged if answers[i] != (d <= radius)]
    assert not wrong, f"within {radius} m disagrees with Geod: {wrong[:5]}"


def test_the_sphere_answers_where_the_plane_does_not_apply() -> None:
    far = LatLon(60.0, 25.0)  # outside the query area

    sql = str(planar.within(_Place, far, 1000.0).compile())

    assert "geom_utm" not in sql and "ST_DWithin" in sql


class _Place:
    """Columns named as a location's, for compiling ``within`` without a table."""

    geom = column("geom")
    geom_utm = column("geom_utm")
