"""Opening hours: OSM ``opening_hours`` strings, parsed and evaluated by ``opening-hours-py``.

Everything happens in ``Europe/Rome`` (``TIMEZONE``), DST changes included. The library takes
aware datetimes only with a ``ZoneInfo`` (``datetime.timezone.utc`` raises), and reports local
wall times; instants are therefore converted to UTC as soon as they come back, because Python
compares two datetimes with the same ``tzinfo`` by wall time, which is wrong in the repeated
hour of October.

The holiday calendar. ``PH`` is opening-hours-py's own Italian calendar (``country="IT"``),
the only one used anywhere: the open-interval table is computed by this module, so SQL and
Python agree by construction. It differs from the ``holidays`` package (0.109) on one day a
year: ``holidays`` lists "National Unity Day", the first Sunday of November. That is the Festa
dell'Unità Nazionale e delle Forze Armate, a commemoration without a day off since law 54/1977,
so offices that say ``PH off`` are not closed for it; opening-hours-py is right to leave it out.
Both have San Francesco (4 October) from 2026. ``tests/hours/test_calendar.py`` pins the difference.

Patron saints. A comune's patron saint's day is a closure for that comune only, where the hours
close on ``PH``: the day is then added as a dated ``closed`` rule right after each such rule,
so that it behaves exactly like a public holiday there (later rules still override it). The
days come from the ``holidays`` package, whose Italian province subdivisions hold the feast of
the patron saint of the province's capital; ``PATRON_SUBDIVISION`` says which comune that is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from opening_hours import OpeningHours, State

from ambrogio.errors import BadUserInput

TIMEZONE = ZoneInfo("Europe/Rome")
COUNTRY = "IT"
# OSM limits tag values to 255 characters; a longer value is not an opening_hours someone typed.
MAX_LENGTH = 255
# ``next_change`` looks this far ahead; beyond it, it says "no change" (null).
HORIZON = timedelta(days=366)
# The open-interval table covers yesterday (local) to this many days ahead.
WINDOW_DAYS = 14

# Comune (ISTAT) → ``holidays`` subdivision whose extra day is that comune's patron saint.
PATRON_SUBDIVISION = {"097042": "LC"}  # Lecco: San Nicolò, 6 December

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Top-level rule separators of the library's printed form: normal, additional, fallback.
SEPARATORS = ("; ", ", ", " || ")
# A rule that closes on public holidays: a day selector listing ``PH``, then ``closed``.
PH_CLOSED = re.compile(r'^(?:[A-Za-z\[\]0-9-]+,)*PH(?:,[A-Za-z\[\]0-9-]+)* closed(?: "[^"]*")?$')

Span = tuple[datetime, datetime]


class InvalidHours(ValueError):
    """The string is not ``opening_hours`` syntax; ``reason`` is the parser's."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reason(error: Exception) -> str:
    """The parser's multi-line report in one line: what it expected, and where."""
    text = str(error)
    where = re.search(r"--> (\d+):(\d+)", text)
    expected = [line.strip(" =") for line in text.splitlines() if line.strip().startswith("=")]
    reason = expected[-1] if expected else text.splitlines()[-1].strip() if text else "invalid"
    return f"{reason} (at character {where.group(2)})" if where else reason


@lru_cache(maxsize=4096)
def _canonical(text: str) -> str:
    if not text.strip():
        raise InvalidHours("empty (leave opening hours out when they are not known)")
    if len(text) > MAX_LENGTH:
        raise InvalidHours(f"longer than {MAX_LENGTH} characters")
    try:
        return str(OpeningHours(text, timezone=TIMEZONE, country=COUNTRY))
    except Exception as error:  # the library raises ParserError, and others on odd input
        raise InvalidHours(_reason(error)) from error


def _rules(canonical: str) -> Iterator[tuple[str, str]]:
    """(rule, separator after it) at top level, that is outside quoted comments."""
    start, quoted, i = 0, False, 0
    while i < len(canonical):
        if canonical[i] == '"':
            quoted = not quoted
        elif not quoted:
            separator = next((s for s in SEPARATORS if canonical.startswith(s, i)), None)
            if separator is not None:
                yield canonical[start:i], separator
                i += len(separator)
                start = i
                continue
        i += 1
    yield canonical[start:], ""


def _with_closures(canonical: str, days: tuple[date, ...]) -> str:
    if not days:
        return canonical
    dated = ",".join(f"{day.year} {MONTHS[day.month - 1]} {day.day:02d}" for day in days)
    parts = []
    for rule, separator in _rules(canonical):
        # A normal rule right after the PH one: the day is closed as a holiday would be, and
        # the rules that follow override it as they would override the holiday.
        closure = f"; {dated} closed" if PH_CLOSED.match(rule) else ""
        parts.append(f"{rule}{closure}{separator}")
    return "".join(parts)


@lru_cache(maxsize=4096)
def _compiled(canonical: str, closures: tuple[date, ...]) -> OpeningHours:
    return OpeningHours(_with_closures(canonical, closures), timezone=TIMEZONE, country=COUNTRY)


@lru_cache(maxsize=1024)
def _patron_days_in(istat_code: str, year: int) -> tuple[date, ...]:
    subdivision = PATRON_SUBDIVISION.get(istat_code)
    if subdivision is None:
        return ()
    local = holidays.country_holidays(COUNTRY, subdiv=subdivision, years=year)
    national = holidays.country_holidays(COUNTRY, years=year)
    return tuple(sorted(set(local) - set(national)))


