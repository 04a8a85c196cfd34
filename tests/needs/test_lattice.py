"""The lattice periods are made of, and the partition into published cells, without a database."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import pytest

from ambrogio.errors import BadUserInput
from ambrogio.needs.anonymity import Fact, Rung, Window, publish
from ambrogio.needs.lattice import Quarter, Week, parse_quarter, quarter_span, week_span

TODAY = date(2026, 12, 2)
WINDOW = Window(TODAY, date(2024, 12, 2), 14)


def test_quarters_are_whole_iso_weeks() -> None:
    # 2026 has 53 ISO weeks: its Q4 holds 14
    assert Quarter(2026, 4).weeks == 14 and Quarter(2025, 4).weeks == 13
    assert Week.of(date(2026, 12, 31)).quarter == Quarter(2026, 4)
    assert Week.of(date(2027, 1, 1)) == Week(2026, 53)
    # the ISO years 2025 and 2026, day by day: eight quarters of 13 weeks, and one of 14
    days = [Week(2025, 1).monday + timedelta(days=n) for n in range(7 * (52 + 53))]
    sizes = Counter(Week.of(day).quarter for day in days)
    assert sorted(sizes.values()) == [13 * 7] * 7 + [14 * 7]


def test_only_ended_periods_are_published() -> None:
    assert quarter_span(None, None, TODAY)[-1] == Quarter(2026, 3)
    with pytest.raises(BadUserInput) as refused:
        quarter_span(None, "2026-Q4", TODAY)
    assert refused.value.field == "period.to"
    with pytest.raises(BadUserInput):
        week_span("2026-W48", "2026-W49", TODAY)  # the current week
    assert len(week_span("2026-W40", "2026-W48", TODAY)) == 9


@pytest.mark.parametrize(
    "raw", ["2026-01-01", "2026-Q5", "2026-q1 ", "Q1-2026", "2026-W10", "0000-Q1", "9999-Q4"]
)
def test_a_period_off_the_lattice_is_refused(raw: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        parse_quarter("period.from", raw)
    assert refused.value.field == "period.from"


@pytest.mark.parametrize("raw", ["2026-W54", "2025-W53", "0000-W01", "2026-01-05"])
def test_a_week_off_the_lattice_is_refused(raw: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        week_span(raw, "2026-W40", TODAY)
    assert refused.value.field == "fromWeek"


def _facts(rng: random.Random, count: int) -> list[Fact]:
    comuni = [("097042", "LC"), ("097083", "LC"), ("013075", "CO")]
    categories = [("badante", "assistenza-e-cura"), ("asilo-nido", "infanzia-e-famiglia")]
    start = date(2025, 12, 29)
    facts = []
    for _ in range(count):
        (comune, province), (category, parent) = rng.choice(comuni), rng.choice(categories)
        day = start + timedelta(days=rng.randrange(300))
        unmet = rng.random() < 0.3
        facts.append(Fact(comune, province, category, parent, Week.of(day), unmet, day))
    return facts


@pytest.mark.parametrize("seed", range(5))
def test_published_cells_hold_k_needs_each_and_never_a_need_twice(seed: int) -> None:
    facts = _facts(random.Random(seed), 400)
    cells = publish(facts, 5, WINDOW)
    assert cells  # guard
    assert all(cell.needs >= 5 for cell in cells)
    assert sum(cell.needs for cell in cells) <= len(facts)
    # a weekly cell is the whole group of its week: nothing of it is left for later rungs
    weekly = Counter((f.comune, f.category, f.week, f.unmet) for f in facts)
    for cell in cells:
        if cell.rung is Rung.COMUNE_WEEK:
            assert cell.needs == weekly[(cell.comune, cell.category, cell.week, cell.unmet)]
    # every group of k or more in a week is published as it is
    published = {(c.comune, c.category, c.week, c.unmet) for c in cells if c.week is not None}
    assert {key for key, n in weekly.items() if n >= 5} == published
    # the provinces keep apart
    assert {cell.province for cell in cells if cell.comune is None} <= {"LC", "CO"}


def test_the_partition_does_not_depend_on_the_order_of_the_needs() -> None:
    facts = _facts(random.Random(11), 300)
    shuffled = list(facts)
    random.Random(3).shuffle(shuffled)
    assert sorted(map(repr, publish(facts, 5, WINDOW))) == sorted(
        map(repr, publish(shuffled, 5, WINDOW))
    )


def test_a_published_figure_never_changes_with_a_late_entry() -> None:
    week = Week(2026, 40)
    on_time = [
        Fact("097042", "LC", "badante", "assistenza-e-cura", week, False, week.monday)
        for _ in range(6)
    ]
    late = Fact(
        "097042", "LC", "badante", "assistenza-e-cura", week, False, week.monday + timedelta(30)
    )
    before = publish(on_time, 5, WINDOW)
    assert [cell.needs for cell in before if cell.week == week] == [6]
    # a need entered a month after its week (back-dated) is counted nowhere
    assert publish([*on_time, late], 5, WINDOW) == before


def test_a_week_is_published_once_late_entries_are_closed() -> None:
    week = Week.of(TODAY)
    recent = [Week(week.year, week.number - back) for back in (1, 2, 3)]
    facts = [
        Fact("097042", "LC", "badante", "assistenza-e-cura", w, False, w.monday)
        for w in recent
        for _ in range(5)
    ]
    published = {cell.week for cell in publish(facts, 5, WINDOW)}
    # 14 days after a week ends it closes: the last two weeks are not out yet
    assert published == {recent[2]}


def test_periods_before_the_retention_cut_are_not_published() -> None:
    cut = Window(TODAY, Week(2026, 10).monday + timedelta(days=1), 14)
    facts = [
        Fact("097042", "LC", "badante", "assistenza-e-cura", week, False, week.monday)
        for week in (Week(2026, 10), Week(2026, 11))
        for _ in range(5)
    ]
    assert {cell.week for cell in publish(facts, 5, cut)} == {Week(2026, 11)}
