"""A page by relevance within a radius, looked for in smaller rings first, is the page of the
radius: the same rows, in the same order, with the same distances and scores.

The oracle is the statement the radius itself gives (``keyset_search`` over the whole radius,
the matches found first), run beside the resolver's ring search (``resolvers.search._keyset``)
on 20,000 synthetic providers around Lecco, dense enough that some pages settle in a ring and
others need the radius. The rank bounds the rings rely on are checked against PostgreSQL's own
``ts_rank_cd`` for every lexeme of every document, and their triggers on a write.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ambrogio.catalogue import search
from ambrogio.catalogue.filters import ServiceFilterSpec
from ambrogio.catalogue.pagination import encode_cursor
from ambrogio.catalogue.text import BOUND_MARGIN, TextQuery, words_bound
from ambrogio.db.session import create_engine, create_sessionmaker, drop_database
from ambrogio.enums import SearchOrder
from ambrogio.geo.point import LatLon
from ambrogio.resolvers.search import Args, _keyset
from ambrogio.settings import Settings
from tests.support.database import create_test_database
from tests.support.plans import generic_plan

PAGE = 20
POINTS = (
    LatLon(45.8566, 9.3977),  # Lecco
    LatLon(45.8097, 9.0852),  # Como
    LatLon(45.7000, 9.4100),  # Merate, the Brianza
    LatLon(46.0500, 9.4800),  # the lake's upper end: few places
)
SEARCHES = (
    (search.PROVIDERS, "assistenza", True),
    (search.PROVIDERS, "badante", False),
    (search.PROVIDERS, "badnte", False),  # a typo: the trigram bound
    (search.SERVICES, "fisioterapia", False),
    (search.SERVICES, "badante", False),
)


@pytest.fixture(scope="module")
async def scaled(settings: Settings, template_db: str) -> AsyncIterator[AsyncEngine]:
    from ambrogio.demo import load_scale

    name = f"ambrogio_text_rings_{os.getpid()}"
    await drop_database(settings, name)
    url = await create_test_database(settings, name, template_db)
    await load_scale(settings.model_copy(update={"database_url": url}), 20_000, seed=11)
    engine = create_engine(settings, url)
    yield engine
    await engine.dispose()
    await drop_database(settings, name)


def _conditions(kind: search.Kind, at_home: bool) -> list[Any]:
    if not at_home:
        return []
    return search.provider_conditions(ServiceFilterSpec(delivery=["at_home"]))


def _key(row: Any) -> tuple[Any, float, float]:
    return (row[0].id, round(float(row.d), 6), float(row.score))


async def test_rings_give_the_page_of_the_radius(scaled: AsyncEngine) -> None:
    sessions = create_sessionmaker(scaled)
    settled_in_a_ring = needed_the_radius = 0
    for kind, words, at_home in SEARCHES:
        query = TextQuery(words)
        for point in POINTS:
            for radius in (1500.0, 5000.0):
                after: list[Any] | None = None
                for _ in range(2):  # the first page, then the next from its cursor
                    conditions = _conditions(kind, at_home)
                    # Given the statement of the whole radius,
                    whole = search.keyset_search(
                        kind,
                        conditions,
                        point,
                        radius,
                        query,
                        SearchOrder.RELEVANCE,
                        after[1:] if after else None,
                        PAGE,
                    )
                    async with sessions() as session:
                        expected = (await session.execute(whole.stmt)).all()
                        # when the resolver looks in rings first,
                        assert kind.bound is not None
                        column, bounded = kind.bound
                        row = (await session.execute(words_bound(query, column))).one()
                        bound = bounded(row.lexemes, row.found, row.bound)
                        cursor = encode_cursor(after) if after else None
                        args = Args(point, radius, query, SearchOrder.RELEVANCE, PAGE, cursor)
                        page = await _keyset(session, kind, args, after, conditions, bound)
                        rings = []
                        for fraction, probed in search.RING_FRACTIONS:
                            ring = search.keyset_search(
                                kind,
                                conditions,
                                point,
                                radius * fraction,
                                query,
                                SearchOrder.RELEVANCE,
                                after[1:] if after else None,
                                PAGE,
                                probed,
                            )
                            rings.append(
                                (radius * fraction, (await session.execute(ring.stmt)).all())
                            )
                    # then it returns the same rows, in the same order, with the same values.
                    assert [row[0].id for row in expected] == [row.id for row in page.rows]
                    assert page.distances == whole.distances(expected)
                    assert list(page.cursors) == whole.cursors(expected)
                    settled = [rows for r, rows in rings if search.settled(rows, PAGE, r, bound)]
                    if settled:
                        settled_in_a_ring += 1
                        assert [_key(r) for r in settled[0]] == [_key(r) for r in expected]
                    else:
                        needed_the_radius += 1
                    if len(expected) <= PAGE:
                        break
                    last = expected[PAGE - 1]
                    after = ["relevance", float(last.score), last[0].id]
    # Both ways were taken: the oracle compared rings that settled and rings that did not.
    assert settled_in_a_ring > 0 and needed_the_radius > 0, (settled_in_a_ring, needed_the_radius)


# Every (document, lexeme) pair with PostgreSQL's rank of the one-lexeme query and the bound.
RANKS = """
SELECT d.kind, d.lexeme, ts_rank_cd(d.document, q.query) AS rank, b.bound
FROM (
    SELECT 'provider' AS kind, u.lexeme, p.document
    FROM provider_search AS p, unnest(p.document) AS u
    UNION ALL
    SELECT 'service', u.lexeme, s.search FROM service AS s, unnest(s.search) AS u
) AS d
CROSS JOIN LATERAL (
    SELECT format('''%s''', replace(replace(d.lexeme, '\\', '\\\\'), '''', ''''''))::tsquery
) AS q(query)
LEFT JOIN LATERAL (
    SELECT CASE d.kind WHEN 'provider' THEN provider ELSE service END
    FROM search_lexeme_bound WHERE lexeme = d.lexeme
) AS b(bound) ON true
"""


async def _ranks(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(RANKS))).all())


async def test_no_document_ranks_above_its_lexemes_bound(scaled: AsyncEngine) -> None:
    ranks = await _ranks(scaled)

    assert len(ranks) > 100_000 and any(row.rank > 1.0 for row in ranks)
    above = [row for row in ranks if row.bound is None or row.rank > row.bound * (1 + BOUND_MARGIN)]
    assert not above, above[:5]


async def test_a_write_raises_the_bound(scaled: AsyncEngine) -> None:
    new = "zzqwx"
    async with scaled.connect() as conn:
        # Given a provider whose name holds a word no document held,
        await conn.execute(
            text(
                "INSERT INTO organization (id, name, kind, source, external_id, status) "
                "VALUES (gen_random_uuid(), :name, 'association', 'rings', 'one', 'published')"
            ),
            {"name": f"Associazione {new}"},
        )
        first = await conn.scalar(
            text("SELECT provider FROM search_lexeme_bound WHERE lexeme = :w"), {"w": new}
        )
        # when its name repeats the word,
        await conn.execute(
            text("UPDATE organization SET name = :name WHERE source = 'rings'"),
            {"name": f"{new} {new} {new}"},
        )
        again = await conn.scalar(
            text("SELECT provider FROM search_lexeme_bound WHERE lexeme = :w"), {"w": new}
        )
        rank = await conn.scalar(
            text(
                "SELECT ts_rank_cd(p.document, to_tsquery('simple', :w)) FROM provider_search p "
                "JOIN organization o ON o.id = p.organization_id WHERE o.source = 'rings'"
            ),
            {"w": new},
        )
        await conn.rollback()

    # then the bound rose with the document's rank, and covers it.
    assert first == pytest.approx(1.0)
    assert again == pytest.approx(3.0) and rank == pytest.approx(3.0)
    assert rank <= again * (1 + BOUND_MARGIN)


@pytest.mark.parametrize("kind", [search.PROVIDERS, search.SERVICES])
async def test_a_ring_probes_the_located_owners(
    settings: Settings, scaled: AsyncEngine, kind: search.Kind
) -> None:
    conditions = _conditions(kind, kind is search.PROVIDERS)
    ring = search.keyset_search(
        kind,
        conditions,
        POINTS[0],
        300.0,
        TextQuery("assistenza"),
        SearchOrder.RELEVANCE,
        None,
        PAGE,
        probed=True,
    )

    plan = await generic_plan(settings, str(scaled.url), ring.stmt)

    # The places come from the planar index, each owner is tested by its primary key (its
    # document, or its service row), and no search index is read whole.
    assert "ix_location_geom_utm" in plan, plan
    probed = "pk_provider_search" if kind is search.PROVIDERS else "pk_service on service service"
    assert f"Index Scan using {probed}" in plan, plan
    for index in ("ix_provider_search_document", "ix_service_search"):
        assert f"Bitmap Index Scan on {index}" not in plan, plan
    assert "Seq Scan on location" not in plan and "Seq Scan on provider_search" not in plan


async def test_the_words_and_their_bound_in_one_indexed_read(
    settings: Settings, scaled: AsyncEngine
) -> None:
    stmt = words_bound(TextQuery("badante"), search.PROVIDERS.bound[0])  # type: ignore[index]

    plan = await generic_plan(settings, str(scaled.url), stmt)

    assert "using pk_search_lexeme_bound on search_lexeme_bound" in plan, plan
