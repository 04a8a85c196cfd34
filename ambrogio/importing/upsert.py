"""Writing validated records: COPY into staging tables, then one set-based merge per table.

Everything happens in the caller's transaction. The records go into TEMP tables (dropped at
commit) with asyncpg's binary COPY, then each catalogue table gets one
``INSERT … ON CONFLICT (source, external_id) DO UPDATE … WHERE (row) IS DISTINCT FROM (new
row)``: a record whose imported fields are unchanged is not touched at all (its ``version`` and
``updated_at`` stay), a changed one gets ``version + 1``. ``RETURNING (xmax = 0)`` tells an
insert from an update. A service's categories, cost options and locations are compared as
sets and replaced, set-based, for the services where they differ; such a service counts as
changed (version bumped; ``prices_changed_at`` when its prices changed).

Only the profile's fields are written: columns the profile does not carry keep what editors
put there. The RUNTS id, a location's name, wheelchair access and accessibility are written
when the file gives them; a file that leaves them out keeps the catalogue's (so files that
never knew them do not erase an editor's work). New records get ``status`` from the
caller (published); an update never changes a record's status, so re-importing does not bring
back what a reviewer archived. Records of the source that are missing from the file are left
as they are: an import adds and updates, it never deletes.

A provider merged into another (``mergeProviders``) stays merged: what the file says of its
places and services goes to the provider that absorbed it.

Counts are per provider: created (its organization row is new), updated (it, or any of its
locations, services, categories, prices or service locations changed), unchanged (the rest).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.ids import NAMESPACE, record_id
from ambrogio.importing.validate import (
    LocationRecord,
    ProviderRecord,
    ServiceRecord,
    Validated,
    external_slug,
)

STAGING = (
    """
    CREATE TEMP TABLE imp_org (
        id uuid, external_id text, name text, kind text, tax_code text, description text,
        email text, phone text, website text, runts_id text
    ) ON COMMIT DROP
    """,
    """
    CREATE TEMP TABLE imp_loc (
        id uuid, organization_id uuid, external_id text, address text, cap text,
        comune_istat text, opening_hours text, lat float8, lon float8, precision text,
        outside boolean, comune_precision text, name text, wheelchair_accessible boolean,
        accessibility text
    ) ON COMMIT DROP
    """,
    """
    CREATE TEMP TABLE imp_svc (
        id uuid, organization_id uuid, external_id text, name text, description text,
        welfare_eligible boolean, tuir_category text, target_groups text[], min_age int,
        max_age int, languages text[], delivery text[], service_area bytea,
        service_area_comuni text[]
    ) ON COMMIT DROP
    """,
    "CREATE TEMP TABLE imp_cat (service_id uuid, slug text) ON COMMIT DROP",
    "CREATE TEMP TABLE imp_cost (id uuid, service_id uuid, amount numeric, unit text, "
    "description text) "
    "ON COMMIT DROP",
    "CREATE TEMP TABLE imp_sal (service_id uuid, location_id uuid) ON COMMIT DROP",
    # What the merge did: one row per record inserted or updated, by kind.
    "CREATE TEMP TABLE imp_changed (kind text, id uuid, organization_id uuid, inserted boolean) "
    "ON COMMIT DROP",
    # The providers whose search documents the merge's statements made stale (migration 0024).
    "CREATE TEMP TABLE provider_search_pending (id uuid) ON COMMIT DROP",
)

ORG_COLUMNS = ("name", "kind", "tax_code", "description", "email", "phone", "website")
# Columns written only when the file gives them (not null): a file without them keeps them.
ORG_GIVEN = ("runts_id",)
LOC_GIVEN = ("name", "wheelchair_accessible", "accessibility")
SVC_COLUMNS = (
    "name",
    "description",
    "welfare_eligible",
    "tuir_category",
    "target_groups",
    "min_age",
    "max_age",
    "languages",
    "delivery",
    "service_area",
    "service_area_comuni",
)


def _distinct(columns: tuple[str, ...], new: str = "excluded") -> str:
    return (
        f"({', '.join(f't.{c}' for c in columns)}) IS DISTINCT FROM "
        f"({', '.join(f'{new}.{c}' for c in columns)})"
    )


def _set(columns: tuple[str, ...]) -> str:
    return ", ".join(f"{c} = excluded.{c}" for c in columns)


def _kept(columns: tuple[str, ...], new: str = "excluded") -> list[str]:
    return [f"coalesce({new}.{c}, t.{c})" for c in columns]


def _given_set(columns: tuple[str, ...]) -> str:
    """SET items for columns that the file may leave out (null): a null keeps the value."""
    return ", ".join(f"{c} = {v}" for c, v in zip(columns, _kept(columns), strict=True))


def _given_changed(columns: tuple[str, ...], new: str = "excluded") -> str:
    olds = ", ".join(f"t.{c}" for c in columns)
    return f"({olds}) IS DISTINCT FROM ({', '.join(_kept(columns, new))})"


@dataclass(frozen=True)
class _Merge:
    """One catalogue table's merge from its staging table (see ``_merge_statement``)."""

    kind: str
    table: str
    staged: str
    # Catalogue column -> its value, an expression over the staged row ``i``.
    values: dict[str, str]
    # The columns whose difference makes an update, and those written only when given.
    compared: tuple[str, ...]
    given: tuple[str, ...]
    # Further SET items of an update, and a condition a stored row must meet to be updated.
    also_set: str = ""
    guard: str = "true"
    # The provider a row belongs to (for the counts).
    owner: str = "t.organization_id"


