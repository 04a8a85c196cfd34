"""Deleting every provider and welfare point of one source, fast even for a million rows.

Deleting an organization fires, per row, the foreign-key actions of every table that refers
to it. Children are therefore deleted first, set-based, from the leaves up; the per-row
actions that remain then find nothing to do.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Tables hanging off a service, deleted through a join on the service's source.
_SERVICE_CHILDREN = ("service_at_location", "service_category", "cost_option")


async def delete_source(session: AsyncSession, source: str) -> None:
    """Delete the providers (with all they own) and welfare points whose source is ``source``."""
    params = {"source": source}
    for table in _SERVICE_CHILDREN:
        await session.execute(
            text(
                f"DELETE FROM {table} AS child USING service "
                "WHERE child.service_id = service.id AND service.source = :source"
            ),
            params,
        )
    # A service may sit at another source's location: clear those links too.
    await session.execute(
        text(
            "DELETE FROM service_at_location AS sal USING location "
            "WHERE sal.location_id = location.id AND location.source = :source"
        ),
        params,
    )
    for table in ("service", "location"):
        await session.execute(
            text(
                f"DELETE FROM {table} AS child USING organization "
                "WHERE child.organization_id = organization.id AND organization.source = :source"
            ),
            params,
        )
    await session.execute(text("DELETE FROM organization WHERE source = :source"), params)
    await session.execute(text("DELETE FROM welfare_point WHERE source = :source"), params)
