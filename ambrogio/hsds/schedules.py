"""Opening hours between OSM ``opening_hours`` syntax and HSDS schedules (iCal-style rules).

Only weekly hours travel as schedule fields: one schedule per set of days sharing the same
time ranges (``freq: WEEKLY``, ``byday: MO,TU``, ``opens_at``, ``closes_at``). What weekly
rules cannot say — public holidays, August closures, ``24/7`` — stays in the text: the export
writes the whole ``opening_hours`` string into each schedule's ``description`` after
``DESCRIPTION_PREFIX``, and the import takes that string back verbatim when it finds it, so an
Ambrogio export re-imports exactly. Other files' schedules are converted when they are plain
weekly hours, and reported otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DESCRIPTION_PREFIX = "OpenStreetMap opening_hours: "

OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

_DAY = r"(?:Mo|Tu|We|Th|Fr|Sa|Su)"
_DAYS = rf"{_DAY}(?:-{_DAY})?(?:,{_DAY}(?:-{_DAY})?)*"
_TIME = r"(?:[01]\d|2[0-3]):[0-5]\d"
_RANGE = rf"{_TIME}-{_TIME}"
_RULE = re.compile(rf"^(?:({_DAYS})\s+)?({_RANGE}(?:,{_RANGE})*)$")
# "10:00", "10:00:00", optionally with "Z" or an offset, which local opening hours drop.
_HSDS_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?$")
# Schedule fields that make a schedule more than weekly hours.
_BEYOND_WEEKLY = ("byweekno", "bymonthday", "byyearday", "count", "until", "valid_from", "valid_to")


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Days of the week (0 = Monday) open over the same time ranges."""

    days: tuple[int, ...]
    ranges: tuple[tuple[str, str], ...]

    @property
    def byday(self) -> str:
        return ",".join(ICAL_DAYS[day] for day in self.days)


def _day_list(spec: str | None) -> list[int]:
    if not spec:
        return list(range(7))
    days: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        start = OSM_DAYS.index(first)
        end = OSM_DAYS.index(last) if last else start
        # "Sa-Mo" wraps over the week end.
        span = range(start, end + 1) if end >= start else [*range(start, 7), *range(end + 1)]
        days.extend(day for day in span if day not in days)
    return days


def weekly_hours(opening_hours: str) -> list[WeeklyHours]:
    """The weekly part of ``opening_hours``, grouped by days with equal ranges.

    A later rule replaces the hours of the days it names, as in OSM. Rules that only close
    (``PH off``, ``Aug off``) and rules of other shapes are left out: the caller keeps the
    whole string alongside.
    """
    per_day: dict[int, tuple[tuple[str, str], ...]] = {}
    for raw in opening_hours.split(";"):
        rule = raw.strip()
        match = _RULE.match(rule)
        if match is None:
            continue
        ranges = tuple(
            (opens, closes)
            for opens, _, closes in (r.partition("-") for r in match.group(2).split(","))
        )
        for day in _day_list(match.group(1)):
            per_day[day] = ranges
    groups: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for day in sorted(per_day):
        groups.setdefault(per_day[day], []).append(day)
    return [WeeklyHours(tuple(days), ranges) for ranges, days in groups.items()]


def _osm_days(days: Iterable[int]) -> str:
    """Days as OSM writes them: consecutive runs of three or more as ranges ("Mo-Fr")."""
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{OSM_DAYS[run[0]]}-{OSM_DAYS[run[-1]]}")
        else:
            parts.extend(OSM_DAYS[day] for day in run)
    return ",".join(parts)


class NotWeekly(ValueError):
    """A schedule that weekly opening hours cannot express; the message says why."""


def _time(field: str, value: Any) -> str:
    match = _HSDS_TIME.match(str(value).strip()) if value not in (None, "") else None
    if match is None:
        raise NotWeekly(f"{field} {value!r} is not a time of day (HH:MM)")
    return f"{match.group(1)}:{match.group(2)}"


def _schedule_days(schedule: Mapping[str, Any]) -> list[int]:
    byday = str(schedule.get("byday") or "").strip()
    if not byday:
        raise NotWeekly("byday is missing")
    days: list[int] = []
    for token in byday.upper().replace(" ", "").split(","):
        if token not in ICAL_DAYS:
            raise NotWeekly(f"byday {byday!r} names days by their occurrence in the month")
        days.append(ICAL_DAYS.index(token))
    return days


def opening_hours(schedules: Iterable[Mapping[str, Any]]) -> str | None:
    """The OSM ``opening_hours`` of HSDS schedules, or None when there are none.

    Raises ``NotWeekly`` when a schedule is not plain weekly hours: then nothing is converted,
    as partial hours would claim a place is closed when it is not.
    """
    schedules = list(schedules)
    for schedule in schedules:
        description = str(schedule.get("description") or "")
        if description.startswith(DESCRIPTION_PREFIX):
            return description.removeprefix(DESCRIPTION_PREFIX).strip() or None
    per_day: dict[int, list[tuple[str, str]]] = {}
    for schedule in schedules:
        beyond = [name for name in _BEYOND_WEEKLY if schedule.get(name) not in (None, "")]
        if beyond:
            raise NotWeekly(f"it uses {', '.join(beyond)}, which weekly hours cannot express")
        freq = str(schedule.get("freq") or "WEEKLY").upper()
        if freq != "WEEKLY":
            raise NotWeekly(f"freq {freq!r} is not WEEKLY")
        if str(schedule.get("interval") or "1").strip() not in ("1", "1.0"):
            raise NotWeekly(f"interval {schedule.get('interval')!r} is not every week")
        opens = _time("opens_at", schedule.get("opens_at"))
        closes = _time("closes_at", schedule.get("closes_at"))
        for day in _schedule_days(schedule):
            per_day.setdefault(day, []).append((opens, closes))
    if not per_day:
        return None
    groups: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for day in sorted(per_day):
        groups.setdefault(tuple(sorted(set(per_day[day]))), []).append(day)
    rules = [
        f"{_osm_days(days)} {','.join(f'{opens}-{closes}' for opens, closes in ranges)}"
        for ranges, days in groups.items()
    ]
    return "; ".join(rules)
