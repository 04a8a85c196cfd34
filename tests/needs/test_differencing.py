"""No answer, no filter combination and no difference of two answers reveals fewer than k
needs: the differencing attacks run against the API, on needs made to tempt them, and a
brute force over every nested pair of filters runs on a random background."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from ambrogio.needs import analysis
from ambrogio.needs.lattice import Quarter, Week
from ambrogio.taxonomy import TERMS
from tests.support.import_db import ImportDb
from tests.support.needs import (
    CIVATE,
    GALBIATE,
    LECCO,
    MALGRATE,
    VALMADRERA,
    day_in,
    desk,
    ended_quarters,
    need_row,
    replace_needs,
)

K = 5
GAPS = """
query ($period: QuarterPeriod, $comuni: [String!], $category: String) {
  needsGaps(period: $period, comuni: $comuni, category: $category) {
    k quarters
    cells { comuneIstat: comune { istatCode } provinceCode pooled needs unmetReferrals
            category { slug } }
  }
}"""
TRENDS = """
query ($from: String!, $to: String!, $comuni: [String!], $category: String) {
  needsTrends(fromWeek: $from, toWeek: $to, comuni: $comuni, category: $category) {
    week comuneIstat categorySlug needs unmetReferrals
  }
}"""


def safe(value: int) -> bool:
    return value == 0 or value >= K


def today() -> Any:
    return analysis.today_in_rome(datetime.now(UTC))


@pytest.fixture(scope="module")
async def tempting(needs_db: ImportDb) -> dict[str, Any]:
    """Needs laid out so that a naive count would give one need away three ways.

    In Lecco, the last ended quarter: 5 `badante` needs in its first week and 1 in its second
    (a period shifted by a week, or a day, would isolate it); 1 `assistenza-domiciliare`
    (the parent category minus its `badante` child would isolate it). In Valmadrera, 1
    `badante` need (the comuni {Lecco, Valmadrera, Galbiate} minus Valmadrera would isolate it);
    in Galbiate, 6.
    """
    point = await desk(needs_db.sessionmaker, needs_db.settings, "tempting", LECCO)
    quarter = ended_quarters(today(), 1)[0]
    first, second = quarter.first_week, quarter.first_week.next()
    rows = [need_row(point.id, LECCO, "badante", day_in(first, n % 5)) for n in range(5)]
    rows.append(need_row(point.id, LECCO, "badante", day_in(second)))
    rows.append(need_row(point.id, LECCO, "assistenza-domiciliare", day_in(second)))
    rows.append(need_row(point.id, VALMADRERA, "badante", day_in(first)))
    rows += [need_row(point.id, GALBIATE, "badante", day_in(first, n % 5)) for n in range(6)]
    await replace_needs(needs_db.sessionmaker, rows)
    return {"quarter": quarter, "first": first, "second": second, "rows": rows}


def cells_of(result: Any) -> dict[tuple[str | None, str | None], tuple[int, int]]:
    found = {}
    for cell in result.data["needsGaps"]["cells"]:
        comune = cell["comuneIstat"]["istatCode"] if cell["comuneIstat"] else None
        category = cell["category"]["slug"] if cell["category"] else None
        found[(comune, category)] = (cell["needs"], cell["unmetReferrals"])
    return found


async def test_the_raw_counts_would_give_a_need_away(tempting: dict[str, Any]) -> None:
    # guard: the attacks below mean something only if the naive differences are 1
    raw = Counter((row["comune_istat"], row["category_id"]) for row in tempting["rows"])
    badante = next(row["category_id"] for row in tempting["rows"])
    assert raw[(LECCO, badante)] == 6 and raw[(VALMADRERA, badante)] == 1


async def test_overlapping_categories_differ_by_no_fewer_than_k(
    needs_db: ImportDb, tempting: dict[str, Any]
) -> None:
    planner = await needs_db.login("planner-diff", "planner")
    period = {"from": str(tempting["quarter"]), "to": str(tempting["quarter"])}
    parent = await needs_db.gql(GAPS, planner, period=period, category="assistenza-e-cura")
    child = await needs_db.gql(GAPS, planner, period=period, category="badante")
    assert not parent.errors and not child.errors
    lecco_parent = cells_of(parent)[(LECCO, "assistenza-e-cura")][0]
    lecco_child = cells_of(child)[(LECCO, "badante")][0]
    assert lecco_child == 5  # the first week's 5; the second week's one need stays unpublished
    assert safe(lecco_parent - lecco_child)


async def test_a_period_shifted_by_a_day_or_a_week_gives_nothing_away(
    needs_db: ImportDb, tempting: dict[str, Any]
) -> None:
    planner = await needs_db.login("planner-diff", "planner")
    start = tempting["first"].monday
    shifted = await needs_db.gql(
        GAPS, planner, period={"from": start.replace(day=start.day).isoformat()}
    )
    assert shifted.codes == ["BAD_USER_INPUT"]
    assert shifted.errors[0]["extensions"]["field"] == "period.from"
    by_day = await needs_db.gql(TRENDS, planner, **{"from": start.isoformat(), "to": "x"})
    assert by_day.codes == ["BAD_USER_INPUT"]
    # weeks: the two-week span and the first week alone give the same Lecco badante count
    first, second = str(tempting["first"]), str(tempting["second"])
    both = await needs_db.gql(TRENDS, planner, **{"from": first, "to": second}, category="badante")
    one = await needs_db.gql(TRENDS, planner, **{"from": first, "to": first}, category="badante")
    later = await needs_db.gql(
        TRENDS, planner, **{"from": second, "to": second}, category="badante"
    )

    def lecco(result: Any) -> int:
        return sum(p["needs"] for p in result.data["needsTrends"] if p["comuneIstat"] == LECCO)

    assert lecco(both) == lecco(one) == 5
    assert lecco(later) == 0


async def test_a_comune_set_minus_one_comune_differs_by_no_fewer_than_k(
    needs_db: ImportDb, tempting: dict[str, Any]
) -> None:
    planner = await needs_db.login("planner-diff", "planner")
    period = {"from": str(tempting["quarter"]), "to": str(tempting["quarter"])}
    three = await needs_db.gql(
        GAPS, planner, period=period, comuni=[LECCO, VALMADRERA, GALBIATE], category="badante"
    )
    two = await needs_db.gql(
        GAPS, planner, period=period, comuni=[LECCO, GALBIATE], category="badante"
    )
    total_three = sum(needs for needs, _ in cells_of(three).values())
    total_two = sum(needs for needs, _ in cells_of(two).values())
    assert total_three >= K  # guard: there is something to difference
    assert safe(total_three - total_two)
    assert (VALMADRERA, "badante") not in cells_of(three)


async def test_every_published_figure_is_zero_or_at_least_k(
    needs_db: ImportDb, tempting: dict[str, Any]
) -> None:
    planner = await needs_db.login("planner-diff", "planner")
    result = await needs_db.gql(GAPS, planner)
    figures = [value for pair in cells_of(result).values() for value in pair]
    assert figures  # guard
    assert all(safe(value) for value in figures)
    assert all(safe(needs - unmet) for needs, unmet in cells_of(result).values())


# --- the brute force: a random background, every nested pair of filters -------------------

COMUNI = (LECCO, VALMADRERA, MALGRATE, GALBIATE, CIVATE)
CATEGORIES = ("badante", "assistenza-domiciliare", "asilo-nido", "psicologo", "doposcuola")


@pytest.fixture(scope="module")
async def background(needs_db: ImportDb, tempting: dict[str, Any]) -> list[Quarter]:
    """600 needs drawn at random over three quarters, five comuni and five categories: many
    cells fall just below or just above k."""
    point = await desk(needs_db.sessionmaker, needs_db.settings, "background", LECCO)
    rng = random.Random(7)
    quarters = ended_quarters(today(), 3)
    weeks = [
        Week(quarter.year, number)
        for quarter in quarters
        for number in range(quarter.first_week.number, quarter.last_week.number + 1)
    ]
    rows = [
        need_row(
            point.id,
            rng.choice(COMUNI),
            rng.choice(CATEGORIES),
            day_in(rng.choice(weeks), rng.randrange(7)),
            outcome=rng.choice(("referred", "waiting", "no_local_service", "declined")),
        )
        for _ in range(600)
    ]
    await replace_needs(needs_db.sessionmaker, rows)
    return quarters


def _spans(quarters: list[Quarter]) -> list[tuple[Quarter, Quarter]]:
    return [(a, b) for a, b in itertools.combinations_with_replacement(quarters, 2)]


def _comune_sets() -> list[frozenset[str] | None]:
    sets: list[frozenset[str] | None] = [None]
    for size in (1, len(COMUNI) - 1, len(COMUNI)):
        sets += [frozenset(group) for group in itertools.combinations(COMUNI, size)]
    return sets


def _inside(inner: Any, outer: Any) -> bool:
    (span_a, comuni_a, category_a), (span_b, comuni_b, category_b) = inner, outer
    in_period = span_b[0] <= span_a[0] and span_a[1] <= span_b[1]
    in_comuni = comuni_b is None or (comuni_a is not None and comuni_a <= comuni_b)
    in_category = category_b is None or category_a in (category_b, *_children(category_b))
    return in_period and in_comuni and in_category


def _children(category: str) -> Iterable[str]:
    return [term.slug for term in TERMS if term.parent == category]


async def test_no_nested_pair_of_filters_differs_by_fewer_than_k(
    needs_db: ImportDb, background: list[Quarter]
) -> None:
    # given every period, comune set and category a planner may ask for
    settings = needs_db.settings
    answers: dict[Any, dict[Any, tuple[int, int]]] = {}
    async with needs_db.sessionmaker() as session:
        for span, comuni, category in itertools.product(
            _spans(background), _comune_sets(), (None, "assistenza-e-cura", "badante")
        ):
            scope = await analysis.checked_scope(
                session, sorted(comuni) if comuni else None, category
            )
            result = await analysis.gap_analysis(
                session, settings, scope, str(span[0]), str(span[1]), datetime.now(UTC)
            )
            answers[(span, comuni, category)] = {
                (row.comune, row.province, row.category): (row.needs, row.unmet)
                for row in result.rows
            }
    # guard: the background publishes something and suppresses something
    everything = answers[((background[0], background[-1]), None, None)]
    published = sum(needs for (_, _, category), (needs, _) in everything.items() if not category)
    assert 0 < published < 600

    def total(answer: dict[Any, tuple[int, int]], category: str | None) -> tuple[int, int]:
        rows = [value for (_, _, row), value in answer.items() if row == category]
        return sum(n for n, _ in rows), sum(u for _, u in rows)

    # then every figure, and every difference of a query and one nested inside it, is 0 or ≥ k
    checked = 0
    for outer, inner in itertools.permutations(answers, 2):
        if not _inside(inner, outer):
            continue
        outer_total = total(answers[outer], outer[2])
        inner_total = total(answers[inner], outer[2] if outer[2] == inner[2] else inner[2])
        if outer[2] == inner[2]:
            assert safe(outer_total[0] - inner_total[0]), (outer, inner)
            assert safe(outer_total[1] - inner_total[1]), (outer, inner)
        for key, (needs, unmet) in answers[inner].items():
            outer_needs, outer_unmet = answers[outer].get(key, (0, 0))
            assert safe(outer_needs - needs) and safe(outer_unmet - unmet), (outer, inner, key)
        checked += 1
    assert checked > 1000
    for answer in answers.values():
        for needs, unmet in answer.values():
            assert safe(needs) and safe(unmet) and safe(needs - unmet)
