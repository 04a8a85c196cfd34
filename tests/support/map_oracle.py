"""The independent oracle of the map tests: plain rows, and Web Mercator math done in Python.

It reads points with ``ST_X``/``ST_Y`` and nothing else from PostGIS: bboxes, grid cells, tile
bounds and tile coordinates come from the formulas of the XYZ tile scheme (as in
``mercantile``).
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

LECCO = (45.8566, 9.3977)  # lat, lon


# --- Web Mercator tile math (the XYZ scheme) ---------------------------------------------


def tile_xy(lat: float, lon: float, z: int) -> tuple[float, float]:
    """Fractional tile coordinates of a point at zoom z."""
    n = 2**z
    lat_r = math.radians(lat)
    return (lon + 180) / 360 * n, (1 - math.asinh(math.tan(lat_r)) / math.pi) / 2 * n


def tile_of(lat: float, lon: float, z: int) -> tuple[int, int]:
    x, y = tile_xy(lat, lon, z)
    return math.floor(x), math.floor(y)


def tile_bounds(z: int, x: int, y: int) -> dict[str, float]:
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return {"west": x / n * 360 - 180, "south": lat(y + 1), "east": (x + 1) / n * 360 - 180,
            "north": lat(y)}  # fmt: skip


def in_bbox(lat: float, lon: float, bbox: dict[str, float]) -> bool:
    if not bbox["south"] <= lat <= bbox["north"]:
        return False
    if bbox["west"] <= bbox["east"]:
        return bbox["west"] <= lon <= bbox["east"]
    return lon >= bbox["west"] or lon <= bbox["east"]  # across the antimeridian


# --- the oracle ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    location: uuid.UUID
    provider: uuid.UUID
    lat: float
    lon: float
    precision: str
    comune: str | None
    name: str
    kind: str


@dataclass(frozen=True)
class Offer:
    service: uuid.UUID
    provider: uuid.UUID
    slugs: frozenset[str]  # its categories and all their ancestors
    own_slugs: tuple[str, ...]  # its published categories, sorted
    delivery: frozenset[str]
    visible: bool


@dataclass
class Catalogue:
    points: list[Point]
    offers: dict[uuid.UUID, Offer]
    offered_at: dict[uuid.UUID, set[uuid.UUID]]  # location -> services
    welfare: dict[uuid.UUID, tuple[float, float]]

    def providers_matching(self, keep: Callable[[Offer], bool] | None) -> list[Point]:
        if keep is None:
            return self.points
        ok = {o.provider for o in self.offers.values() if o.visible and keep(o)}
        return [p for p in self.points if p.provider in ok]


async def read_catalogue(engine: AsyncEngine) -> Catalogue:
    """Every visible located provider location, service and welfare point, read plainly."""
    async with engine.connect() as conn:
        locations = await conn.execute(
            text(
                """
                SELECT l.id, l.organization_id, ST_Y(l.geom), ST_X(l.geom), l.geocode_precision,
                       l.comune_istat, o.name, o.kind
                FROM location l JOIN organization o ON o.id = l.organization_id
                WHERE l.status = 'published' AND o.status = 'published'
                  AND o.merged_into_id IS NULL AND l.geom IS NOT NULL
                """
            )
        )
        points = [Point(*row) for row in locations.all()]
        terms = (
            await conn.execute(text("SELECT id, slug, parent_id, status FROM taxonomy_term"))
        ).all()
        services = (
            await conn.execute(
                text(
                    """
                    SELECT s.id, s.organization_id, s.delivery,
                           s.status = 'published' AND o.status = 'published'
                             AND o.merged_into_id IS NULL,
                           array(SELECT term_id FROM service_category WHERE service_id = s.id)
                    FROM service s JOIN organization o ON o.id = s.organization_id
                    """
                )
            )
        ).all()
        offered = (
            await conn.execute(text("SELECT service_id, location_id FROM service_at_location"))
        ).all()
        welfare = (
            await conn.execute(
                text(
                    "SELECT id, ST_Y(geom), ST_X(geom) FROM welfare_point"
                    " WHERE status = 'published' AND geom IS NOT NULL"
                )
            )
        ).all()
    term = {row[0]: row for row in terms}

    def lineage(term_id: uuid.UUID | None) -> Iterable[str]:
        while term_id is not None:
            yield term[term_id][1]
            term_id = term[term_id][2]

    offers = {
        sid: Offer(
            sid,
            org,
            frozenset(slug for t in term_ids for slug in lineage(t)),
            tuple(sorted(term[t][1] for t in term_ids if term[t][3] == "published")),
            frozenset(delivery),
            visible,
        )
        for sid, org, delivery, visible, term_ids in services
    }
    offered_at: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for service, location in offered:
        offered_at[location].add(service)
    return Catalogue(points, offers, dict(offered_at), {r[0]: (r[1], r[2]) for r in welfare})
