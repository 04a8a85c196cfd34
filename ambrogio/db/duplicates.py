"""Flagging likely duplicate providers, set-based, for the import and the editing mutations.

Two providers are likely one when they share a tax code, or when their names are similar
(trigram ``similarity`` of the unaccented, lower-case names at least ``NAME_SIMILARITY``) and
two of their locations are within ``NEARBY_METRES``. Pairs are stored once, ordered, and a pair
a reviewer dismissed is not flagged again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

NAME_SIMILARITY = 0.6
NEARBY_METRES = 250.0

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


async def flag_duplicates(session: AsyncSession, provider_ids: Sequence[uuid.UUID]) -> int:
    """Flag the likely duplicates of these providers; returns how many new pairs were flagged."""
    if not provider_ids:
        return 0
    ids = list(provider_ids)
    flagged = 0
    for statement, params in (
        (_TAX_CODE, {"ids": ids}),
        (_NAME_NEARBY, {"ids": ids, "metres": NEARBY_METRES, "similarity": NAME_SIMILARITY}),
    ):
        result = await session.execute(text(statement), params)
        flagged += int(getattr(result, "rowcount", 0) or 0)
    return flagged
