"""The open-interval table: when each distinct (opening_hours, comune) is open, for a window.

Locations share a handful of strings (the demo's million share five), so intervals are computed
once per distinct string and comune — and, in Python, once per string and patron-saint
calendar — never per location. Two ways keep the table current:

- ``refresh_open_intervals``: everything, for the rolling window (yesterday to
  ``WINDOW_DAYS`` ahead). ``ambrogio refresh-hours`` runs it; run that daily (cron, systemd
  timer). ``ambrogio migrate`` and ``ambrogio demo-data`` run it too.
- ``sync_open_intervals``: whoever writes a location's or welfare point's ``opening_hours`` or
  comune calls it in the same transaction with the new pairs; a pair not yet known is computed
  for the current window, so ``openAt`` sees it at once.

Both take a transaction-scoped advisory lock, so refreshes never interleave; readers keep
seeing the previous intervals until the refresh commits.
"""

from __future__ import annotations

import time as clock
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import CompoundSelect, func, select, text, tuple_, union
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.db.models import Location, OpeningHoursSet, WelfarePoint
from ambrogio.hours.calendar import TIMEZONE, InvalidHours, Schedule, Span, patron_days, window
from ambrogio.hours.open_at import coverage

LOCK = text("SELECT pg_advisory_xact_lock(hashtext('ambrogio.open_interval'))")

INSERT_SETS = text(
    """
    INSERT INTO opening_hours_set (hours, comune_istat, computed_for, error)
    SELECT hours, comune, tstzrange(:start, :end), error
    FROM unnest(CAST(:hours AS text[]), CAST(:comuni AS text[]), CAST(:errors AS text[]))
         AS t(hours, comune, error)
    ON CONFLICT (hours, comune_istat) DO NOTHING
    RETURNING id, hours, comune_istat
    """
)

INSERT_INTERVALS = text(
    """
    INSERT INTO open_interval (set_id, during)
    SELECT set_id, tstzrange(opens, closes)
    FROM unnest(CAST(:set_ids AS bigint[]), CAST(:opens AS timestamptz[]),
                CAST(:closes AS timestamptz[])) AS t(set_id, opens, closes)
    """
)

Pair = tuple[str, str]


@dataclass
class RefreshReport:
    start: datetime
    end: datetime
    sets: int = 0
    computed: int = 0
    intervals: int = 0
    invalid: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        timings = ", ".join(f"{name} {value:.2f} s" for name, value in self.seconds.items())
        return (
            f"{self.sets} opening-hours sets ({self.computed} computed, {self.invalid} invalid), "
            f"{self.intervals} open intervals from {self.start.isoformat()} to "
            f"{self.end.isoformat()} [{timings}]"
        )


def distinct_pairs() -> CompoundSelect[*tuple[Any, ...]]:
    """Every (opening_hours, comune or '') in use, drafts included: publishing needs no refresh."""
    return union(
        *(
            select(model.opening_hours, func.coalesce(model.comune_istat, "")).where(
                model.opening_hours.is_not(None)
            )
            for model in (Location, WelfarePoint)
        )
    )


def _spans(
    pairs: Iterable[Pair], start: datetime, end: datetime, report: RefreshReport
) -> dict[Pair, list[Span] | str]:
    """Open spans of each pair, or the parser's reason; one computation per calendar."""
    first = start.astimezone(TIMEZONE).date()
    last = (end.astimezone(TIMEZONE) - timedelta(days=1)).date()
    years = range(first.year, last.year + 1)
    memo: dict[tuple[str, tuple[date, ...]], list[Span]] = {}
    out: dict[Pair, list[Span] | str] = {}
    for hours, comune in pairs:
        try:
            schedule = Schedule.of(hours, comune or None)
        except InvalidHours as error:
            out[(hours, comune)] = error.reason
            report.invalid += 1
            continue
        key = (schedule.canonical, patron_days(schedule.comune_istat, years))
        if key not in memo:
            memo[key] = schedule.open_spans(first, last)
            report.computed += 1
        out[(hours, comune)] = memo[key]
    return out


async def _insert(
    session: AsyncSession, spans: dict[Pair, list[Span] | str], report: RefreshReport
) -> None:
    pairs = list(spans)
    created = await session.execute(
        INSERT_SETS,
        {
            "start": report.start,
            "end": report.end,
            "hours": [hours for hours, _ in pairs],
            "comuni": [comune for _, comune in pairs],
            "errors": [value if isinstance(value, str) else None for value in spans.values()],
        },
    )
    set_ids, opens, closes = [], [], []
    for set_id, hours, comune in created.all():
        value = spans[(hours, comune)]
        report.sets += 1
        for lower, upper in value if not isinstance(value, str) else []:
            set_ids.append(set_id)
            opens.append(lower)
            closes.append(upper)
    if set_ids:
        await session.execute(
            INSERT_INTERVALS, {"set_ids": set_ids, "opens": opens, "closes": closes}
        )
    report.intervals += len(set_ids)


async def refresh_open_intervals(
    session: AsyncSession, now: datetime | None = None
) -> RefreshReport:
    """Recompute every set for the window around ``now``; drop the sets no place uses."""
    start, end = window(now or datetime.now(UTC))
    report = RefreshReport(start, end)
    began = clock.perf_counter()
    await session.execute(LOCK)
    pairs = [(hours, comune) for hours, comune in (await session.execute(distinct_pairs())).all()]
    report.seconds["scan"] = clock.perf_counter() - began
    began = clock.perf_counter()
    spans = _spans(pairs, start, end, report)
    report.seconds["compute"] = clock.perf_counter() - began
    began = clock.perf_counter()
    # Deleting the children first spares a cascade per set.
    await session.execute(text("DELETE FROM open_interval"))
    await session.execute(text("DELETE FROM opening_hours_set"))
    await _insert(session, spans, report)
    # Fresh statistics: planned on an empty or stale table, openAt may join the wrong way.
    await session.execute(text("ANALYZE opening_hours_set, open_interval"))
    report.seconds["write"] = clock.perf_counter() - began
    return report


async def sync_open_intervals(
    session: AsyncSession,
    pairs: Iterable[tuple[str | None, str | None]],
    now: datetime | None = None,
) -> RefreshReport:
    """Compute the (opening_hours, comune) pairs not in the table yet, for its current window.

    Call it after writing a location's or welfare point's hours or comune, in the same
    transaction. Pairs already there are left alone (the same string gives the same intervals).
    """
    wanted = {(hours, comune or "") for hours, comune in pairs if hours is not None}
    await session.execute(LOCK)
    span = await session.scalar(coverage())
    if span is None or span.isempty or span.lower is None or span.upper is None:
        start, end = window(now or datetime.now(UTC))
    else:
        start, end = span.lower, span.upper
    report = RefreshReport(start, end)
    if not wanted:
        return report
    known = (
        await session.execute(
            select(OpeningHoursSet.hours, OpeningHoursSet.comune_istat).where(
                tuple_(OpeningHoursSet.hours, OpeningHoursSet.comune_istat).in_(list(wanted))
            )
        )
    ).all()
    missing = sorted(wanted - {(hours, comune) for hours, comune in known})
    if missing:
        await _insert(session, _spans(missing, start, end, report), report)
    return report
