"""One published location stamped as edited far in the future, so that ``modifiedAfter`` a
little before then finds it and what contains it, and nothing else."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

TOUCHED = datetime(2990, 1, 1, tzinfo=UTC)
# The day before, as a query parameter value and as a GraphQL variable.
SINCE = "2989-12-31T00:00:00+00:00"

PICK = """
SELECT l.id, l.organization_id, l.updated_at FROM location l
JOIN organization o ON o.id = l.organization_id
WHERE l.status = 'published' AND o.status = 'published' AND o.merged_into_id IS NULL
  AND EXISTS (SELECT 1 FROM service_at_location a JOIN service s ON s.id = a.service_id
              WHERE a.location_id = l.id AND s.status = 'published')
ORDER BY l.id LIMIT 1
"""
OFFERED = """
SELECT s.id FROM service s JOIN service_at_location a ON a.service_id = s.id
WHERE a.location_id = :l AND s.status = 'published'
"""
STAMP = "UPDATE location SET updated_at = :t WHERE id = :l"


@dataclass(frozen=True)
class Touched:
    location: uuid.UUID
    provider: uuid.UUID
    offered: set[str]  # the published services offered there


@contextlib.asynccontextmanager
async def location_edited_in_2990(engine: AsyncEngine) -> AsyncIterator[Touched]:
    """The location's update time set to ``TOUCHED`` while the block runs, then restored."""
    async with engine.begin() as conn:
        location, provider, before = (await conn.execute(text(PICK))).one()
        offered = {str(row[0]) for row in await conn.execute(text(OFFERED), {"l": location})}
        await conn.execute(text(STAMP), {"t": TOUCHED, "l": location})
    try:
        yield Touched(location, provider, offered)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(STAMP), {"t": before, "l": location})
