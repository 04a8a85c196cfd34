"""Bookable slots for the demo network, for the weeks after the day it is loaded.

Made in SQL from the demo services priced by the hour or the session: about four in ten of
them publish weekday slots (mornings and afternoons, Europe/Rome wall-clock times, so DST
is handled by PostgreSQL) for the next ``DAYS`` days. Individual services (by the hour) take
one person; sessions take one to six. One slot in five is already full, so a new user sees
both free and booked-out slots. Choices hash the ids, so the same day gives the same slots.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.ids import NAMESPACE

DAYS = 21
SOURCE = "demo"

DELETE = text(
    """
    DELETE FROM slot s WHERE s.source = :source
      AND NOT EXISTS (SELECT 1 FROM reservation r WHERE r.slot_id = s.id)
    """
)

INSERT = text(
    f"""
    INSERT INTO slot (id, service_id, location_id, starts_at, ends_at, capacity, taken,
                      source, external_id)
    SELECT uuid_generate_v5('{NAMESPACE}'::uuid, :source || ':' || ext), service_id,
           location_id, starts_at, starts_at + interval '1 hour', capacity,
           CASE WHEN abs(hashtext(ext)) % 5 = 0 THEN capacity ELSE 0 END,
           :source, ext
    FROM (
      SELECT s.id AS service_id,
             (SELECT sal.location_id FROM service_at_location sal
              WHERE sal.service_id = s.id ORDER BY sal.location_id LIMIT 1) AS location_id,
             (day::timestamp + make_interval(hours => h)) AT TIME ZONE 'Europe/Rome'
               AS starts_at,
             CASE WHEN c.unit = 'hour' THEN 1 ELSE 1 + abs(hashtext(s.id::text)) % 6 END
               AS capacity,
             s.external_id || '/slot-' || to_char(day, 'YYYY-MM-DD') || '-' || h AS ext
      FROM service s
      JOIN LATERAL (SELECT unit FROM cost_option WHERE service_id = s.id
                    ORDER BY id LIMIT 1) c ON true
      CROSS JOIN LATERAL (SELECT CAST(:today AS date) + d AS day
                          FROM generate_series(1, :days) AS d) AS days
      CROSS JOIN unnest(ARRAY[9, 10, 11, 15, 16, 17]) AS h
      WHERE s.source = :source AND s.status = 'published'
        AND c.unit IN ('hour', 'session')
        AND abs(hashtext(s.id::text)) % 10 < 4
        AND extract(isodow FROM day) <= 5
        AND abs(hashtext(s.id::text || h)) % 3 <> 0
    ) AS planned
    ON CONFLICT (source, external_id) DO NOTHING
    """
)


async def refresh_demo_slots(session: AsyncSession, today: date) -> int:
    """Replace the unbooked demo slots with those of the next weeks; returns how many exist."""
    await session.execute(DELETE, {"source": SOURCE})
    await session.execute(INSERT, {"source": SOURCE, "today": today, "days": DAYS})
    count = await session.scalar(
        text("SELECT count(*) FROM slot WHERE source = :source"), {"source": SOURCE}
    )
    return int(count or 0)
