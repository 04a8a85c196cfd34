"""The bounds of ``geo/planar.py``, checked against PROJ (pyproj): the scale factor of UTM
zone 32N over the region, and the margin between the query area and the region's edge."""

from __future__ import annotations

import itertools

import numpy as np
from pyproj import Geod, Proj

from ambrogio.geo import planar

GEOD = Geod(ellps="WGS84")
UTM = Proj(f"EPSG:{planar.PLANAR_SRID}")


def _grid(box: tuple[float, float, float, float], step: float) -> tuple[np.ndarray, np.ndarray]:
    west, south, east, north = box
    lons, lats = np.meshgrid(
        np.arange(west, east + step / 2, step), np.arange(south, north + step / 2, step)
    )
    return lons.ravel(), lats.ravel()


def test_the_scale_factor_stays_between_k0_and_k_max_over_the_region() -> None:
    lons, lats = _grid(planar.REGION, 0.25)

    factors = UTM.get_factors(lons, lats)

    # Conformal: one scale factor in every direction.
    assert np.allclose(factors.meridional_scale, factors.parallel_scale, rtol=1e-9)
    k = np.asarray(factors.meridional_scale)
    assert k.min() >= planar.K0 - 1e-9  # get_factors differentiates numerically
    assert k.max() <= planar.K_MAX
    assert k.max() > planar.K_MAX - 0.001, "K_MAX is not loose by more than 0.1 %"


def test_the_query_area_lies_d_min_inside_the_region() -> None:
    q_west, q_south, q_east, q_north = planar.QUERY_AREA
    r_west, r_south, r_east, r_north = planar.REGION
    step = 0.05
    q_lats = np.arange(q_south, q_north + step / 2, step)
    q_lons = np.arange(q_west, q_east + step / 2, step)
    r_lats = np.arange(r_south, r_north + step / 2, step)
    r_lons = np.arange(r_west, r_east + step / 2, step)
    # The nearest point of the region's edge to the query area is seen from the area's edge.
    pairs = [
        *((q_east, lat, r_east, r_lat) for lat, r_lat in itertools.product(q_lats, r_lats)),
        *((q_west, lat, r_west, r_lat) for lat, r_lat in itertools.product(q_lats, r_lats)),
        *((lon, q_north, r_lon, r_north) for lon, r_lon in itertools.product(q_lons, r_lons)),
        *((lon, q_south, r_lon, r_south) for lon, r_lon in itertools.product(q_lons, r_lons)),
    ]
    lon1, lat1, lon2, lat2 = (np.array(column) for column in zip(*pairs, strict=True))

    distances = GEOD.inv(lon1, lat1, lon2, lat2)[2]

    assert distances.min() >= planar.D_MIN
    assert distances.min() < planar.D_MIN * 1.1, "D_MIN is not loose by more than 10 %"


def test_planar_distance_bounds_hold_for_sampled_pairs() -> None:
    """p ≤ K_MAX · d and d ≤ p / K0, for pairs from the query area to points up to D_MIN away."""
    rng = np.random.default_rng(7)
    west, south, east, north = planar.QUERY_AREA
    lon1, lat1 = rng.uniform(west, east, 2000), rng.uniform(south, north, 2000)
    lon2, lat2, _ = GEOD.fwd(
        lon1, lat1, rng.uniform(0, 360, 2000), rng.uniform(1, planar.D_MIN, 2000)
    )
    x1, y1 = UTM(lon1, lat1)
    x2, y2 = UTM(lon2, lat2)

    p = np.hypot(x2 - x1, y2 - y1)
    d = GEOD.inv(lon1, lat1, lon2, lat2)[2]

    assert (p <= planar.K_MAX * d).all()
    assert (d <= p / planar.K0 + 1e-6).all()
