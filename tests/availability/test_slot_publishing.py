"""``publishSlots``: who may publish bookable slots, and which slots a rule makes.

The expected slots are computed here from the calendar: weekdays, Europe/Rome wall-clock hours,
and the Italian public holidays of the ``holidays`` package — not from the rule's parser.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.ids import to_global_id

ROME = ZoneInfo("Europe/Rome")
# Monday 7 to Friday 11 December 2026; the 8th is the Immacolata, a public holiday.
FIRST = date(2026, 12, 7)
DAYS = 5

PUBLISH = """
mutation Publish($service: ID!, $rule: String, $first: Date, $days: Int! = 5,
                 $minutes: Int! = 60, $capacity: Int! = 2, $start: DateTime, $end: DateTime,
                 $location: ID) {
  publishSlots(serviceId: $service, rule: $rule, first: $first, days: $days, minutes: $minutes,
               capacity: $capacity, start: $start, end: $end, locationId: $location) {
    created requested slots { startsAt endsAt capacity remaining }
  }
}"""
SLOTS = """
query Slots($service: ID!, $from: DateTime!, $to: DateTime!) {
  slots(serviceId: $service, from: $from, to: $to) { startsAt remaining }
}"""


@pytest.fixture(scope="module")
async def service(engine: AsyncEngine) -> AsyncIterator[dict[str, Any]]:
    """A published service of a published provider with a location in a welfare point's comuni,
    whose slots of the test week are removed afterwards."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT s.id, l.comune_istat, wp.id AS point, o.id AS provider "
                    "FROM service s JOIN organization o ON o.id = s.organization_id "
                    "JOIN location l ON l.organization_id = o.id "
                    "JOIN welfare_point wp ON l.comune_istat = ANY(wp.comuni_served) "
                    "WHERE s.status = 'published' AND o.status = 'published' "
                    "AND l.status = 'published' ORDER BY s.id LIMIT 1"
                )
            )
        ).one()
        elsewhere = await conn.scalar(
            text(
                "SELECT id FROM welfare_point WHERE NOT (:comune = ANY(comuni_served)) "
                "AND comuni_served <> '{}' ORDER BY id LIMIT 1"
            ),
            {"comune": row.comune_istat},
        )
        other_location = await conn.scalar(
            text("SELECT id FROM location WHERE organization_id <> :provider LIMIT 1"),
            {"provider": row.provider},
        )
    yield {
        "id": to_global_id("Service", row.id),
        "pk": row.id,
        "point": row.point,
        "elsewhere": elsewhere,
        "other_location": to_global_id("Location", other_location),
    }
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "DELETE FROM slot WHERE service_id = :id AND starts_at >= :first "
                "AND starts_at < :last"
            ),
            {
                "id": row.id,
                "first": datetime.combine(FIRST, time(), ROME),
                "last": datetime.combine(FIRST + timedelta(days=DAYS + 1), time(), ROME),
            },
        )


def expected_starts(first: date, days: int, hours: range) -> list[datetime]:
    closed = holidays.Italy(years=first.year)
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        if day.weekday() < 5 and day not in closed:
            out.extend(datetime.combine(day, time(hour), ROME) for hour in hours)
    return out


async def test_a_rule_makes_the_slots_of_its_working_hours(
    gql: Any, login: Any, service: dict[str, Any], engine: AsyncEngine
) -> None:
    reviewer = await login("slots-reviewer", "reviewer")
    variables = {"service": service["id"], "rule": "Mo-Fr 09:00-12:00; PH off"}
    result = await gql(PUBLISH, _headers=reviewer, first=FIRST.isoformat(), **variables)
    assert not result.errors, result.errors
    out = result.data["publishSlots"]

    expected = expected_starts(FIRST, DAYS, range(9, 12))
    assert len(expected) == 12  # four working days (the 8th is a holiday) × 3 hours
    assert (out["created"], out["requested"]) == (12, 12)
    starts = [datetime.fromisoformat(slot["startsAt"]) for slot in out["slots"]]
    assert starts == expected
    assert all(slot["capacity"] == 2 and slot["remaining"] == 2 for slot in out["slots"])
    ends = [datetime.fromisoformat(slot["endsAt"]) for slot in out["slots"]]
    assert all(end - start == timedelta(hours=1) for start, end in zip(starts, ends, strict=True))

    # the public sees them
    public = await gql(
        SLOTS,
        service=service["id"],
        **{"from": expected[0].isoformat(), "to": (expected[-1] + timedelta(hours=1)).isoformat()},
    )
    assert [datetime.fromisoformat(s["startsAt"]) for s in public.data["slots"]] == expected

    # publishing again changes nothing
    again = await gql(PUBLISH, _headers=reviewer, first=FIRST.isoformat(), **variables)
    assert (again.data["publishSlots"]["created"], again.data["publishSlots"]["requested"]) == (
        0,
        12,
    )

    # and each call is in the audit trail
    async with engine.connect() as conn:
        events = (
            await conn.execute(
                text(
                    "SELECT actor, after->>'created' FROM audit_event WHERE entity_id = :id "
                    "AND action = 'publish_slots' ORDER BY id"
                ),
                {"id": service["pk"]},
            )
        ).all()
    assert [tuple(event) for event in events][-2:] == [
        ("slots-reviewer", "12"),
        ("slots-reviewer", "0"),
    ]


