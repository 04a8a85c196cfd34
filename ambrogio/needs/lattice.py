"""The periods aggregates of needs are made of: ISO weeks, and quarters of 13 ISO weeks.

Published figures are sums of whole cells of this lattice (``needs.anonymity``), so periods are
named on it and nowhere else: a week as ``2026-W05``, a quarter as ``2026-Q1`` (ISO weeks 1-13
of ISO year 2026; Q4 holds weeks 40 to 52, or 53). A date, or a period shifted by a day, cannot
be asked for: the figures of two overlapping periods never differ by less than a whole cell.

Only periods that have closed are published (``anonymity.Window``): a week some days after
it ends, a quarter as many days after its last week. A figure of an open period would change as
needs arrive, and two readings a day apart would tell one need from another. ``today`` below is
the day periods are published up to (today less the days a late entry is accepted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ambrogio.errors import BadUserInput

WEEK = re.compile(r"^([0-9]{4})-W([0-9]{2})$")
QUARTER = re.compile(r"^([0-9]{4})-Q([1-4])$")
WEEKS_PER_QUARTER = 13
MAX_QUARTERS = 12
MAX_WEEKS = 156
# Years a period may name: needs are recent by construction (they are kept for months).
YEARS = range(2000, 2101)


@dataclass(frozen=True, order=True)
class Week:
    year: int
    number: int

    @classmethod
    def of(cls, day: date) -> Week:
        year, number, _ = day.isocalendar()
        return cls(year, number)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def quarter(self) -> Quarter:
        return Quarter(self.year, min((self.number - 1) // WEEKS_PER_QUARTER + 1, 4))

    def next(self) -> Week:
        return Week.of(self.monday + timedelta(days=7))

    def ended(self, today: date) -> bool:
        return self.monday + timedelta(days=7) <= today

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @property
    def first_week(self) -> Week:
        return Week(self.year, (self.number - 1) * WEEKS_PER_QUARTER + 1)

    @property
    def last_week(self) -> Week:
        if self.number < 4:
            return Week(self.year, self.number * WEEKS_PER_QUARTER)
        return Week.of(date(self.year, 12, 28))  # in the ISO year's last week, always

    @property
    def weeks(self) -> int:
        return self.last_week.number - self.first_week.number + 1

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def ended(self, today: date) -> bool:
        return self.last_week.ended(today)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


def parse_week(field: str, raw: str) -> Week:
    match = WEEK.match(raw.strip())
    if match is None:
        raise BadUserInput(
            field, raw, "is not an ISO week such as 2026-W05 (periods are whole weeks)"
        )
    year, number = int(match[1]), int(match[2])
    if year not in YEARS:
        raise BadUserInput(field, raw, f"names a year outside {YEARS[0]}-{YEARS[-1]}")
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise BadUserInput(field, raw, f"is not a week of ISO year {year}") from None
    return Week(year, number)


def parse_quarter(field: str, raw: str) -> Quarter:
    match = QUARTER.match(raw.strip())
    if match is None:
        raise BadUserInput(
            field, raw, "is not a quarter such as 2026-Q1 (periods are whole 13-week quarters)"
        )
    if int(match[1]) not in YEARS:
        raise BadUserInput(field, raw, f"names a year outside {YEARS[0]}-{YEARS[-1]}")
    return Quarter(int(match[1]), int(match[2]))


def last_ended_quarter(today: date) -> Quarter:
    quarter = Week.of(today).quarter
    return quarter if quarter.ended(today) else quarter.previous()


def quarters(start: Quarter, end: Quarter) -> list[Quarter]:
    """The quarters from ``start`` to ``end``, both included."""
    found = [start]
    while found[-1] < end:
        found.append(found[-1].next())
    return found


def quarter_span(
    start: str | None, end: str | None, today: date, default_quarters: int = 4
) -> list[Quarter]:
    """The ended quarters a gap analysis covers: ``from`` to ``to``, by default the last four."""
    last = parse_quarter("period.to", end) if end else last_ended_quarter(today)
    if start:
        first = parse_quarter("period.from", start)
    else:
        first = last
        for _ in range(default_quarters - 1):
            first = first.previous()
    if first > last:
        raise BadUserInput("period.from", str(first), f"is after period.to ({last})")
    span = quarters(first, last)
    if len(span) > MAX_QUARTERS:
        raise BadUserInput("period.from", str(first), f"spans more than {MAX_QUARTERS} quarters")
    if not last.ended(today):
        raise BadUserInput(
            "period.to", str(last), "has not ended: only ended quarters are published"
        )
    return span


def week_span(start: str, end: str, today: date) -> list[Week]:
    first, last = parse_week("fromWeek", start), parse_week("toWeek", end)
    if first > last:
        raise BadUserInput("fromWeek", str(first), f"is after toWeek ({last})")
    if not last.ended(today):
        raise BadUserInput("toWeek", str(last), "has not ended: only ended weeks are published")
    span = [first]
    while span[-1] < last:
        span.append(span[-1].next())
        if len(span) > MAX_WEEKS:
            raise BadUserInput("fromWeek", str(first), f"spans more than {MAX_WEEKS} weeks")
    return span