def _changed(merge: _Merge, new: str) -> str:
    test = _distinct(merge.compared, new)
    if merge.given:
        test = f"{test} OR {_given_changed(merge.given, new)}"
    return test if merge.guard == "true" else f"{merge.guard} AND ({test})"


def _merge_statement(merge: _Merge) -> str:
    """``INSERT … ON CONFLICT (source, external_id) DO UPDATE … WHERE changed``, with the rows
    that would not change left out first: ON CONFLICT locks (and so writes) every row it
    meets, even one its WHERE then leaves alone, which made a re-import of an unchanged file
    rewrite every page of the catalogue."""
    columns = ", ".join(merge.values)
    values = ", ".join(f"{value} AS {column}" for column, value in merge.values.items())
    sets = ", ".join(
        item
        for item in (
            _set(merge.compared),
            _given_set(merge.given) if merge.given else "",
            merge.also_set,
            "version = t.version + 1, updated_at = now()",
        )
        if item
    )
    return f"""
    WITH src AS (SELECT {values} FROM {merge.staged} i),
    fresh AS (
        SELECT s.* FROM src s
        WHERE NOT EXISTS (
            SELECT 1 FROM {merge.table} t
            WHERE t.source = s.source AND t.external_id = s.external_id
              AND NOT ({_changed(merge, "s")})
        )
    ), up AS (
        INSERT INTO {merge.table} AS t ({columns})
        SELECT {columns} FROM fresh
        ON CONFLICT (source, external_id) DO UPDATE SET {sets}
        WHERE {_changed(merge, "excluded")}
        RETURNING t.id, {merge.owner} AS organization_id, (t.xmax = 0) AS inserted
    )
    INSERT INTO imp_changed SELECT '{merge.kind}', id, organization_id, inserted FROM up
    """


def _common(*columns: str) -> dict[str, str]:
    return {c: f"i.{c}" for c in columns}


_PROVENANCE = {
    "id": "i.id",
    "source": "CAST(:source AS text)",
    "external_id": "i.external_id",
    "status": "CAST(:status AS text)",
}

MERGE_ORG = _merge_statement(
    _Merge(
        kind="provider",
        table="organization",
        staged="imp_org",
        values={**_PROVENANCE, **_common(*ORG_COLUMNS, *ORG_GIVEN)},
        compared=ORG_COLUMNS,
        given=ORG_GIVEN,
        guard="t.merged_into_id IS NULL",
        owner="t.id",
    )
)

LOC_COLUMNS = (
    "address",
    "cap",
    "comune_istat",
    "opening_hours",
    "geom",
    "geocode_precision",
    "outside_territory",
    "comune_precision",
)

MERGE_LOC = _merge_statement(
    _Merge(
        kind="location",
        table="location",
        staged="imp_loc",
        values={
            **_PROVENANCE,
            "organization_id": "i.organization_id",
            "hours_changed_at": "CASE WHEN i.opening_hours IS NOT NULL THEN now() END",
            **_common("address", "cap", "comune_istat", "opening_hours"),
            "geom": "CASE WHEN i.lat IS NOT NULL "
            "THEN ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326) END",
            "geocode_precision": "i.precision",
            "outside_territory": "coalesce(i.outside, false)",
            "comune_precision": "i.comune_precision",
            **_common(*LOC_GIVEN),
        },
        compared=(*LOC_COLUMNS, "organization_id"),
        given=LOC_GIVEN,
        also_set="hours_changed_at = CASE WHEN t.opening_hours IS DISTINCT FROM "
        "excluded.opening_hours THEN now() ELSE t.hours_changed_at END",
    )
)

