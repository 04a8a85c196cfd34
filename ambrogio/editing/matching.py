"""Flagging likely duplicate providers, set-based, for the import and the editing mutations.

Three steps, each one statement (or a few) whatever the number of providers:

1. **Candidates** into a temporary table ``dup_pair``: providers sharing a tax code or a RUNTS
   id (index lookups), and providers with places within ``NEARBY_METRES`` whose distinctive
   names (``pair_score``'s *core*: no accents, legal forms or common words) have a trigram
   similarity of at least ``CANDIDATE_SIMILARITY`` and whose identifiers do not veto them;
2. **Field comparisons** of every candidate pair not already stored (whatever its status: a
   pair a reviewer dismissed is never flagged again): both providers' identifiers and
   contacts, the similarity of their core names, and the distance and address similarity of
   their nearest places;
3. **Judgement** in Python (``pair_score.judge``: hard rules, then weights), and one INSERT of
   the flagged pairs with their score and reasons.

Archived providers, and providers merged into another, are neither flagged nor flagged
against. The nearby candidates have two plans with the same outcome:

- a few providers (an edit, a merge, a small import: at most ``BULK_PROVIDERS``): each of
  their located places is joined with the places within ``NEARBY_METRES`` through the
  geography index on ``location``, and the names of those pairs are compared;
- many providers (a bulk import): at the density of a large catalogue a place has hundreds of
  neighbours within ``NEARBY_METRES``, so comparing the names of every neighbouring pair takes
  minutes. Instead every live located place goes, once, into a temporary table with its core
  name and its point, indexed by one GiST index on both (geography, and ``gist_trgm_ops`` on
  the name); each place of the given providers then looks up the places that are near *and*
  have a similar name (the ``%`` operator, with ``pg_trgm.similarity_threshold`` set for the
  statement and restored after) in one index scan. The exact conditions are checked again on
  what the index finds, so the index only narrows the search.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.editing.pair_score import (
    CANDIDATE_SIMILARITY,
    NEARBY_METRES,
    PairFields,
    core_pattern,
    judge,
)

# Above this many providers, the nearby pass indexes every live place first.
BULK_PROVIDERS = 1000

_LIVE = "{t}.status <> 'archived' AND {t}.merged_into_id IS NULL"


def _words(column: str) -> str:
    """``column`` lower case, unaccented, with runs of anything but letters and digits as one
    space."""
    return f"btrim(regexp_replace(ambrogio_unaccent(lower({column})), '[^a-z0-9]+', ' ', 'g'))"


def core_sql(column: str) -> str:
    """The distinctive part of a name (``pair_score``); the whole name when nothing is left."""
    words = f"regexp_replace({_words(column)}, :common, '', 'g')"
    stripped = f"btrim(regexp_replace({words}, ' +', ' ', 'g'))"
    return f"coalesce(nullif({stripped}, ''), {_words(column)})"


def _not_vetoed(a: str, b: str) -> str:
    """Leaves out the pairs that ``pair_score``'s hard rules veto for their identifiers: two
    different tax codes of one kind (stored tax codes are valid: every write validates them,
    and a valid code's length says its kind) or two different RUNTS ids. At the density of a
    large catalogue most neighbouring pairs with alike names are such pairs."""
    taxes = f"{a}.tax_code <> {b}.tax_code AND length({a}.tax_code) = length({b}.tax_code)"
    # (a missing identifier makes the comparison null: no veto)
    return f"NOT coalesce(({taxes}) OR {a}.runts_id <> {b}.runts_id, false)"


_PAIRS = "CREATE TEMP TABLE dup_pair (a uuid, b uuid) ON COMMIT DROP"

_SAME_IDENTIFIER = f"""
INSERT INTO dup_pair
SELECT LEAST(a.id, b.id), GREATEST(a.id, b.id)
FROM organization a
JOIN organization b ON b.{{column}} = a.{{column}} AND b.id <> a.id
WHERE a.{{column}} IS NOT NULL AND a.id = ANY(:ids)
  AND {_LIVE.format(t="a")} AND {_LIVE.format(t="b")}
"""

_NAME_NEARBY = f"""
INSERT INTO dup_pair
SELECT LEAST(a.id, b.id), GREATEST(a.id, b.id)
FROM organization a
JOIN location la ON la.organization_id = a.id AND la.geom IS NOT NULL
JOIN location lb
  ON lb.organization_id <> a.id AND lb.geom IS NOT NULL
 AND ST_DWithin(lb.geom::geography, la.geom::geography, :metres)
JOIN organization b ON b.id = lb.organization_id
WHERE a.id = ANY(:ids)
  AND {_LIVE.format(t="a")} AND {_LIVE.format(t="b")} AND {_not_vetoed("a", "b")}
  AND similarity({core_sql("a.name")}, {core_sql("b.name")}) >= :similarity
"""

# The bulk plan: every live located place, with its core name, in spatial order (the index
# scans of neighbouring places then touch the same pages).
_PLACES = f"""
CREATE TEMP TABLE dup_place ON COMMIT DROP AS
SELECT o.id, {core_sql("o.name")} AS name, l.geom::geography AS geog, o.tax_code, o.runts_id
FROM organization o
JOIN location l ON l.organization_id = o.id AND l.geom IS NOT NULL
WHERE {_LIVE.format(t="o")}
ORDER BY ST_GeoHash(l.geom)
"""

_PLACES_INDEX = (
    "CREATE INDEX dup_place_geog_name ON dup_place USING gist (geog, name gist_trgm_ops)",
    "ANALYZE dup_place",
)

_NAME_NEARBY_BULK = f"""
INSERT INTO dup_pair
SELECT LEAST(a.id, b.id), GREATEST(a.id, b.id)
FROM dup_place a
JOIN dup_place b
  ON b.name % a.name AND ST_DWithin(b.geog, a.geog, :metres) AND b.id <> a.id
WHERE a.id = ANY(:ids) AND similarity(a.name, b.name) >= :similarity
  AND {_not_vetoed("a", "b")}
"""

# Every candidate pair not stored yet, with what ``pair_score`` weighs.
_FIELDS = f"""
WITH fresh AS (
    SELECT DISTINCT a, b FROM dup_pair p
    WHERE NOT EXISTS (
        SELECT 1 FROM duplicate_candidate d WHERE d.provider_a = p.a AND d.provider_b = p.b
    )
)
SELECT f.a, f.b, oa.name AS name_a, ob.name AS name_b,
       {core_sql("oa.name")} AS core_a, {core_sql("ob.name")} AS core_b,
       similarity({core_sql("oa.name")}, {core_sql("ob.name")}) AS name_similarity,
       oa.tax_code AS tax_a, ob.tax_code AS tax_b, oa.runts_id AS runts_a, ob.runts_id AS runts_b,
       oa.phone AS phone_a, ob.phone AS phone_b, oa.email AS email_a, ob.email AS email_b,
       oa.website AS website_a, ob.website AS website_b,
       near.distance_m, near.address_similarity
FROM fresh f
JOIN organization oa ON oa.id = f.a
JOIN organization ob ON ob.id = f.b
LEFT JOIN LATERAL (
    SELECT ST_Distance(la.geom::geography, lb.geom::geography) AS distance_m,
           CASE WHEN la.address IS NOT NULL AND lb.address IS NOT NULL
                THEN similarity({_words("la.address")}, {_words("lb.address")}) END
               AS address_similarity
    FROM location la
    JOIN location lb ON lb.organization_id = f.b AND lb.geom IS NOT NULL
    WHERE la.organization_id = f.a AND la.geom IS NOT NULL
    ORDER BY la.geom::geography <-> lb.geom::geography
    LIMIT 1
) near ON true
"""

_FLAG = """
INSERT INTO duplicate_candidate
    (provider_a, provider_b, reason, similarity, distance_m, score, reasons)
SELECT a, b, reason, similarity, distance_m, score,
       ARRAY(SELECT jsonb_array_elements_text(CAST(reasons AS jsonb)))
FROM unnest(CAST(:a AS uuid[]), CAST(:b AS uuid[]), CAST(:reason AS text[]),
            CAST(:similarity AS float8[]), CAST(:distance AS float8[]), CAST(:score AS float8[]),
            CAST(:reasons AS text[]))
     AS t(a, b, reason, similarity, distance_m, score, reasons)
ON CONFLICT (provider_a, provider_b) DO NOTHING
"""

_THRESHOLD = "pg_trgm.similarity_threshold"
_FIELD_NAMES = tuple(field.name for field in dataclasses.fields(PairFields))


async def flag_duplicates(session: AsyncSession, provider_ids: Sequence[uuid.UUID]) -> int:
    """Flag the likely duplicates of these providers; returns how many new pairs were flagged."""
    if not provider_ids:
        return 0
    ids = list(dict.fromkeys(provider_ids))
    await session.execute(text(_PAIRS))
    for column in ("tax_code", "runts_id"):
        await session.execute(text(_SAME_IDENTIFIER.format(column=column)), {"ids": ids})
    nearby = {
        "ids": ids,
        "metres": NEARBY_METRES,
        "similarity": CANDIDATE_SIMILARITY,
        "common": core_pattern(),
    }
    if len(ids) <= BULK_PROVIDERS:
        await session.execute(text(_NAME_NEARBY), nearby)
    else:
        await _name_nearby_bulk(session, nearby)
    rows = (await session.execute(text(_FIELDS), {"common": core_pattern()})).mappings().all()
    flagged = []
    for row in rows:
        fields = PairFields(**{name: row[name] for name in _FIELD_NAMES})
        verdict = judge(fields)
        if verdict.flagged:
            flagged.append((row, fields, verdict))
    await session.execute(text("DROP TABLE dup_pair"))
    if not flagged:
        return 0
    result = await session.execute(
        text(_FLAG),
        {
            "a": [row["a"] for row, _, _ in flagged],
            "b": [row["b"] for row, _, _ in flagged],
            "reason": [verdict.reason for _, _, verdict in flagged],
            "similarity": [fields.name_similarity for _, fields, _ in flagged],
            "distance": [fields.distance_m for _, fields, _ in flagged],
            "score": [verdict.score for _, _, verdict in flagged],
            "reasons": [json.dumps(verdict.reasons) for _, _, verdict in flagged],
        },
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _name_nearby_bulk(session: AsyncSession, nearby: dict[str, object]) -> None:
    await session.execute(text(_PLACES), {"common": nearby["common"]})
    for statement in _PLACES_INDEX:
        await session.execute(text(statement))
    # The threshold of ``%``, for this statement only (``None``: pg_trgm not loaded yet).
    before = (
        await session.execute(text("SELECT current_setting(:name, true)"), {"name": _THRESHOLD})
    ).scalar_one()
    await session.execute(text(f"SET LOCAL {_THRESHOLD} = {CANDIDATE_SIMILARITY:.6f}"))
    await session.execute(text(_NAME_NEARBY_BULK), nearby)
    if before is None:
        await session.execute(text(f"SET LOCAL {_THRESHOLD} TO DEFAULT"))
    else:
        await session.execute(
            text("SELECT set_config(:name, :value, true)"), {"name": _THRESHOLD, "value": before}
        )
    await session.execute(text("DROP TABLE dup_place"))
