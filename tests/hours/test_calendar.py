"""Opening hours evaluated in Python: DST, public holidays, overnight ranges, 24/7, bad input.

Instants are written in UTC ("Z") so that each test says which absolute moment it means; the
comments give the Rome wall time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest
from opening_hours import OpeningHours

from ambrogio.errors import BadUserInput
from ambrogio.hours.calendar import (
    COUNTRY,
    TIMEZONE,
    Schedule,
    parse_opening_hours,
    patron_days,
    public_holidays,
)
from ambrogio.schema.types.hours import OpeningHours as OpeningHoursType

LECCO = "097042"
MERATE = "097048"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def library(text: str) -> OpeningHours:
    return OpeningHours(text, timezone=TIMEZONE, country=COUNTRY)


# DST: Europe/Rome springs forward on 2027-03-28 (02:00 → 03:00) and falls back on 2026-10-25.


def test_spring_forward_night_is_an_hour_shorter() -> None:
    hours = Schedule.of("Mo-Su 01:00-04:00")

    (night,) = hours.open_spans(date(2027, 3, 28), date(2027, 3, 28))

    assert night == (utc("2027-03-28T00:00"), utc("2027-03-28T02:00"))  # 01:00+01 → 04:00+02
    assert hours.is_open_at(utc("2027-03-28T01:30"))  # 03:30 CEST
    assert not hours.is_open_at(utc("2027-03-28T02:30"))  # 04:30 CEST
    assert hours.next_change(utc("2027-03-28T00:30")) == utc("2027-03-28T02:00")


def test_fall_back_night_is_an_hour_longer() -> None:
    hours = Schedule.of("Mo-Su 01:00-04:00")

    (night,) = hours.open_spans(date(2026, 10, 25), date(2026, 10, 25))

    assert night == (utc("2026-10-24T23:00"), utc("2026-10-25T03:00"))  # 01:00+02 → 04:00+01
    # 02:30 happens twice; open both times.
    assert hours.is_open_at(utc("2026-10-25T00:30")) and hours.is_open_at(utc("2026-10-25T01:30"))
    assert not hours.is_open_at(utc("2026-10-25T03:00"))


def test_office_hours_follow_the_wall_clock_across_the_change() -> None:
    hours = Schedule.of("Mo-Fr 09:00-18:00")

    before = hours.days(date(2027, 3, 26), 1)[0].spans  # Friday, CET
    after = hours.days(date(2027, 3, 29), 1)[0].spans  # Monday, CEST

    assert before == ((utc("2027-03-26T08:00"), utc("2027-03-26T17:00")),)
    assert after == ((utc("2027-03-29T07:00"), utc("2027-03-29T16:00")),)
    assert hours.next_change(utc("2027-03-26T17:00")) == utc("2027-03-29T07:00")


# Public holidays.


def test_ph_off_closes_on_a_national_holiday() -> None:
    hours = Schedule.of("Mo-Fr 08:30-12:30,14:00-18:00; PH off")
    immacolata = utc("2026-12-08T10:00")  # Tuesday 11:00, Immacolata Concezione

    assert not hours.is_open_at(immacolata)
    assert hours.is_open_at(immacolata + timedelta(days=1))
    assert hours.next_change(immacolata) == utc("2026-12-09T07:30")
    (day,) = hours.days(date(2026, 12, 8), 1)
    assert day.public_holiday and day.spans == ()


def test_san_francesco_is_a_holiday_from_2026() -> None:
    assert date(2026, 10, 4) in public_holidays(2026)
    assert date(2025, 10, 4) not in public_holidays(2025)


def test_the_two_calendars_differ_only_on_national_unity_day() -> None:
    # The one difference the module docstring documents: `holidays` lists the first Sunday of
    # November (a commemoration, not a day off); opening-hours-py, our PH calendar, does not.
    for year in range(2024, 2031):
        theirs = set(holidays.country_holidays(COUNTRY, years=year))
        ours = set(public_holidays(year))
        first_sunday = min(
            date(year, 11, d) for d in range(1, 8) if date(year, 11, d).weekday() == 6
        )

        assert ours <= theirs, year
        assert theirs - ours <= {first_sunday}, (year, theirs - ours)


# Patron saints.


def test_lecco_patron_saint_comes_from_the_holidays_package() -> None:
    assert patron_days(LECCO, [2026, 2027]) == (date(2026, 12, 6), date(2027, 12, 6))
    assert patron_days(MERATE, [2027]) == ()
    assert (
        "Nicholas" in holidays.country_holidays(COUNTRY, subdiv="LC", years=2027)[date(2027, 12, 6)]
    )


def test_patron_saint_closes_only_in_its_comune_and_only_with_ph_off() -> None:
    monday = utc("2027-12-06T10:00")  # San Nicolò, a Monday

    assert not Schedule.of("Mo-Fr 09:00-18:00; PH off", LECCO).is_open_at(monday)
    assert Schedule.of("Mo-Fr 09:00-18:00; PH off", MERATE).is_open_at(monday)
    assert Schedule.of("Mo-Fr 09:00-18:00", LECCO).is_open_at(monday)
    assert not Schedule.of("Mo-Sa 09:00-18:00; Su,PH off", LECCO).is_open_at(monday)
    # A later rule overrides the closure, as it would override the holiday itself.
    assert Schedule.of("Mo-Fr 09:00-18:00; PH off; Dec 06 10:00-12:00", LECCO).is_open_at(monday)
    (day,) = Schedule.of("Mo-Fr 09:00-18:00; PH off", LECCO).days(date(2027, 12, 6), 1)
    assert day.patron_saint and not day.public_holiday and day.spans == ()


# Overnight and round the clock.


def test_an_overnight_range_runs_into_saturday() -> None:
    hours = Schedule.of("Fr 20:00-02:00")

    assert hours.is_open_at(utc("2026-12-11T22:00"))  # Friday 23:00
    assert hours.is_open_at(utc("2026-12-12T00:30"))  # Saturday 01:30
    assert not hours.is_open_at(utc("2026-12-12T01:30"))  # Saturday 02:30
    assert not hours.is_open_at(utc("2026-12-10T00:30"))  # Thursday 01:30
    assert hours.next_change(utc("2026-12-11T22:00")) == utc("2026-12-12T01:00")
    friday, saturday = hours.days(date(2026, 12, 11), 2)
    assert friday.spans == ((utc("2026-12-11T19:00"), utc("2026-12-11T23:00")),)
    assert saturday.spans == ((utc("2026-12-11T23:00"), utc("2026-12-12T01:00")),)


def test_round_the_clock_never_changes() -> None:
    for text in ("24/7", "Mo-Su 00:00-24:00"):
        hours = Schedule.of(text)

        assert hours.is_open_at(utc("2026-12-25T03:00"))
        assert hours.next_change(utc("2026-12-25T03:00")) is None
        assert hours.open_spans(date(2026, 12, 1), date(2026, 12, 14)) == [
            (utc("2026-11-30T23:00"), utc("2026-12-14T23:00"))
        ]


# Against the library itself, away from the repeated hour of October.


@pytest.mark.parametrize(
    "text",
    [
        "Mo-Fr 08:30-12:30,14:00-18:00; Sa 09:00-12:00; PH off",
        "Mo-Fr 09:00-12:30,14:30-18:00; Aug 10-Aug 25 off; PH off",
        "Tu,Th 15:00-19:00",
        "Fr 20:00-02:00",
        "We 20:30-23:00; PH off",
        "Mo 10:00-12:00 unknown; Tu 10:00-12:00",
    ],
)
def test_is_open_at_agrees_with_the_library(text: str) -> None:
    hours, oracle = Schedule.of(text), library(text)
    instant = utc("2026-11-30T00:07")
    while instant < utc("2027-01-11T00:00"):
        assert hours.is_open_at(instant) == oracle.is_open(instant.astimezone(TIMEZONE)), instant
        instant += timedelta(minutes=37)


# Invalid strings.


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Mo-Fr 9-17", "expected"),
        ("Lu-Ve 09:00-18:00", "expected"),
        ("Mo-Fr 25:00-26:00", "expected"),
        ("", "empty"),
        ("   ", "empty"),
        ("Mo-Fr 09:00-18:00; " * 20, "longer than 255"),
    ],
)
def test_an_invalid_string_is_rejected_with_the_parser_reason(text: str, reason: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        parse_opening_hours(text, field="input.openingHours")

    assert raised.value.code == "BAD_USER_INPUT"
    assert raised.value.extensions == {"field": "input.openingHours", "value": text}
    assert reason in raised.value.message


def test_an_invalid_stored_string_never_opens_and_says_why() -> None:
    hours = OpeningHoursType.of("Mo-Fr 9-17", LECCO)

    assert hours is not None and hours.error is not None and "expected" in hours.error
    assert not hours.is_open_at(utc("2026-12-09T10:00"))
    assert hours.next_change(utc("2026-12-09T10:00")) is None
    assert [day.periods for day in hours.week(date(2026, 12, 6), 3)] == [[], [], []]
    assert [day.patron_saint for day in hours.week(date(2026, 12, 6), 3)] == [True, False, False]