MERGE_SVC = _merge_statement(
    _Merge(
        kind="service",
        table="service",
        staged="imp_svc",
        values={
            **_PROVENANCE,
            "organization_id": "i.organization_id",
            "prices_changed_at": "now()",
            **_common(*SVC_COLUMNS[:-2]),  # the area, last, needs casting
            "service_area": "ST_GeomFromWKB(i.service_area, 4326)",
            "service_area_comuni": "CAST(i.service_area_comuni AS varchar(6)[])",
        },
        compared=(*SVC_COLUMNS, "organization_id"),
        given=(),
    )
)

EXTERNAL_TERMS = """
INSERT INTO taxonomy_term (id, slug, vocabulary, label_it, label_en, source, external_id, status)
SELECT id, slug, vocabulary, name, name, 'vocabulary:' || vocabulary, code, 'published'
FROM unnest(CAST(:ids AS uuid[]), CAST(:slugs AS text[]), CAST(:vocabularies AS text[]),
            CAST(:codes AS text[]), CAST(:names AS text[])) AS t(id, slug, vocabulary, code, name)
ON CONFLICT DO NOTHING
"""


def _prices(alias: str, tables: str) -> str:
    """Each service's prices, as compared between the file and the catalogue (all in EUR)."""
    price = (
        f"concat_ws(' ', coalesce({alias}.amount::text, ''), {alias}.unit, "
        f"coalesce({alias}.description, ''))"
    )
    return (
        f"SELECT {alias}.service_id, array_agg({price} ORDER BY {price}) AS items "
        f"FROM {tables} GROUP BY 1"
    )


# Services whose set of children differs from the file's: (kind, the wanted set, the stored set).
_CHILD_SETS = {
    "categories": (
        "SELECT c.service_id, array_agg(DISTINCT tt.id::text) AS items FROM imp_cat c "
        "JOIN taxonomy_term tt ON tt.slug = c.slug GROUP BY 1",
        "SELECT x.service_id, array_agg(x.term_id::text ORDER BY x.term_id::text) AS items "
        "FROM service_category x JOIN imp_svc s ON s.id = x.service_id GROUP BY 1",
    ),
    "prices": (
        _prices("i", "imp_cost i"),
        _prices("x", "cost_option x JOIN imp_svc s ON s.id = x.service_id"),
    ),
    "locations": (
        "SELECT service_id, array_agg(location_id::text ORDER BY location_id::text) AS items "
        "FROM imp_sal GROUP BY 1",
        "SELECT x.service_id, array_agg(x.location_id::text ORDER BY x.location_id::text) "
        "AS items FROM service_at_location x JOIN imp_svc s ON s.id = x.service_id GROUP BY 1",
    ),
}


def _changed_children(kind: str) -> str:
    want, have = _CHILD_SETS[kind]
    return f"""
    INSERT INTO imp_changed
    SELECT '{kind}', s.id, s.organization_id, false
    FROM imp_svc s
    LEFT JOIN ({want}) w ON w.service_id = s.id
    LEFT JOIN ({have}) h ON h.service_id = s.id
    WHERE coalesce(w.items, '{{}}') IS DISTINCT FROM coalesce(h.items, '{{}}')
    """


# The categories' wanted set is sorted by the aggregate's DISTINCT; both sides compare sorted.
REPLACE_CHILDREN = (
    "DELETE FROM service_category x USING imp_changed c "
    "WHERE c.kind = 'categories' AND x.service_id = c.id",
    "INSERT INTO service_category (service_id, term_id) "
    "SELECT DISTINCT i.service_id, tt.id FROM imp_cat i JOIN taxonomy_term tt ON tt.slug = i.slug "
    "JOIN imp_changed c ON c.kind = 'categories' AND c.id = i.service_id",
    "DELETE FROM cost_option x USING imp_changed c WHERE c.kind = 'prices' AND x.service_id = c.id",
    "INSERT INTO cost_option (id, service_id, amount, currency, unit, description) "
    "SELECT i.id, i.service_id, i.amount, 'EUR', i.unit, i.description FROM imp_cost i "
    "JOIN imp_changed c ON c.kind = 'prices' AND c.id = i.service_id",
    "DELETE FROM service_at_location x USING imp_changed c "
    "WHERE c.kind = 'locations' AND x.service_id = c.id",
    "INSERT INTO service_at_location (id, service_id, location_id) "
    "SELECT uuid_generate_v5(CAST(:namespace AS uuid), i.service_id::text || '@' || "
    "i.location_id::text), i.service_id, i.location_id FROM imp_sal i "
    "JOIN imp_changed c ON c.kind = 'locations' AND c.id = i.service_id",
    # A service whose children changed is a changed service, unless the merge already said so.
    """
    UPDATE service x SET version = x.version + 1, updated_at = now()
    WHERE x.id IN (SELECT id FROM imp_changed WHERE kind IN ('categories', 'prices', 'locations'))
      AND x.id NOT IN (SELECT id FROM imp_changed WHERE kind = 'service')
    """,
    # New services got theirs when inserted.
    "UPDATE service x SET prices_changed_at = now() "
    "FROM (SELECT DISTINCT id FROM imp_changed WHERE kind = 'prices') AS p WHERE p.id = x.id "
    "AND x.id NOT IN (SELECT id FROM imp_changed WHERE kind = 'service' AND inserted)",
)

