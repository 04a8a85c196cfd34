"""Where demo records go: comuni weighted by population, neighbours, and points around a town.

Everything here is derived from the gazetteer's centroids and a few small tables; nothing
reads the database, so the demo network is a pure function of the seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ambrogio.geo.gazetteer import GazetteerComune, lecco_comuni

# Approximate residents of the larger comuni (ISTAT, 2023, rounded): the demo puts providers
# where people live. Comuni not listed weigh DEFAULT_POPULATION.
POPULATION: dict[str, int] = {
    "Lecco": 47_000,
    "Merate": 14_900,
    "Calolziocorte": 13_500,
    "Casatenovo": 13_100,
    "Valmadrera": 11_400,
    "Mandello del Lario": 10_200,
    "Oggiono": 9_000,
    "Missaglia": 8_600,
    "Galbiate": 8_500,
    "Colico": 7_900,
    "Olginate": 7_000,
    "Robbiate": 6_300,
    "Olgiate Molgora": 6_300,
    "Verderio": 5_700,
    "Calco": 5_300,
    "Barzanò": 5_100,
    "Lomagna": 5_000,
    "Costa Masnaga": 4_900,
    "Osnago": 4_800,
    "La Valletta Brianza": 4_600,
    "Brivio": 4_500,
    "Cassago Brianza": 4_400,
    "Malgrate": 4_200,
    "Monticello Brianza": 4_200,
    "Ballabio": 4_100,
    "Cernusco Lombardone": 3_900,
    "Paderno d'Adda": 3_900,
    "Civate": 3_800,
}
DEFAULT_POPULATION = 1_500

# Lakeside towns: which way the land lies from the centroid (lake Como, lakes Garlate,
# Olginate, Annone, Pusiano). Offsets are folded onto that side so that demo points do not
# land in the water — a rough rule, not a coastline.
LANDWARD: dict[str, str] = {
    "Lecco": "E",
    "Abbadia Lariana": "E",
    "Mandello del Lario": "E",
    "Lierna": "E",
    "Varenna": "E",
    "Perledo": "E",
    "Bellano": "E",
    "Dervio": "E",
    "Dorio": "E",
    "Colico": "E",
    "Vercurago": "E",
    "Calolziocorte": "E",
    "Bosisio Parini": "E",
    "Malgrate": "W",
    "Valmadrera": "W",
    "Pescate": "W",
    "Garlate": "W",
    "Olginate": "W",
    "Annone di Brianza": "S",
    "Oggiono": "S",
    "Civate": "N",
}

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_AT_EQUATOR = 111.320


@dataclass(frozen=True, slots=True)
class Place:
    """A comune that has a centroid, with what the demo needs to know about it."""

    istat_code: str
    name: str
    cap: str
    lat: float
    lon: float
    population: int

    @property
    def spread_km(self) -> float:
        """Standard deviation of the offset of a point from the centroid: bigger towns spread."""
        if self.population >= 40_000:
            return 1.5
        if self.population >= 8_000:
            return 1.0
        return 0.6


def _place(comune: GazetteerComune) -> Place | None:
    # Demo records gather around towns: a centroid that is only a point inside the boundary
    # (no GeoNames town) is no town to gather around.
    if comune.lat is None or comune.lon is None:
        return None
    if not (comune.centroid_source or "").startswith("geonames:"):
        return None
    return Place(
        comune.istat_code,
        comune.name,
        comune.caps[0] if comune.caps else "",
        comune.lat,
        comune.lon,
        POPULATION.get(comune.name, DEFAULT_POPULATION),
    )


@cache
def _places() -> tuple[Place, ...]:
    known = {comune.name for comune in lecco_comuni()}
    for table in (POPULATION, LANDWARD):
        unknown = sorted(set(table) - known)
        if unknown:
            raise ValueError(f"not comuni of the province: {unknown}")
    return tuple(place for comune in lecco_comuni() if (place := _place(comune)) is not None)


def places() -> tuple[Place, ...]:
    """The comuni with a town's centroid, by ISTAT code; the others get no demo records."""
    return _places()


def by_name(name: str) -> Place:
    for place in places():
        if place.name == name:
            return place
    raise KeyError(name)


def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance; plenty for "within 12 km" on a province."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def within(place: Place, km: float) -> list[Place]:
    """``place`` and every comune whose centroid lies within ``km`` of it, by ISTAT code."""
    return [other for other in places() if distance_km(place, other) <= km]


def nearest(place: Place, candidates: Sequence[Place]) -> Place:
    return min(candidates, key=lambda candidate: (distance_km(place, candidate), candidate.name))


def weighted_choice(rng: random.Random, candidates: Sequence[Place]) -> Place:
    return rng.choices(candidates, weights=[place.population for place in candidates])[0]


def _fold(dx: float, dy: float, landward: str | None) -> tuple[float, float]:
    if landward == "E":
        return abs(dx), dy
    if landward == "W":
        return -abs(dx), dy
    if landward == "N":
        return dx, abs(dy)
    if landward == "S":
        return dx, -abs(dy)
    return dx, dy


def _offset_km(rng: random.Random, sigma: float) -> float:
    # Clipped at two sigma: a long tail would put small towns' points in the next valley.
    return max(-2 * sigma, min(2 * sigma, rng.gauss(0.0, sigma)))


def point_near(
    rng: random.Random, place: Place, sigma_km: float | None = None
) -> tuple[float, float]:
    """A (lon, lat) around the comune's centroid, gaussian, on the landward side of a lake."""
    sigma = place.spread_km if sigma_km is None else sigma_km
    dx, dy = _fold(_offset_km(rng, sigma), _offset_km(rng, sigma), LANDWARD.get(place.name))
    lat = place.lat + dy / KM_PER_DEGREE_LAT
    lon = place.lon + dx / (KM_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(place.lat)))
    # Six decimals (about 0.1 m): stable text, and as precise as an address ever is.
    return round(lon, 6), round(lat, 6)
