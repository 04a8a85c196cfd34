"""k-anonymity by construction: the needs are partitioned into published cells of at least k
needs each, once, whatever is asked; every figure that leaves the server is a sum of whole
published cells.

Why this shape. Suppressing the cells of each answer by the answer's own counts does not hold:
two answers that are both above k can differ by one need (Jan-Jun minus Jan-May; comuni A+B
minus A; a parent category minus one child), and the difference is a cell below k. Complementary
suppression across every hierarchy (weeks in quarters, categories in parents, comuni in
provinces) is a hard combinatorial problem whose guarantees are easy to get wrong. Here instead
the records are cut into disjoint cells by a fixed ladder, and a cell is published only when it
holds k needs or more:

1. comune × category × ISO week
2. comune × category × quarter        (what the weeks of the quarter left below k)
3. comune × parent category × quarter (what the categories of the parent left)
4. province × parent category × quarter
5. province × quarter                 (every category)

Needs that reach the end of the ladder below k are published nowhere, and no figure includes
them: there is no total from which a suppressed remainder could be recovered. Each rung is
also split by whether the need is unmet (waiting, no local service), so the unmet count of a
cell is a published cell too, and so is the rest.

Filters (periods on the lattice, comuni, whole categories) only choose which published cells
an answer adds up; they never change the partition. Nor does time, once a period is out
(``Window``): late entries are not counted, and a period is published only once closed.
Any sum or difference of answers is then a sum or difference of published cells, each of k
needs or more: no combination of queries isolates fewer than k needs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ambrogio.needs.lattice import Quarter, Week


@dataclass(frozen=True)
class Fact:
    """One need, as the lattice sees it."""

    comune: str
    province: str
    category: str
    parent: str  # the category's root; the category itself when it is a root
    week: Week
    unmet: bool
    entered: date  # when it was recorded in Ambrogio (Europe/Rome)


class Rung(StrEnum):
    COMUNE_WEEK = "comune_week"
    COMUNE_QUARTER = "comune_quarter"
    COMUNE_PARENT = "comune_parent"
    PROVINCE_PARENT = "province_parent"
    PROVINCE = "province"


@dataclass(frozen=True)
class Cell:
    """A published cell: ``needs`` (at least k) needs sharing every key below."""

    rung: Rung
    comune: str | None  # None: pooled at the province
    province: str
    category: str | None  # None: every category
    week: Week | None  # None: the whole quarter
    quarter: Quarter
    unmet: bool
    needs: int


@dataclass(frozen=True)
class Window:
    """Which periods are published, and which needs they count, so that a published figure
    never changes once it is out.

    A period closes ``late_days`` after it ends: needs entered later than that (back-dated)
    are counted nowhere, and a period is published only once closed. Periods that begin
    before ``earliest`` (the retention cut, which the purge moves day by day) are not
    published either: a quarter half purged would change its figures.
    """

    today: date
    earliest: date
    late_days: int

    def _closes(self, week: Week) -> date:
        return week.monday + timedelta(days=7 + self.late_days)

    def counts(self, fact: Fact) -> bool:
        return fact.entered < self._closes(fact.week)

    def week_open(self, week: Week) -> bool:
        return week.monday >= self.earliest and self._closes(week) <= self.today

    def quarter_open(self, quarter: Quarter) -> bool:
        return self.week_open(quarter.first_week) and self.week_open(quarter.last_week)


Key = tuple[Rung, str | None, str, str | None, Week | None, Quarter, bool]

LADDER: tuple[Callable[[Fact], Key], ...] = (
    lambda f: (Rung.COMUNE_WEEK, f.comune, f.province, f.category, f.week, f.week.quarter, f.unmet),
    lambda f: (
        Rung.COMUNE_QUARTER,
        f.comune,
        f.province,
        f.category,
        None,
        f.week.quarter,
        f.unmet,
    ),
    lambda f: (Rung.COMUNE_PARENT, f.comune, f.province, f.parent, None, f.week.quarter, f.unmet),
    lambda f: (Rung.PROVINCE_PARENT, None, f.province, f.parent, None, f.week.quarter, f.unmet),
    lambda f: (Rung.PROVINCE, None, f.province, None, None, f.week.quarter, f.unmet),
)


def publish(facts: Iterable[Fact], k: int, window: Window) -> list[Cell]:
    """The published cells of ``facts``: the ladder above, over the closed periods of the
    window (the weekly rung for closed weeks, the quarterly rungs for closed quarters)."""
    pending = [fact for fact in facts if window.counts(fact) and window.week_open(fact.week)]
    cells: list[Cell] = []
    for index, key_of in enumerate(LADDER):
        if index == 1:
            pending = [fact for fact in pending if window.quarter_open(fact.week.quarter)]
        groups: dict[Key, list[Fact]] = defaultdict(list)
        for fact in pending:
            groups[key_of(fact)].append(fact)
        pending = []
        for key, members in groups.items():
            if len(members) >= k:
                cells.append(Cell(*key, needs=len(members)))
            else:
                pending.extend(members)
    return cells