async def test_one_slot_from_start_to_end(gql: Any, login: Any, service: dict[str, Any]) -> None:
    reviewer = await login("slots-reviewer", "reviewer")
    start = datetime(2026, 12, 11, 15, 30, tzinfo=ROME)
    result = await gql(
        PUBLISH,
        _headers=reviewer,
        service=service["id"],
        start=start.isoformat(),
        end=(start + timedelta(minutes=45)).isoformat(),
        capacity=5,
    )
    assert not result.errors, result.errors
    out = result.data["publishSlots"]
    assert (out["created"], out["requested"]) == (1, 1)
    assert [datetime.fromisoformat(s["startsAt"]) for s in out["slots"]] == [start]


async def test_who_may_publish(gql: Any, login: Any, service: dict[str, Any]) -> None:
    variables = {
        "service": service["id"],
        "rule": "Sa 10:00-11:00",
        "first": FIRST.isoformat(),
        "days": DAYS + 1,
    }
    assert (await gql(PUBLISH, **variables)).codes == ["UNAUTHENTICATED"]

    outsider = await login("slots-outsider", "mapper", service["elsewhere"])
    refused = await gql(PUBLISH, _headers=outsider, **variables)
    assert refused.codes == ["FORBIDDEN"]

    local = await login("slots-local", "mapper", service["point"])
    accepted = await gql(PUBLISH, _headers=local, **variables)
    assert not accepted.errors, accepted.errors
    assert accepted.data["publishSlots"]["requested"] == 1  # Saturday 12 December, 10-11


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"rule": "Mo-Fr 25:00-26:00"}, "rule"),
        ({"rule": "Mo 09:00-10:00", "minutes": 2}, "minutes"),
        ({"rule": "Mo 09:00-10:00", "days": 400}, "days"),
        ({"rule": "Mo 09:00-10:00", "capacity": 0}, "capacity"),
        ({}, "rule"),
        ({"start": "2026-12-11T10:00:00+01:00"}, "rule"),
        ({"start": "2026-12-11T10:00:00+01:00", "end": "2026-12-11T09:00:00+01:00"}, "end"),
        ({"start": "2026-12-11T10:00:00", "end": "2026-12-11T11:00:00+01:00"}, "start"),
    ],
)
async def test_bad_arguments_name_the_field(
    gql: Any, login: Any, service: dict[str, Any], variables: dict[str, Any], field: str
) -> None:
    reviewer = await login("slots-reviewer", "reviewer")
    result = await gql(PUBLISH, _headers=reviewer, service=service["id"], **variables)
    assert result.codes == ["BAD_USER_INPUT"], result.errors
    assert result.errors[0]["extensions"]["field"] == field


async def test_unknown_service_and_foreign_location(
    gql: Any, login: Any, service: dict[str, Any]
) -> None:
    reviewer = await login("slots-reviewer", "reviewer")
    missing = to_global_id("Service", uuid.UUID(int=1))
    result = await gql(PUBLISH, _headers=reviewer, service=missing, rule="Mo 09:00-10:00")
    assert result.codes == ["NOT_FOUND"]
    result = await gql(
        PUBLISH,
        _headers=reviewer,
        service=service["id"],
        rule="Mo 09:00-10:00",
        location=service["other_location"],
    )
    assert result.codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["field"] == "locationId"
