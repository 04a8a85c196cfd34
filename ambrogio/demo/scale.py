"""Synthetic volume for benchmarks (``ambrogio demo-data --scale N``), generated inside PostGIS.

A million providers cannot go through Python row by row in minutes, so the rows are made by
``INSERT … SELECT`` over ``generate_series``. Every random draw happens once, in the first
statement, into a temporary table; the inserts that follow are pure functions of it. With
``setseed`` and no parallel workers (whose draws would interleave), the same seed gives the
same rows. Ids are ``uuid_generate_v5(NAMESPACE, 'scale:' || external_id)``, which equals
``ids.record_id("scale", external_id)``.

Each provider gets one location — a gaussian offset around the centroid of a comune drawn by
population, as in the demo — and one or two services, each with one sub-category, one cost
option, and a service_at_location row when it is delivered on site.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.db.session import create_engine, create_sessionmaker
from ambrogio.demo import archetypes as words
from ambrogio.demo.naming import named_delivery, named_groups, named_min_age
from ambrogio.demo.network import SERVICE_AREA_KM, price_step
from ambrogio.demo.purge import delete_source
from ambrogio.demo.records import BASE_TIME
from ambrogio.demo.territory import LANDWARD, places
from ambrogio.enums import TuirCategory
from ambrogio.ids import NAMESPACE
from ambrogio.progress import Report, silent
from ambrogio.reference import load_reference
from ambrogio.settings import Settings
from ambrogio.taxonomy import LEAVES

SOURCE = "scale"
# A comune appears in the draw once per this many inhabitants (at least once).
PEOPLE_PER_TICKET = 500
# Name prefixes and the legal form that goes with each.
PREFIXES = (
    ("Cooperativa Sociale", "social_cooperative"),
    ("Associazione", "association"),
    ("A.S.D.", "association"),
    ("Studio", "business"),
    ("Centro", "business"),
    ("Poliambulatorio", "business"),
    ("Asilo Nido", "business"),
    ("Fondazione", "third_sector"),
)
HOURS = (
    "Mo-Fr 08:30-12:30,14:00-18:00; Sa 09:00-12:00; PH off",
    "Mo-Fr 09:00-13:00,14:00-17:00; PH off",
    "Mo-Fr 07:30-18:00; PH off",
    "Tu,Th 15:00-19:00",
    "24/7",
)
TABLES = ("organization", "location", "service", "service_category", "cost_option",
          "service_at_location")  # fmt: skip


def _seed_value(seed: int) -> float:
    # setseed takes a double in [-1, 1]; any integer seed maps into it.
    return (seed % 1_000_003) / 1_000_003


def _places_params() -> dict[str, Any]:
    rows = places()
    return {
        "codes": [p.istat_code for p in rows],
        "caps": [p.cap for p in rows],
        "lons": [p.lon for p in rows],
        "lats": [p.lat for p in rows],
        "spreads": [p.spread_km for p in rows],
        "landward": [LANDWARD.get(p.name, "") for p in rows],
        "tickets": [max(1, round(p.population / PEOPLE_PER_TICKET)) for p in rows],
        "area_m": SERVICE_AREA_KM * 1000,
    }


def _leaves_params() -> dict[str, Any]:
    profiles = [(leaf, leaf.profile) for leaf in LEAVES if leaf.profile is not None]
    return {
        "term_ids": [leaf.id for leaf, _ in profiles],
        "tuirs": [leaf.tuir.value for leaf, _ in profiles],
        "names": [profile.service_names[0] for _, profile in profiles],
        "units": [profile.unit.value for _, profile in profiles],
        "price_mins": [profile.price_min for _, profile in profiles],
        "price_maxs": [profile.price_max for _, profile in profiles],
        # Text arrays of different lengths cannot form one 2-D array: joined, split in SQL.
        # What the name says overrules the profile (``ambrogio.demo.naming``).
        "deliveries": [
            ",".join(mode.value for mode in named_delivery(p.service_names[0], p.delivery))
            for _, p in profiles
        ],
        "groups": [
            ",".join(g.value for g in named_groups(p.service_names[0], p.target_groups))
            for _, p in profiles
        ],
        "min_ages": [named_min_age(p.service_names[0], p.min_age) for _, p in profiles],
        "max_ages": [profile.max_age for _, profile in profiles],
        "steps": [price_step(profile) for _, profile in profiles],
    }


SETUP_SQL = (
    # Parallel workers would each draw from their own random() state.
    "SET LOCAL max_parallel_workers_per_gather = 0",
    "SET LOCAL work_mem = '256MB'",
    """
    CREATE TEMP TABLE scale_place ON COMMIT DROP AS
    SELECT row_number() OVER (ORDER BY code)::int AS idx, code, cap, lon, lat, spread, landward,
           tickets, NULL::text[] AS area
    FROM unnest(CAST(:codes AS text[]), CAST(:caps AS text[]), CAST(:lons AS float8[]),
                CAST(:lats AS float8[]), CAST(:spreads AS float8[]), CAST(:landward AS text[]),
                CAST(:tickets AS int[])) AS t(code, cap, lon, lat, spread, landward, tickets)
    """,
    """
    UPDATE scale_place AS p SET area = (
        SELECT array_agg(o.code ORDER BY o.code) FROM scale_place AS o
        WHERE ST_DWithin(ST_MakePoint(p.lon, p.lat)::geography,
                         ST_MakePoint(o.lon, o.lat)::geography, :area_m))
    """,
    """
    CREATE TEMP TABLE scale_leaf ON COMMIT DROP AS
    SELECT ord::int AS idx, term_id, tuir, name, unit, price_min, price_max,
           step,
           string_to_array(deliveries, ',') AS delivery, string_to_array(groups, ',') AS groups,
           min_age, max_age
    FROM unnest(CAST(:term_ids AS uuid[]), CAST(:tuirs AS text[]), CAST(:names AS text[]),
                CAST(:units AS text[]), CAST(:price_mins AS float8[]),
                CAST(:price_maxs AS float8[]), CAST(:deliveries AS text[]),
                CAST(:groups AS text[]), CAST(:min_ages AS int[]), CAST(:max_ages AS int[]),
                CAST(:steps AS float8[]))
         WITH ORDINALITY AS t(term_id, tuir, name, unit, price_min, price_max, deliveries, groups,
                              min_age, max_age, step, ord)
    """,
)

# Every random() call of the whole load, in one materialized pass over generate_series.
PROVIDERS_SQL = """
CREATE TEMP TABLE scale_provider ON COMMIT DROP AS
WITH draw AS MATERIALIZED (
    SELECT n, random() AS r_place, 1 - random() AS u1, random() AS u2, random() AS r_prefix,
           random() AS r_word, random() AS r_leaf1, random() AS r_two, random() AS r_leaf2,
           random() AS r_price1, random() AS r_price2, random() AS r_delivery1,
           random() AS r_delivery2, random() AS r_lang, random() AS r_hours, random() AS r_status,
           random() AS r_wheelchair
    FROM generate_series(1, :n) AS n
), lottery AS (
    SELECT array_agg(idx ORDER BY idx, k) AS tickets, count(*)::int AS size
    FROM scale_place, generate_series(1, scale_place.tickets) AS k
), leaves AS (
    SELECT count(*)::int AS size FROM scale_leaf
), gauss AS (
    SELECT draw.*, p.code, p.cap, p.lon, p.lat, p.landward, leaves.size AS leaves,
           format('prov-%s', lpad(n::text, 7, '0')) AS ext,
           greatest(-2.0, least(2.0, sqrt(-2 * ln(u1)) * cos(2 * pi() * u2))) * p.spread AS dx,
           greatest(-2.0, least(2.0, sqrt(-2 * ln(u1)) * sin(2 * pi() * u2))) * p.spread AS dy
    FROM draw CROSS JOIN lottery CROSS JOIN leaves
    JOIN scale_place AS p ON p.idx = lottery.tickets[1 + floor(draw.r_place * lottery.size)::int]
)
SELECT n, ext, code, cap,
       uuid_generate_v5(CAST(:namespace AS uuid), 'scale:' || ext) AS org_id,
       uuid_generate_v5(CAST(:namespace AS uuid), 'scale:' || ext || '/loc-1') AS loc_id,
       round(CAST(lon + (CASE landward WHEN 'E' THEN abs(dx) WHEN 'W' THEN -abs(dx) ELSE dx END)
                  / (111.320 * cos(radians(lat))) AS numeric), 6)::float8 AS lon,
       round(CAST(lat + (CASE landward WHEN 'N' THEN abs(dy) WHEN 'S' THEN -abs(dy) ELSE dy END)
                  / 110.574 AS numeric), 6)::float8 AS lat,
       1 + floor(r_prefix * cardinality(CAST(:prefixes AS text[])))::int AS prefix,
       (CAST(:words AS text[]))[1 + floor(r_word * cardinality(CAST(:words AS text[])))::int]
           AS word,
       1 + floor(r_leaf1 * leaves)::int AS leaf1,
       CASE WHEN r_two < 0.4 THEN 1 + (floor(r_leaf1 * leaves)::int + 1
                                       + floor(r_leaf2 * (leaves - 1))::int) % leaves END AS leaf2,
       r_price1, r_price2, r_delivery1, r_delivery2,
       CASE WHEN r_lang < 0.9 THEN '{it}'::text[] ELSE '{it,en}'::text[] END AS languages,
       (CAST(:hours AS text[]))[1 + floor(r_hours * cardinality(CAST(:hours AS text[])))::int]
           AS opening_hours,
       CASE WHEN r_status < 0.02 THEN 'draft' ELSE 'published' END AS status,
       CASE WHEN r_wheelchair < 0.7 THEN true WHEN r_wheelchair < 0.9 THEN false END AS wheelchair,
       CAST(:base AS timestamptz) - make_interval(days => 30 + n % 691, mins => n % 600)
           AS created_at
