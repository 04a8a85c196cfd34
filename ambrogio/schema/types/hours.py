"""OpeningHours: an OSM ``opening_hours`` string, evaluated in Europe/Rome (no SQL: the parser)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated

import strawberry

from ambrogio.errors import BadUserInput
from ambrogio.hours.calendar import TIMEZONE, Day, InvalidHours, Schedule, calendar, local
from ambrogio.schema.types.enums import describe_values

MAX_DAYS = 31


@strawberry.enum(description="A day of the week, Monday first.")
class Weekday(Enum):
    MO = 0
    TU = 1
    WE = 2
    TH = 3
    FR = 4
    SA = 5
    SU = 6


describe_values(
    Weekday,
    {
        "MO": "Monday.",
        "TU": "Tuesday.",
        "WE": "Wednesday.",
        "TH": "Thursday.",
        "FR": "Friday.",
        "SA": "Saturday.",
        "SU": "Sunday.",
    },
)


def _wall(instant: datetime, day: date) -> str:
    at = instant.astimezone(TIMEZONE)
    return "24:00" if at.date() > day else f"{at:%H:%M}"


@strawberry.type(description="A time the place is open within one day: from `start` to `end`.")
class OpenPeriod:
    start: datetime = strawberry.field(
        description="The instant it opens, with its Europe/Rome offset (+01:00 or +02:00)."
    )
    end: datetime = strawberry.field(
        description="The instant it closes, with its Europe/Rome offset; may fall on the next "
        "day (`closes` is then 24:00)."
    )
    opens: str = strawberry.field(description='Rome wall time it opens, "HH:MM".')
    closes: str = strawberry.field(
        description='Rome wall time it closes, "HH:MM"; "24:00" when open into the next day.'
    )


@strawberry.type(description="One day of the opening hours, in Europe/Rome.")
class OpeningDay:
    date: date = strawberry.field(description="The calendar day in Europe/Rome (ISO 8601).")
    weekday: Weekday = strawberry.field(description="Its day of the week.")
    public_holiday: bool = strawberry.field(description="A national public holiday (`PH`).")
    patron_saint: bool = strawberry.field(
        description="The comune's patron saint's day: closed where the hours say `PH off`."
    )
    periods: list[OpenPeriod] = strawberry.field(description="Empty when closed all day.")

    @classmethod
    def from_day(cls, day: Day) -> OpeningDay:
        periods = [
            OpenPeriod(
                start=lower.astimezone(TIMEZONE),
                end=upper.astimezone(TIMEZONE),
                opens=_wall(lower, day.date),
                closes=_wall(upper, day.date),
            )
            for lower, upper in day.spans
        ]
        return cls(
            date=day.date,
            weekday=Weekday(day.date.weekday()),
            public_holiday=day.public_holiday,
            patron_saint=day.patron_saint,
            periods=periods,
        )


@strawberry.type(
    description="Opening hours in OpenStreetMap `opening_hours` syntax, evaluated in "
    "Europe/Rome with Italian public holidays (`PH`) and the comune's patron saint. A time "
    "without an offset is Rome time; `unknown` counts as closed."
)
class OpeningHours:
    _schedule: strawberry.Private[Schedule | None]
    _comune_istat: strawberry.Private[str | None]
    raw: str = strawberry.field(description="The string as mapped.")
    error: str | None = strawberry.field(
        description="Why `raw` does not parse (data from before validation); it never opens then."
    )

    @classmethod
    def of(cls, raw: str | None, comune_istat: str | None) -> OpeningHours | None:
        if raw is None:
            return None
        try:
            schedule = Schedule.of(raw, comune_istat)
        except InvalidHours as invalid:
            return cls(_schedule=None, _comune_istat=comune_istat, raw=raw, error=invalid.reason)
        return cls(_schedule=schedule, _comune_istat=comune_istat, raw=raw, error=None)

    @strawberry.field(description="Open at this instant.")
    def is_open_at(
        self,
        time: Annotated[
            datetime,
            strawberry.argument(
                description="The instant to check (ISO 8601; without an offset, Rome local time)."
            ),
        ],
    ) -> bool:
        return self._schedule is not None and self._schedule.is_open_at(time)

    @strawberry.field(
        description="When it next opens or closes after `after` (default: now); null when "
        "that does not happen within a year (24/7, say)."
    )
    def next_change(
        self,
        after: Annotated[
            datetime | None,
            strawberry.argument(
                description="The instant to look from (ISO 8601; without an offset, Rome "
                "local time); now when omitted."
            ),
        ] = None,
    ) -> datetime | None:
        if self._schedule is None:
            return None
        return self._schedule.next_change(after or datetime.now(UTC))

    @strawberry.field(description="Day by day from `from` (default: today in Rome), for a table.")
    def week(
        self,
        from_: Annotated[
            date | None,
            strawberry.argument(
                name="from", description="The first day (ISO 8601 date); today in Rome if omitted."
            ),
        ] = None,
        days: Annotated[
            int,
            strawberry.argument(
                description=f"How many days, 1 to {MAX_DAYS}; beyond, `BAD_USER_INPUT`."
            ),
        ] = 7,
    ) -> list[OpeningDay]:
        if not 1 <= days <= MAX_DAYS:
            raise BadUserInput("days", days, f"must be between 1 and {MAX_DAYS}")
        first = from_ or local(datetime.now(UTC)).date()
        if self._schedule is None:
            return [OpeningDay.from_day(day) for day in calendar(first, days, self._comune_istat)]
        return [OpeningDay.from_day(day) for day in self._schedule.days(first, days)]
