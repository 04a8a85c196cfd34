"""The demo welfare hubs and points: desks where operators meet citizens.

Hubs sit in the seats of the province's three social-service districts (Ambiti) — Lecco,
Merate and Bellano on the lake — and each serves the comuni nearer to it than to another hub.
Points sit in the larger towns and serve their comune and the comuni within ``POINT_REACH_KM``.
"""

from __future__ import annotations

import random
from datetime import timedelta

from ambrogio.demo.records import BASE_TIME, Row, phone, provenance, slugify, street_address
from ambrogio.demo.territory import POPULATION, Place, by_name, nearest, places, point_near, within
from ambrogio.enums import GeocodePrecision, Status, WelfarePointKind

HUBS = ("Lecco", "Merate", "Bellano")
POINTS = 12
POINT_REACH_KM = 6.0
HUB_HOURS = "Mo-Fr 09:00-13:00,14:00-17:30; PH off"
POINT_HOURS = (
    "Tu,Th 09:00-12:30; PH off",
    "Mo 14:00-17:00; We 09:00-12:00; PH off",
    "We 15:00-18:00; Sa 09:00-12:00; PH off",
    "Mo,Fr 09:00-12:00; PH off",
)


def _point_towns() -> list[Place]:
    """The most populous comuni that host no hub."""
    ranked = sorted(POPULATION.items(), key=lambda item: (-item[1], item[0]))
    return [by_name(name) for name, _ in ranked if name not in HUBS][:POINTS]


def _desk(
    rng: random.Random, kind: WelfarePointKind, place: Place, name: str, served: list[Place]
) -> Row:
    ext = f"{kind.value}-{slugify(place.name)}"
    created = BASE_TIME - timedelta(days=rng.randint(200, 400))
    lon, lat = point_near(rng, place, sigma_km=0.3)
    return provenance(
        ext, Status.PUBLISHED, created, created + timedelta(days=rng.randint(0, 60))
    ) | {
        "name": name,
        "kind": kind.value,
        "lon": lon,
        "lat": lat,
        "geocode_precision": GeocodePrecision.ADDRESS.value,
        "address": f"{street_address(rng)}",
        "cap": place.cap,
        "comune_istat": place.istat_code,
        "opening_hours": HUB_HOURS if kind is WelfarePointKind.HUB else rng.choice(POINT_HOURS),
        "phone": phone(rng, place),
        "email": f"{ext}@welfare-lecco.example",
        "comuni_served": sorted(other.istat_code for other in served),
    }


def welfare_points(rng: random.Random) -> list[Row]:
    hubs = [by_name(name) for name in HUBS]
    rows = []
    for hub in hubs:
        served = [place for place in places() if nearest(place, hubs) == hub]
        rows.append(_desk(rng, WelfarePointKind.HUB, hub, f"Hub del Welfare di {hub.name}", served))
    for town in _point_towns():
        served = within(town, POINT_REACH_KM)
        rows.append(
            _desk(rng, WelfarePointKind.POINT, town, f"Punto Welfare di {town.name}", served)
        )
    return rows