# A provider a reviewer merged into another keeps its row, archived, and the file's later
# versions of it are the survivor's: its places and services go there, its own row is not
# rewritten (``MERGE_ORG``), and it counts as the survivor does.
REDIRECT_MERGED = tuple(
    f"UPDATE {table} x SET organization_id = o.merged_into_id FROM organization o "
    "WHERE o.id = x.organization_id AND o.merged_into_id IS NOT NULL"
    for table in ("imp_loc", "imp_svc")
)

COUNTS = """
WITH touched AS (
    SELECT organization_id, bool_or(kind = 'provider' AND inserted) AS created
    FROM imp_changed GROUP BY 1
), target AS (
    SELECT coalesce(m.merged_into_id, o.id) AS id
    FROM imp_org o LEFT JOIN organization m ON m.id = o.id
)
SELECT
    count(*) FILTER (WHERE t.created) AS created,
    count(*) FILTER (WHERE NOT t.created) AS updated,
    count(*) FILTER (WHERE t.organization_id IS NULL) AS unchanged,
    coalesce(array_agg(o.id) FILTER (WHERE t.organization_id IS NOT NULL), '{}') AS changed_ids
FROM target o LEFT JOIN touched t ON t.organization_id = o.id
"""


# Whether the merge's statements leave the search documents to one refresh at their end
# (migration 0024). Off, each statement's triggers refresh them, as for any other write: the
# same documents, built once per statement that touched them.
DEFER_SEARCH = True


@dataclass
class MergeCounts:
    created: int
    updated: int
    unchanged: int
    # Providers created or updated: the ones to check for duplicates.
    changed_ids: list[uuid.UUID]


# The staging tables' columns, in the order of the rows below.
ORG_STAGED = ("id", "external_id", *ORG_COLUMNS, *ORG_GIVEN)
LOC_STAGED = (
    "id", "organization_id", "external_id", "address", "cap", "comune_istat", "opening_hours",
    "lat", "lon", "precision", "outside", "comune_precision", *LOC_GIVEN,
)  # fmt: skip
SVC_STAGED = ("id", "organization_id", "external_id", *SVC_COLUMNS)
COST_STAGED = ("id", "service_id", "amount", "unit", "description")


async def _copy(
    raw: Any, table: str, columns: tuple[str, ...], records: list[tuple[Any, ...]]
) -> None:
    if records:
        await raw.copy_records_to_table(table, records=records, columns=list(columns))


async def stage(session: AsyncSession, records: Validated) -> None:
    """Create the staging tables and COPY the records into them."""
    for statement in STAGING:
        await session.execute(text(statement))
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    services = list(records.services.values())
    await _copy(raw, "imp_org", ORG_STAGED, _organization_rows(records.providers.values()))
    await _copy(raw, "imp_loc", LOC_STAGED, _location_rows(records.locations.values()))
    await _copy(raw, "imp_svc", SVC_STAGED, _service_rows(services))
    await _copy(raw, "imp_cat", ("service_id", "slug"), _category_rows(services))
    await _copy(raw, "imp_cost", COST_STAGED, _cost_rows(services))
    await _copy(raw, "imp_sal", ("service_id", "location_id"), _service_location_rows(services))
    await session.execute(text("ANALYZE imp_org, imp_loc, imp_svc, imp_cat, imp_cost, imp_sal"))


