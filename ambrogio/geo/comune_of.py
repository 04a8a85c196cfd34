"""The comune a point falls in, from the gazetteer, for many points in one statement.

A point gets the comune whose boundary covers it (precision ``boundary``). A point no boundary
covers — a gap between two simplified borders, or a comune whose boundary is not known — gets
the nearest centroid of the province that its ``AGREEING`` nearest centroids mostly belong to
(precision ``centroid``): near a provincial border, the nearest centroid alone may be across
it. That comune must be one without a boundary, or one whose boundary is within
``GAP_METRES`` of the point, so a point abroad or at sea gets no comune at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

AGREEING = 5
GAP_METRES = 1000.0

_COMUNE_OF = """
WITH point AS (
    SELECT ord, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom
    FROM unnest(CAST(:lats AS float8[]), CAST(:lons AS float8[]))
         WITH ORDINALITY AS t(lat, lon, ord)
)
SELECT p.ord, coalesce(inside.istat_code, near.istat_code) AS istat_code,
       CASE WHEN inside.istat_code IS NOT NULL THEN 'boundary'
            WHEN near.istat_code IS NOT NULL THEN 'centroid' END AS precision
FROM point p
LEFT JOIN LATERAL (
    SELECT c.istat_code FROM comune c
    WHERE c.boundary && p.geom AND ST_Covers(c.boundary, p.geom)
    ORDER BY c.istat_code LIMIT 1
) inside ON true
LEFT JOIN LATERAL (
    WITH nearest AS (
        SELECT c.istat_code, c.province_code, c.boundary,
               ST_Distance(c.centroid::geography, p.geom::geography) AS metres
        FROM comune c WHERE c.centroid IS NOT NULL
        ORDER BY c.centroid <-> p.geom LIMIT :agreeing
    ), province AS (
        SELECT province_code FROM nearest GROUP BY 1 ORDER BY count(*) DESC, min(metres) LIMIT 1
    )
    SELECT n.istat_code FROM nearest n JOIN province USING (province_code)
    WHERE n.boundary IS NULL OR ST_DWithin(n.boundary::geography, p.geom::geography, :gap)
    ORDER BY n.metres, n.istat_code LIMIT 1
) near ON inside.istat_code IS NULL
ORDER BY p.ord
"""


@dataclass(frozen=True, slots=True)
class Found:
    istat_code: str | None
    # "boundary" or "centroid"; None when no comune was found.
    precision: str | None


async def comuni_of(session: AsyncSession, points: Sequence[tuple[float, float]]) -> list[Found]:
    """The comune of each (lat, lon), in the order given."""
    if not points:
        return []
    rows = await session.execute(
        text(_COMUNE_OF),
        {
            "lats": [lat for lat, _ in points],
            "lons": [lon for _, lon in points],
            "agreeing": AGREEING,
            "gap": GAP_METRES,
        },
    )
    return [Found(row.istat_code, row.precision) for row in rows]
