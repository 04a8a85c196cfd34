"""Publishing slots: one by one, or from a recurring rule in ``opening_hours`` syntax.

A rule such as ``Mo,We 09:00-12:00; PH off`` names the hours a provider takes bookings (the
syntax mappers already know, with Italian public holidays); ``minutes`` cuts those hours into
slots. Times are Europe/Rome wall-clock, so slots keep their local hours across DST changes.
Re-publishing the same rule is harmless: a slot is keyed by its service and start.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.db.models import Service, Slot
from ambrogio.errors import BadUserInput, NotFound
from ambrogio.hours.calendar import parse_opening_hours

MAX_DAYS = 92
MAX_SLOTS = 5000

Range = tuple[datetime, datetime]


def recurring_ranges(rule: str, first: date, days: int, minutes: int) -> list[Range]:
    """The slots a rule makes over ``days`` local days from ``first`` (UTC instants)."""
    if not 1 <= days <= MAX_DAYS:
        raise BadUserInput("days", days, f"must be between 1 and {MAX_DAYS}")
    if not 5 <= minutes <= 24 * 60:
        raise BadUserInput("minutes", minutes, "must be between 5 and 1440")
    schedule = parse_opening_hours(rule, field="rule")
    length = timedelta(minutes=minutes)
    ranges: list[Range] = []
    for lower, upper in schedule.open_spans(first, first + timedelta(days=days - 1)):
        start = lower
        while start + length <= upper:
            ranges.append((start, start + length))
            start += length
    if len(ranges) > MAX_SLOTS:
        raise BadUserInput("rule", rule, f"makes {len(ranges)} slots, more than {MAX_SLOTS}")
    return ranges


def checked_range(start: datetime, end: datetime) -> Range:
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise BadUserInput(name, value.isoformat(), "needs a time zone offset, e.g. +01:00")
    if end <= start:
        raise BadUserInput("end", end.isoformat(), "must be after start")
    return start, end


async def publish_slots(
    session: AsyncSession,
    service_id: uuid.UUID,
    ranges: list[Range],
    capacity: int,
    location_id: uuid.UUID | None = None,
) -> int:
    """Insert the slots not yet published; returns how many were new."""
    if capacity < 1:
        raise BadUserInput("capacity", capacity, "must be at least 1")
    if await session.scalar(select(func.count()).where(Service.id == service_id)) == 0:
        raise NotFound(f"service: no service {service_id}")
    if not ranges:
        return 0
    rows = [
        {
            "id": uuid.uuid4(),
            "service_id": service_id,
            "location_id": location_id,
            "starts_at": start,
            "ends_at": end,
            "capacity": capacity,
            "source": "ambrogio",
            "external_id": f"{service_id}/{start.isoformat()}",
        }
        for start, end in ranges
    ]
    result = await session.execute(
        insert(Slot).values(rows).on_conflict_do_nothing().returning(Slot.id)
    )
    return len(result.all())