FROM gauss
"""

SERVICES_SQL = """
CREATE TEMP TABLE scale_service ON COMMIT DROP AS
SELECT p.org_id, p.loc_id, p.ext || '/svc-' || s.k AS ext,
       uuid_generate_v5(CAST(:namespace AS uuid), 'scale:' || p.ext || '/svc-' || s.k) AS id,
       l.term_id, l.tuir, l.name, l.unit, l.groups, l.min_age, l.max_age, p.languages, p.status,
       p.created_at,
       CASE WHEN s.r_delivery < 0.35 THEN l.delivery ELSE l.delivery[1:1] END AS delivery,
       round(CAST((l.price_min + s.r_price * (l.price_max - l.price_min)) / l.step AS numeric))
           * l.step AS amount,
       p.code
FROM scale_provider AS p
CROSS JOIN LATERAL (
    VALUES (1, p.leaf1, p.r_price1, p.r_delivery1), (2, p.leaf2, p.r_price2, p.r_delivery2)
) AS s(k, leaf, r_price, r_delivery)
JOIN scale_leaf AS l ON l.idx = s.leaf
"""

INSERTS_SQL = (
    """
    INSERT INTO organization (id, name, kind, source, external_id, created_at, updated_at,
                              version, status)
    SELECT org_id, (CAST(:prefixes AS text[]))[prefix] || ' ' || word,
           (CAST(:kinds AS text[]))[prefix], 'scale', ext, created_at, created_at, 1, status
    FROM scale_provider
    """,
    """
    INSERT INTO location (id, organization_id, name, geom, geocode_precision, address, cap,
                          comune_istat, wheelchair_accessible, opening_hours, source,
                          external_id, created_at, updated_at, version, status)
    SELECT loc_id, org_id, 'Sede', ST_SetSRID(ST_MakePoint(lon, lat), 4326), 'address',
           'Via Roma, ' || (1 + n % 150), cap, code, wheelchair, opening_hours, 'scale',
           ext || '/loc-1', created_at, created_at, 1, status
    FROM scale_provider
    """,
    """
    INSERT INTO service (id, organization_id, name, welfare_eligible, tuir_category,
                         target_groups, min_age, max_age, languages, delivery,
                         service_area_comuni, source, external_id, created_at, updated_at,
                         version, status)
    SELECT id, org_id, name, tuir <> :no_tuir, tuir, groups, min_age, max_age, languages,
           delivery, CASE WHEN 'at_home' = ANY(delivery) THEN area ELSE '{}' END, 'scale', ext,
           created_at, created_at, 1, status
    FROM scale_service JOIN scale_place USING (code)
    """,
    "INSERT INTO service_category (service_id, term_id) SELECT id, term_id FROM scale_service",
    """
    INSERT INTO cost_option (id, service_id, amount, currency, unit)
    SELECT uuid_generate_v5(CAST(:namespace AS uuid), 'scale:' || ext || '/cost-1'), id,
           amount, 'EUR', unit
    FROM scale_service
    """,
    """
    INSERT INTO service_at_location (id, service_id, location_id)
    SELECT uuid_generate_v5(CAST(:namespace AS uuid), 'scale:' || ext || '@loc-1'), id, loc_id
    FROM scale_service WHERE 'on_site' = ANY(delivery)
    """,
)


async def _count(session: AsyncSession) -> int:
    query = text("SELECT count(*) FROM organization WHERE source = :source")
    return int(await session.scalar(query, {"source": SOURCE}) or 0)


def _params(n: int) -> dict[str, Any]:
    return {
        "n": n,
        "namespace": str(NAMESPACE),
        "base": BASE_TIME,
        "prefixes": [prefix for prefix, _ in PREFIXES],
        "kinds": [kind for _, kind in PREFIXES],
        "words": [*words.COOP_NAMES, *words.SURNAMES],
        "hours": list(HOURS),
        "no_tuir": TuirCategory.NONE.value,
        **_places_params(),
        **_leaves_params(),
    }


async def _generate(session: AsyncSession, n: int, seed: int, progress: Report) -> None:
    params = _params(n)
    for statement in SETUP_SQL:
        await session.execute(text(statement), params)
    await session.execute(text("SELECT setseed(:seed)"), {"seed": _seed_value(seed)})
    statements = (PROVIDERS_SQL, SERVICES_SQL, *INSERTS_SQL)
    for done, statement in enumerate(statements):
        progress(GENERATING, done, len(statements))
        await session.execute(text(statement), params)
    progress(GENERATING, len(statements), len(statements))


GENERATING = "generating (statements)"


async def load_scale(settings: Settings, n: int, seed: int, progress: Report = silent) -> int:
    """Replace the synthetic providers with ``n`` new ones (0 removes them); return ``n``.

    Nothing is done when exactly ``n`` are already there. One transaction: a failure leaves
    the previous set in place.
    """
    if n < 0:
        raise ValueError("the number of synthetic providers cannot be negative")
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            async with session.begin():
                await load_reference(session)
                if await _count(session) == n:
                    return n
                await delete_source(session, SOURCE)
                if n:
                    await _generate(session, n, seed, progress)
            # Fresh statistics, or the planner takes a million rows for an empty table.
            progress("analyzing", 0, None)
            async with engine.connect() as connection:
                await connection.execute(text(f"ANALYZE {', '.join(TABLES)}"))
                await connection.commit()
        return n
    finally:
        await engine.dispose()
