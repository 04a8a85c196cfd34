"""bulk writes: the lexeme bounds' rank computed inline, the map grid rebuilt in one pass a level

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 19:10:00

Lexeme bounds. ``ambrogio_rank_bound`` (0025) summed a lexeme's weights with an aggregate over
``unnest(weights)``: a SQL function that cannot be inlined, so each (document, lexeme) pair a
statement wrote cost a call of the SQL function executor — the largest part of the bounds'
triggers, and for a large import more than the refresh of the documents they follow. The same
sum is now one expression over the counts of each weight (``array_positions``), which the
planner inlines: exact numeric arithmetic on the same terms, so the same ``real``.

Map grid. A rebuild (0020, 0022: the flush of a transaction that moved many points, such as a
large import's commit) summed every cell with ``ambrogio_map_grid_sum``, which is made for a
few cells: it lists them in a table, joins each with its points or children by index, and
deletes them first. After the TRUNCATE of a rebuild, every cell of a level is a group of all
the points (zoom 17) or all the cells of the level below: the rebuild now sums each level in
one grouping of the whole level, and the tables' secondary indexes are set aside while they
are filled and built again after (as they were: ``pg_get_indexdef``), one sort each instead
of a descent per row. The same rows (the grid tests compare every write with a rebuild, and
the rebuild with 0024's).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINE_ZOOM = 17  # as in 0020
COARSEST = 5

# The sum of the weights' values (A 1.0, B 0.4, C 0.2, D 0.1), 0.1 without positions (0025).
RANK_BOUND = """
CREATE OR REPLACE FUNCTION ambrogio_rank_bound(weights text[]) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN coalesce(cardinality(weights), 0) = 0 THEN 0.1 ELSE
        cardinality(array_positions(weights, 'A')) * 1.0
        + cardinality(array_positions(weights, 'B')) * 0.4
        + cardinality(array_positions(weights, 'C')) * 0.2
        + (cardinality(weights) - cardinality(array_positions(weights, 'A'))
           - cardinality(array_positions(weights, 'B'))
           - cardinality(array_positions(weights, 'C'))) * 0.1
    END::real
$$
"""

RANK_BOUND_0025 = """
CREATE OR REPLACE FUNCTION ambrogio_rank_bound(weights text[]) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum(CASE w WHEN 'A' THEN 1.0 WHEN 'B' THEN 0.4 WHEN 'C' THEN 0.2
                               ELSE 0.1 END), 0.1)::real
    FROM unnest(weights) AS w
