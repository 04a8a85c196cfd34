"""Pages by relevance hold exactly what the plain statement ranks, in its order.

The application scores the matches from their search documents first and reads the rows of
the best ones only (``catalogue.search``'s ranked page). The oracle here is the plain
statement, written out in SQL: every visible row tested for the text (and the radius, on the
ellipsoid), scored with the documented formula, sorted by (score, id) descending. Walking
the API's pages with cursors must give the same ids in the same order, with the same
distances, on a database holding the demo network (varied texts) and synthetic providers
(many equal scores, so ties straddle page boundaries).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from ambrogio.demo import load_demo
from ambrogio.demo.scale import load_scale
from ambrogio.ids import from_global_id
from ambrogio.settings import Settings
from tests.support.import_db import ImportDb, import_db

PAGE = 7
LECCO = (45.8566, 9.3977)
MERATE = (45.6975, 9.4188)

SEARCH = """
query Ranked($text: String!, $near: LatLonInput, $r: Float, $filter: ServiceFilter,
             $first: Int, $after: String) {
  services(text: $text, near: $near, radiusMeters: $r, filter: $filter, first: $first,
           after: $after) {
    edges { distanceMeters node { id } }
    pageInfo { hasNextPage endCursor }
  }
  providers(text: $text, near: $near, radiusMeters: $r, filter: $filter, first: $first,
            after: $after) {
    edges { distanceMeters node { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

WORDS = """
    SELECT websearch_to_tsquery('italian', ambrogio_unaccent(:text)) AS q,
           ambrogio_unaccent(lower(:text)) AS n,
           ambrogio_words_found(websearch_to_tsquery('italian', ambrogio_unaccent(:text)))
               AS found
"""
POINT = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography"

PLAIN_PROVIDERS = f"""
WITH w AS ({WORDS}), scored AS (
    SELECT o.id,
           ts_rank_cd(p.document, w.q)
           + CASE WHEN w.found THEN 0.0 ELSE 0.5 * word_similarity(w.n, p.names) END AS relevance,
           (SELECT min(ST_Distance(l.geom::geography, {POINT})) FROM location AS l
            WHERE l.organization_id = o.id AND l.status = 'published'
              AND ST_DWithin(l.geom::geography, {POINT}, :r)) AS d
    FROM organization AS o JOIN provider_search AS p ON p.organization_id = o.id, w
    WHERE o.status = 'published' AND o.merged_into_id IS NULL
      AND (p.document @@ w.q OR (NOT w.found AND p.names %> w.n))
      AND (NOT :at_home OR EXISTS (
          SELECT 1 FROM service AS s WHERE s.organization_id = o.id AND s.status = 'published'
          AND 'at_home' = ANY(s.delivery)))
)
SELECT id, d, CASE WHEN :r IS NULL THEN relevance ELSE relevance / (1.0 + d / 2000.0) END AS score
FROM scored WHERE :r IS NULL OR d IS NOT NULL
ORDER BY score DESC, id DESC
"""

PLAIN_SERVICES = f"""
WITH w AS ({WORDS}), filed AS (
    SELECT sc.service_id FROM service_category AS sc
    JOIN taxonomy_term_words AS t ON t.term_id = sc.term_id, w
    WHERE t.document @@ w.q
), scored AS (
    SELECT s.id,
           ts_rank_cd(s.search, w.q)
           + CASE WHEN s.id IN (SELECT service_id FROM filed) THEN 0.3 ELSE 0.0 END
           + CASE WHEN w.found THEN 0.0
                  ELSE 0.5 * word_similarity(w.n, ambrogio_unaccent(lower(s.name))) END
               AS relevance,
           (SELECT min(ST_Distance(l.geom::geography, {POINT}))
            FROM service_at_location AS sl JOIN location AS l ON l.id = sl.location_id
            WHERE sl.service_id = s.id AND l.status = 'published'
              AND ST_DWithin(l.geom::geography, {POINT}, :r)) AS d
    FROM service AS s, w
    WHERE s.status = 'published'
      AND EXISTS (SELECT 1 FROM organization AS o WHERE o.id = s.organization_id
                  AND o.status = 'published' AND o.merged_into_id IS NULL)
      AND (s.search @@ w.q OR s.id IN (SELECT service_id FROM filed)
           OR (NOT w.found AND ambrogio_unaccent(lower(s.name)) %> w.n))
      AND (NOT :at_home OR 'at_home' = ANY(s.delivery))
)
SELECT id, d, CASE WHEN :r IS NULL THEN relevance ELSE relevance / (1.0 + d / 2000.0) END AS score
FROM scored WHERE :r IS NULL OR d IS NOT NULL
ORDER BY score DESC, id DESC
"""


@dataclass(frozen=True)
class Case:
    kind: str
    text: str
    near: tuple[float, float] | None = None
    radius: float | None = None
    at_home: bool = False


CASES = [
    Case("providers", "badante"),
    Case("providers", "assistenza"),
    Case("providers", "cooperativa"),
    Case("providers", "assistenza domiciliare"),
    Case("providers", "badnte"),
    Case("providers", "assistenza", LECCO, 5000.0, at_home=True),
    Case("providers", "fisioterapia", MERATE, 6000.0),
    Case("services", "fisioterapia"),
    Case("services", "psicologo"),
    Case("services", "badante"),
    Case("services", "fisoterapia"),
    Case("services", "fisioterapia -domicilio"),
    Case("services", '"seduta di fisioterapia"'),
    Case("providers", "assistenza -anziani"),
    Case("services", "fisioterapia", LECCO, 3000.0),
    Case("services", "assistenza", LECCO, 10000.0),
]


@pytest.fixture(scope="module")
async def varied(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_ranked_{os.getpid()}", template_db):
        await load_demo(db.settings, seed=settings.demo_seed)
        await load_scale(db.settings, 3000, seed=11)
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
        yield db


async def _walk(db: ImportDb, case: Case) -> list[tuple[uuid.UUID, float | None]]:
    near = {"lat": case.near[0], "lon": case.near[1]} if case.near else None
    found: list[tuple[uuid.UUID, float | None]] = []
    after = None
    while True:
        result = await db.gql(
            SEARCH,
            text=case.text,
            near=near,
            r=case.radius,
            filter={"delivery": ["AT_HOME"]} if case.at_home else None,
            first=PAGE,
            after=after,
        )
        assert result.errors == [], (case, result.errors)
        page = result.data[case.kind]
        found += [
            (uuid.UUID(from_global_id(edge["node"]["id"])[1]), edge["distanceMeters"])
            for edge in page["edges"]
        ]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def _plain(db: ImportDb, case: Case) -> list[Any]:
    sql = PLAIN_PROVIDERS if case.kind == "providers" else PLAIN_SERVICES
    lat, lon = case.near if case.near else (None, None)
    return await db.rows(sql, text=case.text, lat=lat, lon=lon, r=case.radius, at_home=case.at_home)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.kind}-{c.text}-{c.radius}")
async def test_pages_walk_the_plain_ranking(varied: ImportDb, case: Case) -> None:
    # given the plain statement's ranking, long enough to span pages
    expected = await _plain(varied, case)
    assert len(expected) > 2 * PAGE, (case, len(expected))

    # when every page is read through the API, cursor after cursor
    found = await _walk(varied, case)

    # then the same rows in the same order, at the same distances
    assert [row_id for row_id, _ in found] == [row.id for row in expected]
    if case.radius is not None:
        assert [d for _, d in found] == [float(row.d) for row in expected]


async def test_the_cases_hold_ties_across_pages(varied: ImportDb) -> None:
    """Equal scores on both sides of a page boundary: where a cursor must keep ties."""
    straddling = 0
    for case in CASES:
        scores = [row.score for row in await _plain(varied, case)]
        straddling += sum(
            scores[i - 1] == scores[i] for i in range(PAGE, len(scores), PAGE) if i < len(scores)
        )
    assert straddling > 10