def _organization_rows(providers: Iterable[ProviderRecord]) -> list[tuple[Any, ...]]:
    return [
        (
            p.id,
            p.external_id,
            p.name,
            p.kind,
            p.tax_code,
            p.description,
            p.email,
            p.phone,
            p.website,
            p.runts_id,
        )
        for p in providers
    ]


def _location_rows(locations: Iterable[LocationRecord]) -> list[tuple[Any, ...]]:
    return [
        (
            x.id,
            x.provider_id,
            x.external_id,
            x.address,
            x.cap,
            x.comune_istat,
            x.opening_hours,
            x.lat,
            x.lon,
            x.precision,
            x.outside_territory,
            x.comune_precision,
            x.name,
            x.wheelchair_accessible,
            x.accessibility,
        )
        for x in locations
    ]


def _service_rows(services: Iterable[ServiceRecord]) -> list[tuple[Any, ...]]:
    return [
        (
            s.id,
            s.provider_id,
            s.external_id,
            s.name,
            s.description,
            s.welfare_eligible,
            s.tuir_category,
            s.target_groups,
            s.min_age,
            s.max_age,
            s.languages,
            s.delivery,
            shapely.to_wkb(s.service_area) if s.service_area is not None else None,
            s.service_area_comuni,
        )
        for s in services
    ]


def _category_rows(services: Iterable[ServiceRecord]) -> list[tuple[Any, ...]]:
    return [
        (s.id, slug)
        for s in services
        for slug in [*s.categories, *(external_slug(v, c) for v, c, _ in s.external_terms)]
    ]


def _cost_rows(services: Iterable[ServiceRecord]) -> list[tuple[Any, ...]]:
    return [
        (_cost_id(s.id, index), s.id, amount, unit, description)
        for s in services
        for index, (amount, unit, description) in enumerate(s.costs)
    ]


def _service_location_rows(services: Iterable[ServiceRecord]) -> list[tuple[Any, ...]]:
    return [(s.id, location_id) for s in services if s.on_site for location_id in s.location_ids]


def _cost_id(service_id: uuid.UUID, index: int) -> uuid.UUID:
    return uuid.uuid5(service_id, "cost" if index == 0 else f"cost/{index}")


async def _external_terms(session: AsyncSession, records: Validated) -> None:
    terms = {
        (vocabulary, code): name
        for service in records.services.values()
        for vocabulary, code, name in service.external_terms
    }
    if not terms:
        return
    keys = sorted(terms)
    await session.execute(
        text(EXTERNAL_TERMS),
        {
            "ids": [record_id(f"vocabulary:{v}", c) for v, c in keys],
            "slugs": [external_slug(v, c) for v, c in keys],
            "vocabularies": [v for v, _ in keys],
            "codes": [c for _, c in keys],
            "names": [terms[key] for key in keys],
        },
    )


async def merge(session: AsyncSession, records: Validated, source: str, status: str) -> MergeCounts:
    """Stage and merge ``records`` in the session's transaction; the per-provider counts."""
    await session.execute(text("SET LOCAL work_mem = '256MB'"))
    # Statements over whole staging tables cost far above jit_above_cost, and compiling each
    # took longer than it saves on rows that are read once.
    await session.execute(text("SET LOCAL jit = off"))
    # The merge's own writes keep the providers' import digests (``importing.digests``).
    await session.execute(text("SELECT set_config('ambrogio.importing', 'on', true)"))
    await stage(session, records)
    if DEFER_SEARCH:
        await session.execute(text("SELECT set_config('ambrogio.search_deferred', 'on', true)"))
    await _external_terms(session, records)
    params = {"source": source, "status": status}
    for statement in REDIRECT_MERGED:
        await session.execute(text(statement))
    for statement in (MERGE_ORG, MERGE_LOC, MERGE_SVC):
        await session.execute(text(statement), params)
    for kind in _CHILD_SETS:
        await session.execute(text(_changed_children(kind)))
    await session.execute(text("ANALYZE imp_changed"))
    for statement in REPLACE_CHILDREN:
        await session.execute(text(statement), {"namespace": str(NAMESPACE)})
    if DEFER_SEARCH:
        await session.execute(text("SELECT set_config('ambrogio.search_deferred', 'off', true)"))
        await session.execute(text("SELECT ambrogio_flush_provider_search()"))
    row = (await session.execute(text(COUNTS))).one()
    await session.execute(text("SELECT set_config('ambrogio.importing', 'off', true)"))
    return MergeCounts(
        int(row.created), int(row.updated), int(row.unchanged), list(row.changed_ids)
    )