$$
"""

CELL_COLUMNS = (
    "key, level, y, x, locations, providers, shared, lon_sum, lat_sum, west, south, east, "
    "north, location_id, provider_id"
)

# Every cell of ``lvl`` from scratch: ``ambrogio_map_grid_sum`` (0024) over all of them.
SUM_ALL = f"""
CREATE FUNCTION ambrogio_map_grid_sum_all(lvl integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    shift integer := {FINE_ZOOM} - lvl;
BEGIN
    IF lvl = {FINE_ZOOM} THEN
        INSERT INTO map_grid_cell ({CELL_COLUMNS})
        WITH spread AS (
            -- The providers with points in more than one cell of the key.
            SELECT q.provider_id, q.key
            FROM map_grid_point AS q
            GROUP BY q.provider_id, q.key
            HAVING min(q.x) <> max(q.x) OR min(q.y) <> max(q.y)
        )
        SELECT p.key, lvl, p.y, p.x, count(*), count(DISTINCT p.provider_id),
               coalesce(array_agg(DISTINCT p.provider_id)
                        FILTER (WHERE s.provider_id IS NOT NULL), '{{}}'),
               sum(p.lon::numeric), sum(p.lat::numeric), min(p.lon), min(p.lat), max(p.lon),
               max(p.lat), min(p.location_id::text), min(p.provider_id::text)
        FROM map_grid_point AS p
        LEFT JOIN spread AS s ON s.provider_id = p.provider_id AND s.key = p.key
        GROUP BY p.key, p.y, p.x;
    ELSE
        INSERT INTO map_grid_cell ({CELL_COLUMNS})
        WITH kids AS MATERIALIZED (
            SELECT c.key, c.x >> 1 AS px, c.y >> 1 AS py, c.locations, c.providers, c.shared,
                   c.lon_sum, c.lat_sum, c.west, c.south, c.east, c.north, c.location_id,
                   c.provider_id
            FROM map_grid_cell AS c
            WHERE c.level = lvl + 1
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

# Drops the indexes of ``tbl`` but its primary key; returns what creates them again.
SET_ASIDE = """
CREATE FUNCTION ambrogio_drop_secondary_indexes(tbl regclass) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    names text[];
    defs text[];
    i integer;
BEGIN
    SELECT coalesce(array_agg(x.indexrelid::regclass::text ORDER BY x.indexrelid), '{}'),
           coalesce(array_agg(pg_get_indexdef(x.indexrelid) ORDER BY x.indexrelid), '{}')
    INTO names, defs
    FROM pg_index AS x WHERE x.indrelid = tbl AND NOT x.indisprimary;
    FOR i IN 1 .. cardinality(names) LOOP
        EXECUTE 'DROP INDEX ' || names[i];
    END LOOP;
    RETURN defs;
END;
$$
"""

# The secondary indexes of the points are built after the points are in (one sort each,
# instead of one descent per point), and those of the cells after every level is summed
# (the sums read the cells of a level by a scan of the table: a level is most of it).
REBUILD = f"""
CREATE OR REPLACE FUNCTION ambrogio_map_grid_rebuild() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    lvl integer;
    defs text[];
    def text;
BEGIN
    TRUNCATE map_grid_point, map_grid_cell;
    defs := ambrogio_drop_secondary_indexes('map_grid_point');
    INSERT INTO map_grid_point
    SELECT * FROM ambrogio_map_grid_points(NULL) AS p ORDER BY p.key, p.location_id;
    FOREACH def IN ARRAY defs LOOP
        EXECUTE def;
    END LOOP;
    ANALYZE map_grid_point;
    defs := ambrogio_drop_secondary_indexes('map_grid_cell');
    FOR lvl IN SELECT generate_series({FINE_ZOOM}, {COARSEST}, -1) LOOP
        PERFORM ambrogio_map_grid_sum_all(lvl);
    END LOOP;
    FOREACH def IN ARRAY defs LOOP
        EXECUTE def;
    END LOOP;
    ANALYZE map_grid_cell;
END;
$$
"""

# 0022's.
REBUILD_0022 = """
CREATE OR REPLACE FUNCTION ambrogio_map_grid_rebuild() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    keys text[];
    xs integer[];
    ys integer[];
    lvl integer;
BEGIN
    TRUNCATE map_grid_point, map_grid_cell;
    INSERT INTO map_grid_point SELECT * FROM ambrogio_map_grid_points(NULL);
    ANALYZE map_grid_point;
    SELECT array_agg(d.key), array_agg(d.x), array_agg(d.y) INTO keys, xs, ys
    FROM (SELECT DISTINCT p.key, p.x, p.y FROM map_grid_point AS p) AS d;
    FOR lvl IN SELECT generate_series(17, 5, -1) LOOP
        PERFORM ambrogio_map_grid_sum(lvl, keys, xs, ys);
    END LOOP;
    ANALYZE map_grid_cell;
END;
$$
"""


def upgrade() -> None:
    op.execute(RANK_BOUND)
    op.execute(SUM_ALL)
    op.execute(SET_ASIDE)
    op.execute(REBUILD)


def downgrade() -> None:
    op.execute(REBUILD_0022)
    op.execute("DROP FUNCTION ambrogio_drop_secondary_indexes(regclass)")
    op.execute("DROP FUNCTION ambrogio_map_grid_sum_all(integer)")
    op.execute(RANK_BOUND_0025)
