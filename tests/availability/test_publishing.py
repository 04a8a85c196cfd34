"""Publishing slots from a recurring rule: local hours, DST, holidays, idempotent."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.availability.publishing import publish_slots, recurring_ranges
from ambrogio.db.session import create_sessionmaker
from ambrogio.errors import BadUserInput

ROME = ZoneInfo("Europe/Rome")


def _local(ranges):
    return [(a.astimezone(ROME), b.astimezone(ROME)) for a, b in ranges]


def test_a_weekly_rule_makes_slots_at_the_local_hours() -> None:
    # 2027-03-22 is a Monday; Rome moves to summer time on Sunday 2027-03-28.
    ranges = _local(recurring_ranges("Mo,We 09:00-11:00", date(2027, 3, 22), 14, 60))

    days = sorted({start.date() for start, _ in ranges})
    assert days == [date(2027, 3, 22), date(2027, 3, 24), date(2027, 3, 29), date(2027, 3, 31)]
    assert {(s.hour, e.hour) for s, e in ranges} == {(9, 10), (10, 11)}
    offsets = {s.utcoffset().total_seconds() / 3600 for s, _ in ranges}
    assert offsets == {1.0, 2.0}, "winter and summer time both appear, hours stay local"


def test_a_night_across_the_spring_change_has_one_hour_less() -> None:
    # 02:00-03:00 does not exist on 2027-03-28 in Rome: 01:00-04:00 lasts two hours.
    ranges = recurring_ranges("Su 01:00-04:00", date(2027, 3, 28), 1, 60)

    assert len(ranges) == 2


def test_public_holidays_are_skipped_when_the_rule_says_so() -> None:
    # 2026-12-08 (Immacolata) is a Tuesday.
    ranges = _local(recurring_ranges("Tu 09:00-10:00; PH off", date(2026, 12, 1), 15, 60))

    assert [s.date() for s, _ in ranges] == [date(2026, 12, 1), date(2026, 12, 15)]


@pytest.mark.parametrize(
    ("rule", "days", "minutes", "field"),
    [
        ("Mo-Fr 25:00-26:00", 7, 60, "rule"),
        ("Mo-Fr 09:00-10:00", 0, 60, "days"),
        ("Mo-Fr 09:00-10:00", 7, 2, "minutes"),
    ],
)
def test_bad_rules_name_the_field(rule, days, minutes, field) -> None:
    with pytest.raises(BadUserInput) as caught:
        recurring_ranges(rule, date(2026, 12, 1), days, minutes)

    assert caught.value.extensions["field"] == field


async def test_publishing_twice_adds_nothing(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        service = await conn.scalar(text("SELECT id FROM service ORDER BY id LIMIT 1"))
    ranges = recurring_ranges("Mo-Fr 14:00-16:00", date(2027, 1, 11), 5, 30)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            first = await publish_slots(session, service, ranges, capacity=3)
        async with sessions() as session, session.begin():
            again = await publish_slots(session, service, ranges, capacity=3)

        assert first == len(ranges) == 20 and again == 0
    finally:
        async with engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM slot WHERE external_id LIKE :p"), {"p": f"{service}/2027-01-%"}
            )


async def test_publishing_for_an_unknown_service_is_not_found(engine: AsyncEngine) -> None:
    from ambrogio.errors import NotFound

    sessions = create_sessionmaker(engine)
    with pytest.raises(NotFound):
        async with sessions() as session, session.begin():
            await publish_slots(
                session, uuid.uuid4(), [(datetime.now(ROME), datetime.now(ROME))], 1
            )
