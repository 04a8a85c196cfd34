"""Text search stays on its GIN indexes: each way to match is an index path of its own.

The statements are the resolvers' (``catalogue.search.keyset_search`` with the text's
conditions), explained as production runs them: bind parameters, generic plan
(``tests.support.plans``). A plan that scans ``provider_search`` or ``service`` whole, or
tests every provider with a subquery, is what made text search take seconds at scale.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator

import pytest

from ambrogio.catalogue import search
from ambrogio.catalogue.filters import ServiceFilterSpec, service_conditions
from ambrogio.catalogue.text import TextQuery
from ambrogio.db.session import drop_database
from ambrogio.enums import SearchOrder
from ambrogio.geo.point import LatLon
from ambrogio.settings import Settings
from tests.support.database import create_test_database
from tests.support.plans import generic_plan

LECCO = LatLon(45.8566, 9.3977)
PAGE = 21


@pytest.fixture(scope="module")
async def scaled_url(settings: Settings, template_db: str) -> AsyncIterator[str]:
    """20,000 synthetic providers: enough rows for the planner to prefer the indexes."""
    from ambrogio.demo import load_scale

    name = f"ambrogio_text_plan_{os.getpid()}"
    await drop_database(settings, name)
    url = await create_test_database(settings, name, template_db)
    await load_scale(settings.model_copy(update={"database_url": url}), 20_000, seed=5)
    yield url
    await drop_database(settings, name)


def _page(
    kind: search.Kind,
    words: str,
    point: LatLon | None,
    radius: float | None,
    spec: ServiceFilterSpec,
) -> search.KeysetSearch:
    conditions = (
        search.provider_conditions(spec) if kind is search.PROVIDERS else service_conditions(spec)
    )
    return search.keyset_search(
        kind, conditions, point, radius, TextQuery(words), SearchOrder.RELEVANCE, None, PAGE
    )


SEARCHED = ("provider_search", "service_category", "taxonomy_term_words", "service ")


def _correlated_subplans(plan: str) -> list[str]:
    """The bodies of the plan's SubPlans run once per row (a hashed SubPlan runs once)."""
    lines = plan.splitlines()
    bodies = []
    for i, line in enumerate(lines):
        name = line.strip()
        if name.startswith("SubPlan") and f"hashed {name}" not in plan:
            depth = len(line) - len(line.lstrip())
            body = []
            for later in lines[i + 1 :]:
                if len(later) - len(later.lstrip()) <= depth:
                    break
                body.append(later)
            bodies.append("\n".join(body))
    return bodies


def _assert_indexed(plan: str, *indexes: str) -> None:
    for index in indexes:
        assert f"Bitmap Index Scan on {index}" in plan, plan
    for table in ("provider_search", "service"):
        assert not re.search(rf"Seq Scan on {table}\b", plan), plan
    for body in _correlated_subplans(plan):
        assert not any(table in body for table in SEARCHED), f"text searched per row:\n{plan}"


def _assert_probed_where_located(plan: str, *tables: str) -> None:
    """Within a radius: the places come from the planar GiST index, and the text's ids (a
    hashed SubPlan, built once) are tested on the rows naming them there, ``tables``, before
    any provider or service row is read."""
    assert "ix_location_geom_utm" in plan, plan
    lines = plan.splitlines()
    probes = [
        i for i, line in enumerate(lines) if re.search(r"\(hashed SubPlan \d+\) IS TRUE", line)
    ]
    assert probes, plan
    for i in probes:
        node = next(line for line in reversed(lines[: i + 1]) if " Scan " in line or "->" in line)
        assert any(f" on {table} " in node for table in tables), f"probed at {node}:\n{plan}"


def _subtree(lines: list[str], i: int) -> list[str]:
    depth = len(lines[i]) - len(lines[i].lstrip(" ->"))
    body = []
    for later in lines[i + 1 :]:
        if later.strip() and len(later) - len(later.lstrip(" ->")) <= depth:
            break
        body.append(later)
    return body


def _assert_scored_before_read(plan: str, table: str) -> None:
    """The page sorts the matches by score before it reads a row of ``table`` (their
    visibility, the filter), so that it reads the best ones only, and stops when full."""
    lines = plan.splitlines()
    [sort] = [
        i for i, line in enumerate(lines) if "Sort  (" in line and "ts_rank_cd" in lines[i + 1]
    ]
    assert "Limit" in lines[0] and "Nested Loop" in lines[1], plan
    below = "\n".join(_subtree(lines, sort))
    read = f"using pk_{table} on {table}  ("  # the page's own rows, not an alias of the table
    assert read not in below, plan
    assert any(read in line for line in lines[sort:]), plan


async def test_filtered_providers_near_a_point(settings: Settings, scaled_url: str) -> None:
    page = _page(
        search.PROVIDERS, "assistenza", LECCO, 5000.0, ServiceFilterSpec(delivery=["at_home"])
    )

    for stmt in (page.stmt, search.counted(page.count)):
        plan = await generic_plan(settings, scaled_url, stmt)

        _assert_indexed(plan, "ix_provider_search_document", "ix_provider_search_names_trgm")
        _assert_probed_where_located(plan, "location")
    _assert_scored_before_read(await generic_plan(settings, scaled_url, page.stmt), "organization")


async def test_providers_anywhere(settings: Settings, scaled_url: str) -> None:
    page = _page(search.PROVIDERS, "badante", None, None, ServiceFilterSpec())

    for stmt in (page.stmt, search.counted(page.count)):
        plan = await generic_plan(settings, scaled_url, stmt)

        _assert_indexed(plan, "ix_provider_search_document", "ix_provider_search_names_trgm")
    _assert_scored_before_read(await generic_plan(settings, scaled_url, page.stmt), "organization")


@pytest.mark.parametrize("radius", [3000.0, None])
async def test_services(settings: Settings, scaled_url: str, radius: float | None) -> None:
    point = LECCO if radius is not None else None
    page = _page(search.SERVICES, "fisioterapia", point, radius, ServiceFilterSpec())

    for stmt in (page.stmt, search.counted(page.count)):
        plan = await generic_plan(settings, scaled_url, stmt)

        _assert_indexed(plan, "ix_service_search", "ix_service_name_trgm")
        if radius is not None:
            _assert_probed_where_located(plan, "service_at_location")
    _assert_scored_before_read(await generic_plan(settings, scaled_url, page.stmt), "service")
