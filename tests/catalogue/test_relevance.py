"""Text search relevance, scored against searches judged by hand (``tests/data/relevance.toml``).

Each judged query runs through GraphQL on a database holding the demo network alone (other
tests add providers to the session's). Its first ten results are scored with NDCG@10 — graded
gain ``2**grade - 1``, discounted by ``log2(rank + 1)``, over the best order of every judged
record the search could have found (visible, and within the radius, measured with
``pyproj.Geod``) — with "a result of the top grade among the first three", and with the
precision of what it returned (the share of its results judged relevant at all: "fisioterapia"
answering "Psicoterapia individuale" is noise NDCG does not see once the few relevant records
are above it). The floors
are what the search reaches today, less a margin for ties that the data could reorder; a
change that makes search worse fails here, and one that makes it better should raise them.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pyproj import Geod

from ambrogio.demo import load_demo
from ambrogio.settings import Settings
from tests.support.import_db import ImportDb, import_db

JUDGMENTS = Path(__file__).parent.parent / "data" / "relevance.toml"
DEPTH = 10
NDCG_FLOOR = 0.95
TOP3_FLOOR = 0.95
PRECISION_FLOOR = 0.9
WGS84 = Geod(ellps="WGS84")

SEARCH = """
query Judged($text: String!, $near: LatLonInput, $r: Float, $first: Int) {
  services(text: $text, near: $near, radiusMeters: $r, first: $first) {
    edges { node { name } }
  }
  providers(text: $text, near: $near, radiusMeters: $r, first: $first) {
    edges { node { name services { name } } }
  }
}
"""

# Every visible service and provider with the points it is found at; the radius is applied
# in Python, on the ellipsoid, independently of the SQL under test.
CANDIDATES = """
SELECT 'services' AS kind, s.id::text AS id, s.name, ARRAY[s.name] AS offered,
       array_remove(array_agg(ST_Y(l.geom) || ' ' || ST_X(l.geom)), NULL) AS points
FROM service AS s
JOIN organization AS o ON o.id = s.organization_id
LEFT JOIN service_at_location AS sl ON sl.service_id = s.id
LEFT JOIN location AS l ON l.id = sl.location_id AND l.status = 'published'
WHERE s.status = 'published' AND o.status = 'published' AND o.merged_into_id IS NULL
GROUP BY s.id
UNION ALL
SELECT 'providers', o.id::text, o.name,
       (SELECT coalesce(array_agg(s.name), '{}') FROM service AS s
        WHERE s.organization_id = o.id AND s.status = 'published'),
       (SELECT array_remove(array_agg(ST_Y(l.geom) || ' ' || ST_X(l.geom)), NULL)
        FROM location AS l WHERE l.organization_id = o.id AND l.status = 'published')
FROM organization AS o
WHERE o.status = 'published' AND o.merged_into_id IS NULL
"""


@dataclass(frozen=True)
class Judged:
    text: str
    kind: str
    near: tuple[float, float] | None
    radius: float | None
    providers: dict[str, int] = field(default_factory=dict)
    services: dict[str, int] = field(default_factory=dict)

    def grade(self, name: str, offered: list[str]) -> int:
        """A service by its name; a provider by its name or its best service's."""
        if self.kind == "services":
            return self.services.get(name, 0)
        return max([self.providers.get(name, 0), *(self.services.get(s, 0) for s in offered)])

    @property
    def top(self) -> int:
        return max([*self.providers.values(), *self.services.values()])

    def label(self) -> str:
        where = f" near {self.near} within {self.radius:.0f} m" if self.near and self.radius else ""
        return f"{self.kind}({self.text!r}){where}"


@dataclass(frozen=True)
class Candidate:
    kind: str
    name: str
    offered: list[str]
    points: list[tuple[float, float]]

    def within(self, near: tuple[float, float], radius: float) -> bool:
        for lat, lon in self.points:
            _, _, metres = WGS84.inv(near[1], near[0], lon, lat)
            if metres <= radius:
                return True
        return False


