"""Need records for the needs tests: welfare points, operators, and needs written straight to
the database (the tests of the API write theirs through it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.db.models import Need, WelfarePoint
from ambrogio.needs.lattice import Quarter, Week, last_ended_quarter
from ambrogio.settings import Settings
from ambrogio.taxonomy import term_id
from tests.support.accounts import login

LECCO, VALMADRERA, MALGRATE, GALBIATE, CIVATE = "097042", "097083", "097045", "097036", "097022"


@dataclass(frozen=True)
class Desk:
    id: uuid.UUID
    operator: dict[str, str]


async def desk(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, name: str, comune: str
) -> Desk:
    """A welfare point in ``comune`` and the bearer header of a mapper working there."""
    point = uuid.uuid5(uuid.NAMESPACE_URL, f"test-desk:{name}")
    async with sessionmaker() as session:
        await session.execute(
            pg_insert(WelfarePoint)
            .values(
                id=point,
                name=f"Punto {name}",
                kind="point",
                status="published",
                comune_istat=comune,
                comuni_served=[comune],
            )
            .on_conflict_do_nothing()
        )
        await session.commit()
    return Desk(point, await login(sessionmaker, settings, f"op-{name}", "mapper", point))


def ended_quarters(today: date, count: int) -> list[Quarter]:
    """The last ``count`` ended quarters, oldest first."""
    found = [last_ended_quarter(today)]
    while len(found) < count:
        found.insert(0, found[0].previous())
    return found


def day_in(week: Week, weekday: int = 2) -> date:
    return week.monday + timedelta(days=weekday)


def need_row(
    point: uuid.UUID,
    comune: str,
    category: str,
    day: date,
    outcome: str = "referred",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "welfare_point_id": point,
        "category_id": term_id(category),
        "comune_istat": comune,
        "urgency": "medium",
        "recorded_on": day,
        "outcome": outcome,
        # entered the day it was met: within the days a late entry is accepted
        "created_at": datetime.combine(day, time(12), UTC),
        **extra,
    }


async def replace_needs(
    sessionmaker: async_sessionmaker[AsyncSession], rows: list[dict[str, Any]]
) -> None:
    """The database's needs become ``rows``."""
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(Need))
        if rows:
            await session.execute(pg_insert(Need), rows)


async def count_needs(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(func.count(Need.id)) or 0)
