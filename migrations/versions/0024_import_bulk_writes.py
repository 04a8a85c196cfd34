"""bulk writes: search documents refreshed once at the end, map grid cells summed set-based

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 14:20:00

Search documents. The search triggers of 0013 refresh the documents of the providers each statement touched. An
import writes the same providers in several statements (their rows, their services, the
services' categories), so each document was built, and its two GIN indexes written, once per
statement: three times for a new provider. The triggers now go through
``ambrogio_provider_search_written(ids)``: while the transaction's ``ambrogio.search_deferred``
is ``on``, it only notes the ids in the session's temporary table ``provider_search_pending``,
and the writer refreshes them in one call when its statements are done
(``ambrogio_flush_provider_search()``). A document is a function of what the catalogue holds,
so the refresh at the end builds what the last per-statement refresh would have built.

Map grid. ``ambrogio_map_grid_sum`` (0020) summed each cell to redo with its own index scans
(two per cell, and one per point at zoom 17 to tell whether its provider has points in other
cells): tens of microseconds a cell, most of a large import's commit. It now sums all of a
level's cells in one pass over their points (zoom 17) or children, and tells the providers with
points in other cells of the level from one grouping of their points (the least and greatest
cell differ). The same rows; ``shared`` holds the same providers.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROUTER = """
CREATE FUNCTION ambrogio_provider_search_written(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('ambrogio.search_deferred', true) = 'on' THEN
        INSERT INTO pg_temp.provider_search_pending (id) SELECT unnest(ids);
    ELSE
        PERFORM ambrogio_refresh_provider_search(ids);
    END IF;
END;
$$
"""

FLUSH = """
CREATE FUNCTION ambrogio_flush_provider_search() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ambrogio_refresh_provider_search(ARRAY(
        SELECT DISTINCT id FROM pg_temp.provider_search_pending));
    DELETE FROM pg_temp.provider_search_pending;
END;
$$
"""

# 0013's trigger functions, with the function they call for the ids as ``{refresh}``.
TRIGGER_FUNCTIONS = (
    """
CREATE OR REPLACE FUNCTION ambrogio_provider_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM {refresh}(ARRAY(SELECT id FROM new_rows));
    ELSE
        PERFORM {refresh}(ARRAY(
            SELECT n.id FROM new_rows AS n JOIN old_rows AS o USING (id)
            WHERE (n.name, n.description) IS DISTINCT FROM (o.name, o.description)));
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE OR REPLACE FUNCTION ambrogio_service_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM {refresh}(ARRAY(
            SELECT DISTINCT organization_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM {refresh}(ARRAY(
            SELECT DISTINCT organization_id FROM old_rows));
    ELSE
        PERFORM {refresh}(ARRAY(
            SELECT unnest(ARRAY[n.organization_id, o.organization_id])
            FROM new_rows AS n JOIN old_rows AS o USING (id)
            WHERE (n.name, n.description, n.status, n.organization_id)
                  IS DISTINCT FROM (o.name, o.description, o.status, o.organization_id)));
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE OR REPLACE FUNCTION ambrogio_service_category_written() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM {refresh}(ARRAY(
            SELECT DISTINCT s.organization_id
            FROM service AS s WHERE s.id IN (SELECT service_id FROM new_rows)));
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM {refresh}(ARRAY(
            SELECT DISTINCT s.organization_id
            FROM service AS s WHERE s.id IN (SELECT service_id FROM old_rows)));
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE OR REPLACE FUNCTION ambrogio_taxonomy_term_written() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed uuid[] := ambrogio_refresh_term_words();
BEGIN
    IF cardinality(changed) > 0 THEN
        PERFORM {refresh}(ARRAY(
            SELECT DISTINCT s.organization_id
            FROM service_category AS sc JOIN service AS s ON s.id = sc.service_id
            WHERE sc.term_id = ANY(changed)));
    END IF;
    RETURN NULL;
END;
$$
""",
)


FINE_ZOOM = 17  # as in 0020

SUM = f"""
CREATE OR REPLACE FUNCTION ambrogio_map_grid_sum(lvl integer, keys text[], xs integer[],
                                                 ys integer[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    shift integer := {FINE_ZOOM} - lvl;
BEGIN
    -- A table, not an array: the planner reads its size (ANALYZE) and joins by the indexes.
    IF to_regclass('pg_temp.map_grid_todo') IS NULL THEN
        CREATE TEMP TABLE map_grid_todo (key text, x integer, y integer) ON COMMIT DELETE ROWS;
    END IF;
    DELETE FROM map_grid_todo;
    INSERT INTO map_grid_todo
    SELECT DISTINCT d.key, d.x >> shift, d.y >> shift FROM unnest(keys, xs, ys) AS d(key, x, y);
    ANALYZE map_grid_todo;
    DELETE FROM map_grid_cell AS c USING map_grid_todo AS d
    WHERE c.key = d.key AND c.level = lvl AND c.y = d.y AND c.x = d.x;
    IF lvl = {FINE_ZOOM} THEN
        INSERT INTO map_grid_cell (key, level, y, x, locations, providers, shared, lon_sum,
                                   lat_sum, west, south, east, north, location_id, provider_id)
        WITH inside AS MATERIALIZED (
            SELECT p.* FROM map_grid_todo AS d
            JOIN map_grid_point AS p ON p.key = d.key AND p.x = d.x AND p.y = d.y
        ), spread AS (
            -- The providers of these points with points in more than one cell of the key.
            SELECT q.provider_id, q.key
            FROM (SELECT DISTINCT provider_id, key FROM inside) AS a
            JOIN map_grid_point AS q ON q.provider_id = a.provider_id AND q.key = a.key
            GROUP BY q.provider_id, q.key
            HAVING min(q.x) <> max(q.x) OR min(q.y) <> max(q.y)
        )
        SELECT p.key, lvl, p.y, p.x, count(*), count(DISTINCT p.provider_id),
               coalesce(array_agg(DISTINCT p.provider_id)
                        FILTER (WHERE s.provider_id IS NOT NULL), '{{}}'),
               sum(p.lon::numeric), sum(p.lat::numeric), min(p.lon), min(p.lat), max(p.lon),
               max(p.lat), min(p.location_id::text), min(p.provider_id::text)
        FROM inside AS p
        LEFT JOIN spread AS s ON s.provider_id = p.provider_id AND s.key = p.key
        GROUP BY p.key, p.y, p.x;
    ELSE
        INSERT INTO map_grid_cell (key, level, y, x, locations, providers, shared, lon_sum,
                                   lat_sum, west, south, east, north, location_id, provider_id)
        WITH kids AS MATERIALIZED (
            SELECT d.key, d.x AS px, d.y AS py, c.locations, c.providers, c.shared, c.lon_sum,
                   c.lat_sum, c.west, c.south, c.east, c.north, c.location_id, c.provider_id
            FROM map_grid_todo AS d
            JOIN map_grid_cell AS c
              ON c.key = d.key AND c.level = lvl + 1
             AND c.y BETWEEN d.y * 2 AND d.y * 2 + 1 AND c.x BETWEEN d.x * 2 AND d.x * 2 + 1
        ), members AS (
            SELECT DISTINCT k.key, k.px, k.py, m.id
            FROM kids AS k CROSS JOIN LATERAL unnest(k.shared) AS m(id)
        ), spread AS (
            -- The members with points in more than one cell of this level.
            SELECT q.provider_id, q.key
            FROM (SELECT DISTINCT id, key FROM members) AS a
            JOIN map_grid_point AS q ON q.provider_id = a.id AND q.key = a.key
            GROUP BY q.provider_id, q.key
            HAVING min(q.x >> shift) <> max(q.x >> shift) OR min(q.y >> shift) <> max(q.y >> shift)
        ), s AS (
            SELECT m.key, m.px, m.py, count(*) AS n,
                   coalesce(array_agg(m.id) FILTER (WHERE sp.provider_id IS NOT NULL), '{{}}')
                       AS shared
            FROM members AS m
            LEFT JOIN spread AS sp ON sp.provider_id = m.id AND sp.key = m.key
            GROUP BY m.key, m.px, m.py
        ), a AS (
            SELECT key, px, py, sum(locations) AS locations,
                   sum(providers - cardinality(shared)) AS solo,
                   sum(lon_sum) AS lon_sum, sum(lat_sum) AS lat_sum,
                   min(west) AS west, min(south) AS south, max(east) AS east, max(north) AS north,
                   min(location_id) AS location_id, min(provider_id) AS provider_id
            FROM kids GROUP BY key, px, py
        )
        SELECT a.key, lvl, a.py, a.px, a.locations, a.solo + coalesce(s.n, 0),
               coalesce(s.shared, '{{}}'), a.lon_sum, a.lat_sum, a.west, a.south, a.east,
               a.north, a.location_id, a.provider_id
        FROM a LEFT JOIN s ON s.key = a.key AND s.px = a.px AND s.py = a.py;
    END IF;
END;
$$
"""

# 0020's, for the downgrade.
SUM_0020 = f"""
CREATE OR REPLACE FUNCTION ambrogio_map_grid_sum(lvl integer, keys text[], xs integer[],
                                                 ys integer[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    shift integer := {FINE_ZOOM} - lvl;
BEGIN
    IF to_regclass('pg_temp.map_grid_todo') IS NULL THEN
        CREATE TEMP TABLE map_grid_todo (key text, x integer, y integer) ON COMMIT DELETE ROWS;
    END IF;
    DELETE FROM map_grid_todo;
    INSERT INTO map_grid_todo
    SELECT DISTINCT d.key, d.x >> shift, d.y >> shift FROM unnest(keys, xs, ys) AS d(key, x, y);
    ANALYZE map_grid_todo;
    DELETE FROM map_grid_cell AS c USING map_grid_todo AS d
    WHERE c.key = d.key AND c.level = lvl AND c.y = d.y AND c.x = d.x;
    IF lvl = {FINE_ZOOM} THEN
        INSERT INTO map_grid_cell (key, level, y, x, locations, providers, shared, lon_sum,
                                   lat_sum, west, south, east, north, location_id, provider_id)
        SELECT p.key, lvl, p.y, p.x, count(*), count(DISTINCT p.provider_id),
               coalesce(array_agg(DISTINCT p.provider_id) FILTER (WHERE EXISTS (
                   SELECT 1 FROM map_grid_point AS q
                   WHERE q.provider_id = p.provider_id AND q.key = p.key
                     AND (q.x <> p.x OR q.y <> p.y))), '{{}}'),
               sum(p.lon::numeric), sum(p.lat::numeric), min(p.lon), min(p.lat), max(p.lon),
               max(p.lat), min(p.location_id::text), min(p.provider_id::text)
        FROM map_grid_todo AS d
        JOIN map_grid_point AS p ON p.key = d.key AND p.x = d.x AND p.y = d.y
        GROUP BY p.key, p.y, p.x;
    ELSE
        INSERT INTO map_grid_cell (key, level, y, x, locations, providers, shared, lon_sum,
                                   lat_sum, west, south, east, north, location_id, provider_id)
        SELECT d.key, lvl, d.y, d.x, a.locations, a.solo + s.n, s.shared, a.lon_sum,
               a.lat_sum, a.west, a.south, a.east, a.north, a.location_id, a.provider_id
        FROM map_grid_todo AS d
        CROSS JOIN LATERAL (
            SELECT sum(c.locations) AS locations,
                   sum(c.providers - cardinality(c.shared)) AS solo,
                   sum(c.lon_sum) AS lon_sum, sum(c.lat_sum) AS lat_sum,
                   min(c.west) AS west, min(c.south) AS south,
                   max(c.east) AS east, max(c.north) AS north,
                   min(c.location_id) AS location_id, min(c.provider_id) AS provider_id
            FROM map_grid_cell AS c
            WHERE c.key = d.key AND c.level = lvl + 1
              AND c.y BETWEEN d.y * 2 AND d.y * 2 + 1 AND c.x BETWEEN d.x * 2 AND d.x * 2 + 1
        ) AS a
        CROSS JOIN LATERAL (
            SELECT count(*) AS n, coalesce(array_agg(u.id) FILTER (WHERE EXISTS (
                       SELECT 1 FROM map_grid_point AS q
                       WHERE q.provider_id = u.id AND q.key = d.key
                         AND (q.x >> shift <> d.x OR q.y >> shift <> d.y))), '{{}}') AS shared
            FROM (
                SELECT DISTINCT unnest(c.shared) AS id
                FROM map_grid_cell AS c
                WHERE c.key = d.key AND c.level = lvl + 1
                  AND c.y BETWEEN d.y * 2 AND d.y * 2 + 1
                  AND c.x BETWEEN d.x * 2 AND d.x * 2 + 1
            ) AS u
        ) AS s
        WHERE a.locations IS NOT NULL;
    END IF;
END;
$$
"""


def upgrade() -> None:
    op.execute(ROUTER)
    op.execute(FLUSH)
    for function in TRIGGER_FUNCTIONS:
        op.execute(function.format(refresh="ambrogio_provider_search_written"))
    op.execute(SUM)


def downgrade() -> None:
    op.execute(SUM_0020)
    for function in TRIGGER_FUNCTIONS:
        op.execute(function.format(refresh="ambrogio_refresh_provider_search"))
    op.execute("DROP FUNCTION ambrogio_flush_provider_search()")
    op.execute("DROP FUNCTION ambrogio_provider_search_written(uuid[])")