@dataclass(frozen=True)
class Score:
    query: Judged
    ndcg: float
    top3: bool
    precision: float


def judgments() -> list[Judged]:
    with JUDGMENTS.open("rb") as file:
        queries = tomllib.load(file)["query"]
    return [
        Judged(
            query["text"],
            query["kind"],
            tuple(query["near"]) if "near" in query else None,
            query.get("radius"),
            query.get("providers", {}),
            query.get("services", {}),
        )
        for query in queries
    ]


def dcg(grades: list[int]) -> float:
    return sum((2**grade - 1) / math.log2(rank + 2) for rank, grade in enumerate(grades))


@pytest.fixture(scope="module")
async def demo_only(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_relevance_{os.getpid()}", template_db):
        await load_demo(db.settings, seed=settings.demo_seed)
        yield db


@pytest.fixture(scope="module")
async def candidates(demo_only: ImportDb) -> list[Candidate]:
    rows = await demo_only.rows(CANDIDATES)
    return [
        Candidate(
            row.kind,
            row.name,
            list(row.offered),
            [(float(lat), float(lon)) for lat, lon in (p.split() for p in row.points or [])],
        )
        for row in rows
    ]


async def _found(db: ImportDb, query: Judged) -> list[Candidate]:
    near = {"lat": query.near[0], "lon": query.near[1]} if query.near else None
    result = await db.gql(SEARCH, text=query.text, near=near, r=query.radius, first=DEPTH)
    assert result.errors == [], (query.label(), result.errors)
    edges = result.data[query.kind]["edges"]
    return [
        Candidate(
            query.kind,
            edge["node"]["name"],
            [s["name"] for s in edge["node"].get("services", [])],
            [],
        )
        for edge in edges
    ]


def _ideal(query: Judged, candidates: list[Candidate]) -> list[int]:
    reachable = [
        c
        for c in candidates
        if c.kind == query.kind
        and (query.near is None or query.radius is None or c.within(query.near, query.radius))
    ]
    return sorted((query.grade(c.name, c.offered) for c in reachable), reverse=True)[:DEPTH]


def test_the_judgments_name_what_the_demo_holds(candidates: list[Candidate]) -> None:
    """A judged name the data lacks is a typo in the judgments, not a search failure."""
    services = {c.name for c in candidates if c.kind == "services"}
    providers = {c.name for c in candidates if c.kind == "providers"}
    queries = judgments()
    assert len(queries) >= 40
    unknown = {
        query.label(): (set(query.services) - services) | (set(query.providers) - providers)
        for query in queries
    }
    assert {label: names for label, names in unknown.items() if names} == {}
    assert [q.label() for q in queries if _ideal(q, candidates)[0] != q.top] == []


async def test_relevance_stays_above_its_floor(
    demo_only: ImportDb, candidates: list[Candidate]
) -> None:
    scores: list[Score] = []
    for query in judgments():
        found = [query.grade(c.name, c.offered) for c in await _found(demo_only, query)]
        ideal = _ideal(query, candidates)
        relevant = sum(grade > 0 for grade in found) / len(found) if found else 0.0
        scores.append(Score(query, dcg(found) / dcg(ideal), query.top in found[:3], relevant))
    ndcg = sum(s.ndcg for s in scores) / len(scores)
    top3 = sum(s.top3 for s in scores) / len(scores)
    precision = sum(s.precision for s in scores) / len(scores)
    report = "\n".join(
        f"{s.ndcg:5.3f} {'top3' if s.top3 else '    '} {s.precision:4.2f} {s.query.label()}"
        for s in scores
    )
    print(
        f"\nNDCG@{DEPTH}, top grade in the first three, precision; query\n{report}\n"
        f"NDCG@{DEPTH} {ndcg:.3f}, top grade in the first three {top3:.3f}, "
        f"precision {precision:.3f}"
    )
    assert ndcg >= NDCG_FLOOR, report
    assert top3 >= TOP3_FLOOR, report
    assert precision >= PRECISION_FLOOR, report
