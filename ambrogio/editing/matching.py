"""Flagging likely duplicate providers, set-based, for the import and the editing mutations.

Two providers are likely one when they share a tax code, or when their names are similar
(trigram ``similarity`` of the unaccented, lower-case names at least ``NAME_SIMILARITY``) and
two of their locations are within ``NEARBY_METRES``. Pairs are stored once, ordered, and a pair
a reviewer dismissed is not flagged again. Archived providers, and providers merged into
another, are neither flagged nor flagged against.

The name-and-distance pass has two plans with the same outcome:

- a few providers (an edit, a merge, a small import: at most ``BULK_PROVIDERS``): each of
  their located places is joined with the places within ``NEARBY_METRES`` through the
  geography index on ``location``, and the names of those pairs are compared;
- many providers (a bulk import): at the density of a large catalogue a place has hundreds of
  neighbours within ``NEARBY_METRES``, so comparing the names of every neighbouring pair takes
  minutes. Instead every live located place goes, once, into a temporary table with its
  normalised name and its point, indexed by one GiST index on both (geography, and
  ``gist_trgm_ops`` on the name); each place of the given providers then looks up the places
  that are near *and* have a similar name (the ``%`` operator, with
  ``pg_trgm.similarity_threshold`` set to ``NAME_SIMILARITY`` for the statement and restored
  after) in one index scan. The exact ``similarity`` and ``ST_DWithin`` conditions are checked
  again on what the index finds, so the index only narrows the search.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

NAME_SIMILARITY = 0.6
NEARBY_METRES = 250.0
# Above this many providers, the name-and-distance pass indexes every live place first.
BULK_PROVIDERS = 1000

_LIVE = "{t}.status <> 'archived' AND {t}.merged_into_id IS NULL"

_TAX_CODE = f"""
INSERT INTO duplicate_candidate (provider_a, provider_b, reason)
SELECT DISTINCT LEAST(a.id, b.id), GREATEST(a.id, b.id), 'tax_code'
FROM organization a
JOIN organization b ON b.tax_code = a.tax_code AND b.id <> a.id
WHERE a.tax_code IS NOT NULL AND a.id = ANY(:ids)
  AND {_LIVE.format(t="a")} AND {_LIVE.format(t="b")}
ON CONFLICT (provider_a, provider_b) DO NOTHING
"""

_NAME_NEARBY = f"""
INSERT INTO duplicate_candidate (provider_a, provider_b, reason, similarity, distance_m)
SELECT LEAST(a.id, b.id), GREATEST(a.id, b.id), 'name_nearby',
       max(similarity(ambrogio_unaccent(lower(a.name)), ambrogio_unaccent(lower(b.name)))),
       min(ST_Distance(la.geom::geography, lb.geom::geography))
FROM organization a
JOIN location la ON la.organization_id = a.id AND la.geom IS NOT NULL
JOIN location lb
  ON lb.organization_id <> a.id AND lb.geom IS NOT NULL
 AND ST_DWithin(lb.geom::geography, la.geom::geography, :metres)
JOIN organization b ON b.id = lb.organization_id
WHERE a.id = ANY(:ids)
  AND {_LIVE.format(t="a")} AND {_LIVE.format(t="b")}
  AND similarity(ambrogio_unaccent(lower(a.name)), ambrogio_unaccent(lower(b.name))) >= :similarity
GROUP BY 1, 2
ON CONFLICT (provider_a, provider_b) DO NOTHING
"""

# The bulk plan: every live located place, with its normalised name, in spatial order (the
# index scans of neighbouring places then touch the same pages).
_PLACES = f"""
CREATE TEMP TABLE dup_place ON COMMIT DROP AS
SELECT o.id, ambrogio_unaccent(lower(o.name)) AS name, l.geom::geography AS geog
FROM organization o
JOIN location l ON l.organization_id = o.id AND l.geom IS NOT NULL
WHERE {_LIVE.format(t="o")}
ORDER BY ST_GeoHash(l.geom)
"""

_PLACES_INDEX = (
    "CREATE INDEX dup_place_geog_name ON dup_place USING gist (geog, name gist_trgm_ops)",
    "ANALYZE dup_place",
)

_NAME_NEARBY_BULK = """
INSERT INTO duplicate_candidate (provider_a, provider_b, reason, similarity, distance_m)
SELECT LEAST(a.id, b.id), GREATEST(a.id, b.id), 'name_nearby',
       max(similarity(a.name, b.name)), min(ST_Distance(a.geog, b.geog))
FROM dup_place a
JOIN dup_place b
  ON b.name % a.name AND ST_DWithin(b.geog, a.geog, :metres) AND b.id <> a.id
WHERE a.id = ANY(:ids) AND similarity(a.name, b.name) >= :similarity
GROUP BY 1, 2
ON CONFLICT (provider_a, provider_b) DO NOTHING
"""

_THRESHOLD = "pg_trgm.similarity_threshold"


async def flag_duplicates(session: AsyncSession, provider_ids: Sequence[uuid.UUID]) -> int:
    """Flag the likely duplicates of these providers; returns how many new pairs were flagged."""
    if not provider_ids:
        return 0
    ids = list(dict.fromkeys(provider_ids))
    nearby = {"ids": ids, "metres": NEARBY_METRES, "similarity": NAME_SIMILARITY}
    result = await session.execute(text(_TAX_CODE), {"ids": ids})
    flagged = int(getattr(result, "rowcount", 0) or 0)
    if len(ids) <= BULK_PROVIDERS:
        result = await session.execute(text(_NAME_NEARBY), nearby)
        return flagged + int(getattr(result, "rowcount", 0) or 0)
    await session.execute(text(_PLACES))
    for statement in _PLACES_INDEX:
        await session.execute(text(statement))
    # The threshold of ``%``, for this statement only (``None``: pg_trgm not loaded yet).
    before = (
        await session.execute(text("SELECT current_setting(:name, true)"), {"name": _THRESHOLD})
    ).scalar_one()
    await session.execute(text(f"SET LOCAL {_THRESHOLD} = {NAME_SIMILARITY:.6f}"))
    result = await session.execute(text(_NAME_NEARBY_BULK), nearby)
    if before is None:
        await session.execute(text(f"SET LOCAL {_THRESHOLD} TO DEFAULT"))
    else:
        await session.execute(
            text("SELECT set_config(:name, :value, true)"), {"name": _THRESHOLD, "value": before}
        )
    await session.execute(text("DROP TABLE dup_place"))
    return flagged + int(getattr(result, "rowcount", 0) or 0)
