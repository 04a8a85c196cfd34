"""The reference values records may name, loaded once per request or import."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.db.models import Comune, TaxonomyTerm
from ambrogio.validation import Known


async def load_known(session: AsyncSession) -> Known:
    comuni = await session.execute(select(Comune.istat_code, Comune.caps))
    slugs = await session.execute(select(TaxonomyTerm.slug))
    return Known(
        comuni={code: tuple(caps or ()) for code, caps in comuni},
        categories=frozenset(slugs.scalars()),
    )
