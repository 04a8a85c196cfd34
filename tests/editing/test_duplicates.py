"""Flagging likely duplicates: both plans of ``flag_duplicates`` against an independent oracle.

A small set of providers, far from the demo data, is built to hold every case: near and far
(distances measured on the WGS84 ellipsoid with ``pyproj.Geod``), similar and dissimilar names
(accents and case), several locations, a location without a point, a shared tax code,
archived and merged-away providers, and a pair a reviewer dismissed. The expected pairs are
computed here — distances with ``Geod``, each provider against every live provider of the
database; only the core names and their trigram similarity are asked of PostgreSQL, and the
verdict of ``pair_score.judge`` on what the oracle measured — and compared with what each plan
stores, in a transaction that is rolled back. How good the verdicts are is the business of
``test_duplicate_quality.py``.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.editing import matching
from ambrogio.editing.matching import core_sql, flag_duplicates
from ambrogio.editing.pair_score import (
    CANDIDATE_SIMILARITY,
    NEARBY_METRES,
    PairFields,
    core_pattern,
    judge,
)

GEOD = Geod(ellps="WGS84")
# In the Apennines near Bobbio: no demo provider within kilometres.
ORIGIN = (9.386, 44.766)
SHARED_TAX = "02830740136"  # valid partite IVA
OTHER_TAX = "01234560124"


def _at(east: float, north: float = 0.0) -> tuple[float, float]:
    """(lon, lat) the given metres east and north of ``ORIGIN``, on the ellipsoid."""
    lon, lat, _ = GEOD.fwd(ORIGIN[0], ORIGIN[1], 90.0, east)
    lon, lat, _ = GEOD.fwd(lon, lat, 0.0, north)
    return lon, lat


@dataclass
class Provider:
    key: str
    name: str
    places: list[tuple[float, float] | None]
    tax_code: str | None = None
    status: str = "published"
    merged_into: str | None = None


PROVIDERS = [
    Provider("girasole", "Cooperativa Sociale Il Girasole", [_at(0)], tax_code=SHARED_TAX),
    # Accents and case do not matter; 240 m is near (flagged on the name alone), 260 m is not.
    Provider("girasole_accent", "Cooperativa Sociale Il Girasolé", [_at(240)]),
    Provider("girasole_caps", "COOPERATIVA SOCIALE IL GIRASOLE", [_at(0, 260)]),
    # Near, but another name.
    Provider("quercia", "Associazione La Quercia di Mamre", [_at(30, 30)]),
    # Similar, one location far and one near (127 m): a candidate, scored too low.
    Provider("girasoli", "Cooperativa Sociale I Girasoli", [_at(5000), _at(-120, 40), None]),
    # Similar and near, but archived, or merged into another: never flagged.
    Provider("archived", "Cooperativa Sociale Il Girasole", [_at(10)], status="archived"),
    Provider("merged", "Cooperativa Sociale Il Girasole", [_at(-10)], merged_into="quercia"),
    # The same tax code, far apart and named otherwise; and near and similar as well (the
    # tax code is the reason given).
    Provider("far_twin", "Fondazione Borgo Antico", [_at(20000, 20000)], tax_code=SHARED_TAX),
    Provider("near_twin", "Cooperativa Sociale Il Girasole", [_at(0, -50)], tax_code=SHARED_TAX),
    # The same name 20 m away, but another valid partita IVA: another legal entity.
    Provider("other_iva", "Cooperativa Sociale Il Girasole", [_at(0, 20)], tax_code=OTHER_TAX),
    # A pair already dismissed by a reviewer stays dismissed.
    Provider("dismissed_a", "Studio Medico Santa Lucia", [_at(-3000)]),
    Provider("dismissed_b", "Studio Medico Santa Lucía", [_at(-3000, 100)]),
    # No point at all; and a similar name with a point that is not near.
    Provider("nowhere", "Cooperativa Sociale Il Girasole", [None]),
    Provider("lonely", "Cooperativa Sociale Il Girasole", [_at(0, -1000)]),
    # Almost the same place, a name sharing only a few trigrams; another distinctive name;
    # and a name alike but not the same, 212 m away (scored too low).
    Provider("bakery", "Panificio Girasole", [_at(1, 1)]),
    Provider("mandorlo", "Cooperativa Sociale Il Mandorlo", [_at(-60, -60)]),
    Provider("agricola", "Cooperativa Agricola Il Girasole", [_at(-150, 150)]),
]


async def _build(session: AsyncSession) -> dict[str, uuid.UUID]:
    ids = {p.key: uuid.uuid4() for p in PROVIDERS}
    for p in PROVIDERS:
        await session.execute(
            text(
                "INSERT INTO organization (id, name, kind, tax_code, status, source, external_id) "
                "VALUES (:id, :name, 'business', :tax, :status, 'dup-test', :key)"
            ),
            {"id": ids[p.key], "name": p.name, "tax": p.tax_code, "status": p.status, "key": p.key},
        )
        for index, place in enumerate(p.places):
            await session.execute(
                text(
                    "INSERT INTO location (id, organization_id, geom, geocode_precision, source, "
                    "external_id) VALUES (gen_random_uuid(), :org, "
                    "CASE WHEN CAST(:lon AS float8) IS NOT NULL "
                    "THEN ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END, "
                    "CASE WHEN CAST(:lon AS float8) IS NOT NULL THEN 'exact' END, 'dup-test', "
                    ":key)"
                ),
                {
                    "org": ids[p.key],
                    "lon": place[0] if place else None,
                    "lat": place[1] if place else None,
                    "key": f"{p.key}/{index}",
                },
            )
    for p in PROVIDERS:
        if p.merged_into:
            await session.execute(
                text("UPDATE organization SET merged_into_id = :to WHERE id = :id"),
                {"to": ids[p.merged_into], "id": ids[p.key]},
            )
    a, b = sorted((ids["dismissed_a"], ids["dismissed_b"]))
    await session.execute(
        text(
            "INSERT INTO duplicate_candidate (provider_a, provider_b, reason, status) "
            "VALUES (:a, :b, 'name_nearby', 'dismissed')"
        ),
        {"a": a, "b": b},
    )
    return ids


async def _core_similarity(session: AsyncSession, a: str, b: str) -> tuple[str, str, float]:
    """The core names and their trigram similarity: the only thing asked of PostgreSQL."""
    core_a, core_b = core_sql("CAST(:a AS text)"), core_sql("CAST(:b AS text)")
    row = (
        await session.execute(
            text(f"SELECT {core_a}, {core_b}, similarity({core_a}, {core_b})"),
            {"a": a, "b": b, "common": core_pattern()},
        )
    ).one()
    return str(row[0]), str(row[1]), float(row[2])


async def _oracle(session: AsyncSession, ids: list[uuid.UUID]) -> set[tuple[Any, ...]]:
    """The pairs to flag, computed without the flagging statements."""
    live = (
        await session.execute(
            text(
                "SELECT o.id, o.name, o.tax_code, ST_X(l.geom) AS lon, ST_Y(l.geom) AS lat "
                "FROM organization o LEFT JOIN location l ON l.organization_id = o.id "
                "WHERE o.status <> 'archived' AND o.merged_into_id IS NULL"
            )
        )
    ).all()
    names = {row.id: row.name for row in live}
    taxes = {row.id: row.tax_code for row in live}
    points: dict[uuid.UUID, list[tuple[float, float]]] = {}
    for row in live:
        if row.lon is not None:
            points.setdefault(row.id, []).append((row.lon, row.lat))
    stored = {
        tuple(row)
        for row in (
            await session.execute(text("SELECT provider_a, provider_b FROM duplicate_candidate"))
        ).all()
    }
    expected: dict[tuple[uuid.UUID, uuid.UUID], tuple[Any, ...]] = {}
    wanted = [i for i in dict.fromkeys(ids) if i in names]
    for a in wanted:
        for b in names:
            pair = (min(a, b), max(a, b))
            if a == b or pair in stored or pair in expected:
                continue
            distances = [
                GEOD.inv(pa[0], pa[1], pb[0], pb[1])[2]
                for pa, pb in itertools.product(points.get(a, []), points.get(b, []))
            ]
            nearest = min(distances) if distances else None
            same_tax = taxes[a] is not None and taxes[a] == taxes[b]
            if not same_tax and (nearest is None or nearest > NEARBY_METRES):
                continue
            core_a, core_b, similarity = await _core_similarity(session, names[a], names[b])
            if not same_tax and similarity < CANDIDATE_SIMILARITY:
                continue
            low, high = (a, b) if a < b else (b, a)
            verdict = judge(
                PairFields(
                    name_a=names[low],
                    name_b=names[high],
                    core_a=core_a if low == a else core_b,
                    core_b=core_b if low == a else core_a,
                    name_similarity=similarity,
                    tax_a=taxes[low],
                    tax_b=taxes[high],
                    distance_m=nearest,
                )
            )
            if verdict.flagged:
                shown = None if nearest is None else round(nearest, 2)
                expected[pair] = (verdict.reason, round(similarity, 5), shown)
    return {(*pair, *outcome) for pair, outcome in expected.items()}


async def _flagged(session: AsyncSession) -> set[tuple[Any, ...]]:
    rows = await session.execute(
        text(
            "SELECT provider_a, provider_b, reason, similarity, distance_m "
            "FROM duplicate_candidate WHERE status = 'open' AND detected_at = now()"
        )
    )
    return {
        (
            row.provider_a,
            row.provider_b,
            row.reason,
            None if row.similarity is None else round(row.similarity, 5),
            None if row.distance_m is None else round(row.distance_m, 2),
        )
        for row in rows
    }


def _pair(ids: dict[str, uuid.UUID], one: str, other: str) -> tuple[uuid.UUID, uuid.UUID]:
    a, b = ids[one], ids[other]
    return (min(a, b), max(a, b))


@pytest.mark.parametrize("plan", ["few", "bulk"])
@pytest.mark.parametrize("subset", ["all", "some"])
async def test_flagged_pairs_are_the_oracles(
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    plan: str,
    subset: str,
) -> None:
    monkeypatch.setattr(matching, "BULK_PROVIDERS", 1000 if plan == "few" else 0)
    async with sessionmaker() as session:
        try:
            ids = await _build(session)
            given = (
                list(ids.values())
                if subset == "all"
                else [ids["girasole_accent"], ids["girasoli"], ids["far_twin"], ids["merged"]]
            )
            expected = await _oracle(session, given)
            threshold = (
                await session.execute(text("SELECT show_limit()"))  # loads pg_trgm
            ).scalar_one()
            flagged = await flag_duplicates(session, given)
            found = await _flagged(session)
            assert found == expected
            assert flagged == len(expected)
            after = (await session.execute(text("SELECT show_limit()"))).scalar_one()
            assert after == threshold  # the bulk plan's similarity threshold is not left behind
            pairs = {(a, b): reason for a, b, reason, *_ in found}
            # The dataset holds what it is meant to: the oracle is no empty set.
            if subset == "all":
                assert pairs[_pair(ids, "girasole", "girasole_accent")] == "name_nearby"
                assert pairs[_pair(ids, "girasole", "near_twin")] == "tax_code"
                assert pairs[_pair(ids, "girasole", "far_twin")] == "tax_code"
                for one, other in (
                    ("girasole", "girasoli"),
                    ("girasole", "other_iva"),
                    ("girasole", "agricola"),
                    ("girasole", "girasole_caps"),
                    ("girasole", "quercia"),
                    ("girasole", "archived"),
                    ("girasole", "merged"),
                    ("girasole", "nowhere"),
                    ("girasole", "lonely"),
                    ("girasole", "bakery"),
                    ("girasole", "mandorlo"),
                    ("dismissed_a", "dismissed_b"),
                ):
                    assert _pair(ids, one, other) not in pairs, (one, other)
            else:
                assert _pair(ids, "girasole", "girasole_accent") in pairs
                assert _pair(ids, "girasole", "near_twin") not in pairs  # neither was given
            # Flagging again flags nothing new.
            assert await flag_duplicates(session, given) == 0
        finally:
            await session.rollback()
