"""The supply side of a gap: the published services that reach a comune, per category, and
their free seats in the coming weeks.

A service reaches a comune when it is delivered at home and its area covers the comune (the
comune is in its list, or its polygon covers the comune's centroid), or when it is offered on
site at a published location within ``radius_m`` of the comune's centroid (metres on the WGS84
ellipsoid, ``ST_DWithin`` on geography, which the location's geography index answers). A
service counts for each of its categories, for their parents, and for "every category" (a
NULL category), once however many categories lead there.

Free seats are the open slots' ``capacity - taken`` starting in ``[start, end)``: capacity that
is published as slots; a service without slots adds none.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, Float, String, TextClause, bindparam, text
from sqlalchemy.types import DateTime

SUPPLY = text(
    """
WITH places AS (
    SELECT istat_code, centroid FROM comune
    WHERE centroid IS NOT NULL AND istat_code = ANY(:comuni)
),
visible AS (
    SELECT s.id, s.delivery, s.service_area, s.service_area_comuni FROM service s
    JOIN organization o ON o.id = s.organization_id
    WHERE s.status = 'published' AND o.status = 'published' AND o.merged_into_id IS NULL
),
reach AS (
    SELECT p.istat_code, s.id AS service_id FROM places p
    JOIN visible s ON 'at_home' = ANY(s.delivery)
        AND (p.istat_code = ANY(s.service_area_comuni) OR ST_Covers(s.service_area, p.centroid))
    UNION
    SELECT p.istat_code, s.id FROM places p
    JOIN location l ON l.status = 'published' AND l.geom IS NOT NULL
        AND ST_DWithin(l.geom::geography, p.centroid::geography, :radius_m)
    JOIN service_at_location sal ON sal.location_id = l.id
    JOIN visible s ON s.id = sal.service_id AND 'on_site' = ANY(s.delivery)
),
free AS (
    SELECT service_id, sum(capacity - taken) AS seats FROM slot
    WHERE status = 'open' AND starts_at >= :start AND starts_at < :end
    GROUP BY service_id
),
pairs AS (
    SELECT DISTINCT r.istat_code, r.service_id, c.category FROM reach r
    JOIN service_category sc ON sc.service_id = r.service_id
    JOIN taxonomy_term t ON t.id = sc.term_id
    LEFT JOIN taxonomy_term parent ON parent.id = t.parent_id
    CROSS JOIN LATERAL (VALUES (t.slug), (coalesce(parent.slug, t.slug)), (NULL)) c(category)
)
SELECT pairs.istat_code, pairs.category, count(*) AS services,
       coalesce(sum(free.seats), 0) AS free_seats
FROM pairs LEFT JOIN free ON free.service_id = pairs.service_id
GROUP BY pairs.istat_code, pairs.category
"""
).bindparams(
    bindparam("comuni", type_=ARRAY(String)),
    bindparam("radius_m", type_=Float),
    bindparam("start", type_=DateTime(timezone=True)),
    bindparam("end", type_=DateTime(timezone=True)),
)


def supply(comuni: list[str], radius_m: float, start: datetime, end: datetime) -> TextClause:
    """Rows (istat_code, category slug or NULL, services, free_seats) for these comuni."""
    return SUPPLY.bindparams(comuni=comuni, radius_m=radius_m, start=start, end=end)
