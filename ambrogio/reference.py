"""Reference data every database needs: the comuni (gazetteer) and the welfare taxonomy.

``load_reference`` is an idempotent upsert: run after every migration, it inserts what is
missing and rewrites only rows whose values changed (their ``updated_at`` moves; the others'
does not). It never deletes: locations and services refer to these rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Table, Text, bindparam, func, literal, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.db.models import SRID, Comune, TaxonomyTerm
from ambrogio.enums import Status
from ambrogio.geo.gazetteer import italy_comuni
from ambrogio.taxonomy import TERMS, VOCABULARY, Term, term_id

SOURCE = "ambrogio"

_COMUNE: Table = Comune.__table__  # type: ignore[assignment]
_TERM: Table = TaxonomyTerm.__table__  # type: ignore[assignment]


def _upsert(table: Table, key: str, columns: Sequence[str], **extra: Any) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE of ``columns``, only where a value differs."""
    stmt = insert(table).values(**extra)
    current = tuple_(*(table.c[name] for name in columns))
    proposed = tuple_(*(stmt.excluded[name] for name in columns))
    changes: dict[str, Any] = {name: stmt.excluded[name] for name in columns}
    changes["updated_at"] = func.now()
    if "version" in table.c:
        changes["version"] = table.c.version + 1
    return stmt.on_conflict_do_update(
        index_elements=[key], set_=changes, where=current.is_distinct_from(proposed)
    )


async def _load_comuni(session: AsyncSession) -> None:
    rows = [
        {
            "istat_code": comune.istat_code,
            "name": comune.name,
            "province_code": comune.province_code,
            "cadastral_code": comune.cadastral_code,
            "caps": list(comune.caps),
            "lon": comune.lon,
            "lat": comune.lat,
            "centroid_source": comune.centroid_source,
            "centroid_missing_reason": comune.centroid_missing_reason,
            "province_name": comune.province_name,
            "region_code": comune.region_code,
            "region_name": comune.region_name,
            "wkt": comune.boundary_wkt,
            "boundary_source": comune.boundary_source,
        }
        for comune in italy_comuni()
    ]
    # ST_MakePoint(NULL, NULL) is NULL: a comune without coordinates gets no centroid.
    centroid = func.ST_SetSRID(
        func.ST_MakePoint(bindparam("lon", type_=Float), bindparam("lat", type_=Float)), SRID
    )
    boundary = func.ST_GeomFromText(bindparam("wkt", type_=Text), SRID)
    columns = (
        "name",
        "province_code",
        "cadastral_code",
        "caps",
        "centroid",
        "centroid_source",
        "centroid_missing_reason",
        "province_name",
        "region_code",
        "region_name",
        "boundary",
        "boundary_source",
    )
    stmt = _upsert(_COMUNE, "istat_code", columns, centroid=centroid, boundary=boundary)
    await session.execute(stmt, rows)


def _term_row(term: Term) -> dict[str, Any]:
    return {
        "id": term.id,
        "slug": term.slug,
        "parent_id": None if term.parent is None else term_id(term.parent),
        "label_it": term.label_it,
        "label_en": term.label_en,
        "tuir_category": term.tuir.value,
        "position": term.position,
        "external_id": term.slug,
        "synonyms": list(term.synonyms),
    }


async def _load_taxonomy(session: AsyncSession) -> None:
    columns = (
        "slug",
        "parent_id",
        "vocabulary",
        "label_it",
        "label_en",
        "tuir_category",
        "position",
        "source",
        "external_id",
        "status",
        "synonyms",
    )
    stmt = _upsert(
        _TERM,
        "id",
        columns,
        vocabulary=literal(VOCABULARY),
        source=literal(SOURCE),
        status=literal(Status.PUBLISHED.value),
    )
    # Roots in one statement, then their children: the parent exists before any child.
    roots = [_term_row(term) for term in TERMS if term.parent is None]
    children = [_term_row(term) for term in TERMS if term.parent is not None]
    for rows in (roots, children):
        await session.execute(stmt, rows)


async def load_reference(session: AsyncSession) -> None:
    """Upsert every comune of Italy and the taxonomy; the caller commits."""
    await _load_comuni(session)
    await _load_taxonomy(session)