def patron_days(istat_code: str | None, years: Iterable[int]) -> tuple[date, ...]:
    """The patron saint's days of a comune in those years (none for most comuni)."""
    if istat_code is None:
        return ()
    return tuple(day for year in sorted(set(years)) for day in _patron_days_in(istat_code, year))


@lru_cache(maxsize=64)
def public_holidays(year: int) -> frozenset[date]:
    """The national public holidays of a year, as opening-hours-py's ``PH`` sees them."""
    calendar = OpeningHours("PH", timezone=TIMEZONE, country=COUNTRY)
    days: set[date] = set()
    for start, end in _open_spans(
        calendar, midnight(date(year, 1, 1)), midnight(date(year + 1, 1, 1))
    ):
        day = start.astimezone(TIMEZONE).date()
        while midnight(day) < end:
            days.add(day)
            day += timedelta(days=1)
    return frozenset(days)


def midnight(day: date) -> datetime:
    """The start of a local day (never ambiguous in Europe/Rome: DST changes at 02:00/03:00)."""
    return datetime.combine(day, time(), TIMEZONE)


def local(instant: datetime) -> datetime:
    """An instant in Europe/Rome; a naive datetime is taken as Rome wall time."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=TIMEZONE)
    return instant.astimezone(TIMEZONE)


def _open_spans(oh: OpeningHours, start: datetime, end: datetime) -> Iterator[Span]:
    """Maximal open spans (UTC) between two local midnights; ``unknown`` counts as closed."""
    current: Span | None = None
    for lower, upper, state, _comment in oh.intervals(start, end):
        if state != State.OPEN:
            continue
        span = (lower.astimezone(UTC), upper.astimezone(UTC))
        if current is not None and current[1] == span[0]:
            current = (current[0], span[1])
            continue
        if current is not None:
            yield current
        current = span
    if current is not None:
        yield current


@dataclass(frozen=True)
class Day:
    """One local day of a schedule: its open spans clipped to the day."""

    date: date
    public_holiday: bool
    patron_saint: bool
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Schedule:
    """A valid ``opening_hours`` string at a place: ``comune_istat`` brings its patron saint."""

    raw: str
    canonical: str
    comune_istat: str | None = None

    @classmethod
    def of(cls, raw: str, comune_istat: str | None = None) -> Schedule:
        """Raises ``InvalidHours`` with the parser's reason."""
        return cls(raw, _canonical(raw), comune_istat or None)

    def _hours(self, first: date, last: date) -> OpeningHours:
        years = range(first.year - 1, last.year + 2)
        return _compiled(self.canonical, patron_days(self.comune_istat, years))

    def open_spans(self, first: date, last: date) -> list[Span]:
        """The open spans (UTC) from the start of local day ``first`` to the end of ``last``."""
        return list(
            _open_spans(
                self._hours(first, last), midnight(first), midnight(last + timedelta(days=1))
            )
        )

    def is_open_at(self, instant: datetime) -> bool:
        at = local(instant)
        moment = at.astimezone(UTC)
        return any(
            lower <= moment < upper for lower, upper in self.open_spans(at.date(), at.date())
        )

    def next_change(self, instant: datetime) -> datetime | None:
        """When it next opens or closes after ``instant`` (Rome time); None within ``HORIZON``."""
        at = local(instant)
        moment, first = at.astimezone(UTC), at.date()
        last = (at + HORIZON).date()
        end = midnight(last + timedelta(days=1)).astimezone(UTC)
        for lower, upper in _open_spans(
            self._hours(first, last), midnight(first), midnight(last + timedelta(days=1))
        ):
            if lower > moment:
                return lower.astimezone(TIMEZONE)
            if moment < upper:
                return upper.astimezone(TIMEZONE) if upper < end else None
        return None

    def days(self, first: date, count: int) -> list[Day]:
        last = first + timedelta(days=count - 1)
        spans = self.open_spans(first, last)
        out = []
        for day in calendar(first, count, self.comune_istat):
            start = midnight(day.date).astimezone(UTC)
            end = midnight(day.date + timedelta(days=1)).astimezone(UTC)
            clipped = tuple(
                (max(lower, start), min(upper, end))
                for lower, upper in spans
                if lower < end and upper > start
            )
            out.append(replace(day, spans=clipped))
        return out


def calendar(first: date, count: int, comune_istat: str | None = None) -> list[Day]:
    """``count`` days from ``first`` with their holidays, and no open spans."""
    dates = [first + timedelta(days=offset) for offset in range(count)]
    patron = set(patron_days(comune_istat, {day.year for day in dates}))
    return [Day(day, day in public_holidays(day.year), day in patron, ()) for day in dates]


def parse_opening_hours(
    text: str, *, field: str = "openingHours", comune_istat: str | None = None
) -> Schedule:
    """Validate an ``opening_hours`` value from a client; BAD_USER_INPUT names field and value."""
    try:
        return Schedule.of(text, comune_istat)
    except InvalidHours as error:
        raise BadUserInput(field, text, f"is not valid opening_hours: {error.reason}") from error


def window(now: datetime) -> tuple[datetime, datetime]:
    """The span the open-interval table covers: yesterday's local midnight, ``WINDOW_DAYS`` on."""
    today = local(now).date()
    return midnight(today - timedelta(days=1)), midnight(today + timedelta(days=WINDOW_DAYS + 1))
