"""The demo needs: the same seed gives the same needs, and the gap map of the demo network
shows comuni of every part of the province."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any

from ambrogio.demo.needs import demo_needs
from ambrogio.demo.welfare_points import welfare_points
from ambrogio.needs import analysis

GAPS = "{ needsGaps { cells { comune { istatCode } category { slug } pooled needs gapScore } } }"


def test_the_demo_needs_follow_the_seed() -> None:
    points = welfare_points(random.Random(1))
    first = demo_needs(random.Random(42), points, {}, date(2026, 12, 2))
    again = demo_needs(random.Random(42), points, {}, date(2026, 12, 2))
    other = demo_needs(random.Random(43), points, {}, date(2026, 12, 2))
    assert first == again and first != other
    assert len(first) > 5000
    assert all(row["recorded_on"] < date(2026, 11, 30) for row in first)


async def test_the_demo_gap_map_shows_the_province(gql: Any, login: Any) -> None:
    planner = await login("planner-demo", "planner")
    result = await gql(GAPS, _headers=planner)
    assert not result.errors
    comuni = {
        cell["comune"]["istatCode"]
        for cell in result.data["needsGaps"]["cells"]
        if not cell["pooled"] and cell["category"] is None and cell["needs"] > 0
    }
    assert len(comuni) >= 20
    scores = [cell["gapScore"] for cell in result.data["needsGaps"]["cells"] if cell["gapScore"]]
    assert len(set(scores)) > 5  # the map has something to colour
    assert analysis.today_in_rome(datetime.now(UTC)).year >= 2026
