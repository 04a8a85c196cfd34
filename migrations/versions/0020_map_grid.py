"""the map grid: clusters pre-aggregated per Web Mercator cell, kept at commit

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 08:10:00

``map_grid_point`` holds every located, visible location once per grid key it falls under
(``''``: every provider; ``c:<slug>``: its provider has a published service in the category
or under it, as the ``categories`` filter matches; ``d:<mode>``: a published service with
that delivery mode), with its cell at zoom 17. ``map_grid_cell`` sums the points per cell at
every zoom from 17 to 5: counts, exact numeric sums of the coordinates, extremes, the least
location and provider ids, and ``shared``: the cell's providers that have points under the key
in other cells of the level. A provider not in ``shared`` is in that cell only, so a union of
cells counts ``sum(providers - cardinality(shared)) + count(DISTINCT unnest(shared))``
providers, each once. Level 17 sums the points; each coarser level sums its 2×2 children.

Maintenance: statement-level triggers (transition tables, one call per statement) note the
locations and providers a write may have moved, hidden or shown, only when a column the grid
reads changed; the first note of a transaction adds its row to ``map_grid_flush``, whose
deferred constraint trigger refreshes once, at commit: the notes' points are recomputed and
compared with the stored ones, and only the cells of points that changed (and of their
providers' other points, whose ``shared`` may change) are summed again. An unchanged
re-import writes no note, or notes whose points compare equal: no cell is touched. Refreshes
take one advisory lock, so that two commits never sum the same cell from different snapshots
(the catalogue writes in READ COMMITTED: each statement of a refresh reads what committed
before the lock was granted).
"""

import math
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in ambrogio.geo.tiles and ambrogio.geo.grid (the same floats, so the same cells).
HALF_WORLD = math.pi * 6378137.0
MAX_LAT = math.degrees(math.atan(math.sinh(math.pi)))
FINE_ZOOM = 17
COARSEST = 5
CELL = 2 * HALF_WORLD / (1 << FINE_ZOOM)
LOCK = 0x6D617067  # 'mapg': the advisory lock of the refreshes

FUNCTIONS = (
    # The points of the locations ``ids`` (those that are on the map), once per key.
    f"""
CREATE FUNCTION ambrogio_map_grid_points(ids uuid[])
RETURNS TABLE (key text, location_id uuid, provider_id uuid, x integer, y integer,
               lon double precision, lat double precision)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE lineage AS (
        SELECT id AS term_id, id AS ancestor_id FROM taxonomy_term
        UNION ALL
        SELECT lineage.term_id, parent.parent_id
        FROM lineage JOIN taxonomy_term AS parent ON parent.id = lineage.ancestor_id
        WHERE parent.parent_id IS NOT NULL
    ), located AS (
        SELECT l.id, l.organization_id, ST_X(l.geom) AS lon, ST_Y(l.geom) AS lat,
               ST_Transform(l.geom, 3857) AS merc
        FROM location AS l JOIN organization AS o ON o.id = l.organization_id
        WHERE l.id = ANY(ids) AND l.status = 'published' AND l.geom IS NOT NULL
          AND o.status = 'published' AND o.merged_into_id IS NULL
          AND ST_Y(l.geom) BETWEEN {-MAX_LAT!r} AND {MAX_LAT!r}
    ), keys AS (
        SELECT s.organization_id, 'd:' || mode AS key
        FROM service AS s CROSS JOIN LATERAL unnest(s.delivery) AS mode
        WHERE s.status = 'published' AND s.organization_id IN (SELECT organization_id FROM located)
        UNION
        SELECT s.organization_id, 'c:' || t.slug
        FROM service AS s
        JOIN service_category AS sc ON sc.service_id = s.id
        JOIN lineage ON lineage.term_id = sc.term_id
        JOIN taxonomy_term AS t ON t.id = lineage.ancestor_id
        WHERE s.status = 'published' AND s.organization_id IN (SELECT organization_id FROM located)
    ), cells AS (
        SELECT located.*,
               least(floor((ST_X(merc) + {HALF_WORLD!r}::float8) / {CELL!r}::float8),
                     {(1 << FINE_ZOOM) - 1})::integer AS x,
               least(floor(({HALF_WORLD!r}::float8 - ST_Y(merc)) / {CELL!r}::float8),
                     {(1 << FINE_ZOOM) - 1})::integer AS y
        FROM located
    )
    SELECT '', c.id, c.organization_id, c.x, c.y, c.lon, c.lat FROM cells AS c
    UNION ALL
    SELECT k.key, c.id, c.organization_id, c.x, c.y, c.lon, c.lat
    FROM cells AS c JOIN keys AS k USING (organization_id)
$$
""",
    # Sums again the cells of ``lvl`` holding the zoom-17 cells (keys[i], xs[i], ys[i]).
    f"""
CREATE FUNCTION ambrogio_map_grid_sum(lvl integer, keys text[], xs integer[], ys integer[])
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
""",
    # The cells of the points ``changed`` (old and new rows) and of their providers' points.
    f"""
CREATE FUNCTION ambrogio_map_grid_resum(changed map_grid_point[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    keys text[];
    xs integer[];
    ys integer[];
    lvl integer;
BEGIN
    SELECT array_agg(d.key), array_agg(d.x), array_agg(d.y) INTO keys, xs, ys FROM (
        SELECT c.key, c.x, c.y FROM unnest(changed) AS c
        UNION
        SELECT p.key, p.x, p.y
        FROM (SELECT DISTINCT c.key, c.provider_id FROM unnest(changed) AS c) AS a
        JOIN map_grid_point AS p ON p.provider_id = a.provider_id AND p.key = a.key
    ) AS d;
    FOR lvl IN SELECT generate_series({FINE_ZOOM}, {COARSEST}, -1) LOOP
        PERFORM ambrogio_map_grid_sum(lvl, keys, xs, ys);
    END LOOP;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_map_grid_refresh(orgs uuid[], locs uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    changed map_grid_point[];
BEGIN
    WITH touched AS (
        SELECT l.id FROM location AS l WHERE l.id = ANY(locs) OR l.organization_id = ANY(orgs)
        UNION
        SELECT p.location_id FROM map_grid_point AS p
        WHERE p.location_id = ANY(locs) OR p.provider_id = ANY(orgs)
    ), wanted AS (
        SELECT * FROM ambrogio_map_grid_points(ARRAY(SELECT id FROM touched))
    ), before AS (
        SELECT p.* FROM map_grid_point AS p WHERE p.location_id IN (SELECT id FROM touched)
    ), stale AS (
        DELETE FROM map_grid_point AS p
        WHERE p.location_id IN (SELECT id FROM touched)
          AND NOT EXISTS (SELECT 1 FROM wanted AS w
                          WHERE w.key = p.key AND w.location_id = p.location_id)
        RETURNING p.*
    ), written AS (
        INSERT INTO map_grid_point AS p SELECT * FROM wanted
        ON CONFLICT (key, location_id) DO UPDATE
        SET provider_id = EXCLUDED.provider_id, x = EXCLUDED.x, y = EXCLUDED.y,
            lon = EXCLUDED.lon, lat = EXCLUDED.lat
        WHERE (p.provider_id, p.x, p.y, p.lon, p.lat)
              IS DISTINCT FROM (EXCLUDED.provider_id, EXCLUDED.x, EXCLUDED.y, EXCLUDED.lon,
                                EXCLUDED.lat)
        RETURNING p.*
    )
    SELECT array_agg(c) INTO changed FROM (
        SELECT * FROM stale
        UNION ALL
        SELECT * FROM written
        UNION ALL
        SELECT b.* FROM before AS b
        JOIN written AS w ON w.key = b.key AND w.location_id = b.location_id
    ) AS c;
    IF changed IS NOT NULL THEN
        PERFORM ambrogio_map_grid_resum(changed);
    END IF;
END;
$$
""",
    f"""
CREATE FUNCTION ambrogio_map_grid_rebuild() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    keys text[];
    xs integer[];
    ys integer[];
    lvl integer;
BEGIN
    TRUNCATE map_grid_point, map_grid_cell;
    INSERT INTO map_grid_point
    SELECT * FROM ambrogio_map_grid_points(ARRAY(SELECT id FROM location));
    ANALYZE map_grid_point;
    SELECT array_agg(d.key), array_agg(d.x), array_agg(d.y) INTO keys, xs, ys
    FROM (SELECT DISTINCT p.key, p.x, p.y FROM map_grid_point AS p) AS d;
    FOR lvl IN SELECT generate_series({FINE_ZOOM}, {COARSEST}, -1) LOOP
        PERFORM ambrogio_map_grid_sum(lvl, keys, xs, ys);
    END LOOP;
    ANALYZE map_grid_cell;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_map_grid_note(orgs uuid[], locs uuid[], everything boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    me bigint;
BEGIN
    IF NOT everything AND cardinality(orgs) = 0 AND cardinality(locs) = 0 THEN
        RETURN;
    END IF;
    me := txid_current();
    INSERT INTO map_grid_dirty (xid, organization_id) SELECT me, unnest(orgs);
    INSERT INTO map_grid_dirty (xid, location_id) SELECT me, unnest(locs);
    IF everything THEN
        INSERT INTO map_grid_dirty (xid, everything) VALUES (me, true);
    END IF;
    INSERT INTO map_grid_flush (xid) VALUES (me) ON CONFLICT DO NOTHING;
END;
$$
""",
    f"""
CREATE FUNCTION ambrogio_map_grid_flush() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orgs uuid[];
    locs uuid[];
    everything boolean;
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK});
    WITH done AS (DELETE FROM map_grid_dirty WHERE xid = NEW.xid RETURNING *)
    SELECT coalesce(array_agg(DISTINCT organization_id)
                    FILTER (WHERE organization_id IS NOT NULL), '{{}}'),
           coalesce(array_agg(DISTINCT location_id) FILTER (WHERE location_id IS NOT NULL), '{{}}'),
           coalesce(bool_or(done.everything), false)
    INTO orgs, locs, everything FROM done;
    DELETE FROM map_grid_flush WHERE xid = NEW.xid;
    IF everything THEN
        PERFORM ambrogio_map_grid_rebuild();
    ELSE
        PERFORM ambrogio_map_grid_refresh(orgs, locs);
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_map_grid_location_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ambrogio_map_grid_note('{}', ARRAY(
            SELECT id FROM new_rows WHERE status = 'published' AND geom IS NOT NULL), false);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM ambrogio_map_grid_note('{}', ARRAY(
            SELECT id FROM old_rows WHERE status = 'published' AND geom IS NOT NULL), false);
    ELSE
        PERFORM ambrogio_map_grid_note('{}', ARRAY(
            SELECT n.id FROM new_rows AS n JOIN old_rows AS o USING (id)
            WHERE (n.status, n.organization_id, n.geom::bytea)
                  IS DISTINCT FROM (o.status, o.organization_id, o.geom::bytea)), false);
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_map_grid_organization_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM ambrogio_map_grid_note(ARRAY(SELECT id FROM old_rows), '{}', false);
    ELSE
        PERFORM ambrogio_map_grid_note(ARRAY(
            SELECT n.id FROM new_rows AS n JOIN old_rows AS o USING (id)
            WHERE (n.status, n.merged_into_id) IS DISTINCT FROM (o.status, o.merged_into_id)),
            '{}', false);
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_map_grid_service_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ambrogio_map_grid_note(ARRAY(
            SELECT DISTINCT organization_id FROM new_rows WHERE status = 'published'), '{}', false);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM ambrogio_map_grid_note(ARRAY(
            SELECT DISTINCT organization_id FROM old_rows WHERE status = 'published'), '{}', false);
    ELSE
        PERFORM ambrogio_map_grid_note(ARRAY(
            SELECT DISTINCT unnest(ARRAY[n.organization_id, o.organization_id])
            FROM new_rows AS n JOIN old_rows AS o USING (id)
            WHERE (n.status, n.delivery, n.organization_id)
                  IS DISTINCT FROM (o.status, o.delivery, o.organization_id)
              AND 'published' IN (n.status, o.status)), '{}', false);
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_map_grid_service_category_written() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ambrogio_map_grid_note(ARRAY(
            SELECT DISTINCT s.organization_id FROM service AS s
            WHERE s.status = 'published' AND s.id IN (SELECT service_id FROM new_rows)),
            '{}', false);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM ambrogio_map_grid_note(ARRAY(
            SELECT DISTINCT s.organization_id FROM service AS s
            WHERE s.status = 'published' AND s.id IN (SELECT service_id FROM old_rows)),
            '{}', false);
    ELSE
        PERFORM ambrogio_map_grid_note(ARRAY(
            SELECT DISTINCT s.organization_id FROM service AS s
            WHERE s.status = 'published' AND s.id IN (
                SELECT service_id FROM new_rows UNION SELECT service_id FROM old_rows)),
            '{}', false);
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_map_grid_taxonomy_term_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ambrogio_map_grid_note('{}', '{}', EXISTS (
        SELECT 1 FROM new_rows AS n JOIN old_rows AS o USING (id)
        WHERE (n.slug, n.parent_id) IS DISTINCT FROM (o.slug, o.parent_id)));
    RETURN NULL;
END;
$$
""",
)
# (table, event, function): one statement-level trigger each (transition tables).
TRIGGERS = (
    ("location", "INSERT", "ambrogio_map_grid_location_written"),
    ("location", "UPDATE", "ambrogio_map_grid_location_written"),
    ("location", "DELETE", "ambrogio_map_grid_location_written"),
    ("organization", "UPDATE", "ambrogio_map_grid_organization_written"),
    ("organization", "DELETE", "ambrogio_map_grid_organization_written"),
    ("service", "INSERT", "ambrogio_map_grid_service_written"),
    ("service", "UPDATE", "ambrogio_map_grid_service_written"),
    ("service", "DELETE", "ambrogio_map_grid_service_written"),
    ("service_category", "INSERT", "ambrogio_map_grid_service_category_written"),
    ("service_category", "UPDATE", "ambrogio_map_grid_service_category_written"),
    ("service_category", "DELETE", "ambrogio_map_grid_service_category_written"),
    ("taxonomy_term", "UPDATE", "ambrogio_map_grid_taxonomy_term_written"),
)
TRANSITIONS = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.create_table(
        "map_grid_point",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", "location_id", name=op.f("pk_map_grid_point")),
    )
    op.create_index("ix_map_grid_point_key_x_y", "map_grid_point", ["key", "x", "y"])
    op.create_index("ix_map_grid_point_provider_id_key", "map_grid_point", ["provider_id", "key"])
    op.create_index("ix_map_grid_point_location_id", "map_grid_point", ["location_id"])
    op.create_table(
        "map_grid_cell",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("locations", sa.Integer(), nullable=False),
        sa.Column("providers", sa.Integer(), nullable=False),
        sa.Column("shared", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("lon_sum", sa.Numeric(), nullable=False),
        sa.Column("lat_sum", sa.Numeric(), nullable=False),
        sa.Column("west", sa.Float(), nullable=False),
        sa.Column("south", sa.Float(), nullable=False),
        sa.Column("east", sa.Float(), nullable=False),
        sa.Column("north", sa.Float(), nullable=False),
        sa.Column("location_id", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", "level", "y", "x", name=op.f("pk_map_grid_cell")),
    )
    op.create_index("ix_map_grid_cell_key_level_x_y", "map_grid_cell", ["key", "level", "x", "y"])
    op.create_table(
        "map_grid_dirty",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("organization_id", sa.UUID(), nullable=True),
        sa.Column("location_id", sa.UUID(), nullable=True),
        sa.Column("everything", sa.Boolean(), server_default="false", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_map_grid_dirty")),
    )
    op.create_index("ix_map_grid_dirty_xid", "map_grid_dirty", ["xid"])
    op.create_table(
        "map_grid_flush",
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("xid", name=op.f("pk_map_grid_flush")),
    )
    for function in FUNCTIONS:
        op.execute(function)
    for table, event, function in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {table}_map_grid_{event.lower()} AFTER {event} ON {table} "
            f"REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    op.execute(
        "CREATE CONSTRAINT TRIGGER map_grid_flush AFTER INSERT ON map_grid_flush "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ambrogio_map_grid_flush()"
    )
    op.execute("SELECT ambrogio_map_grid_rebuild()")


def downgrade() -> None:
    op.execute("DROP TRIGGER map_grid_flush ON map_grid_flush")
    for table, event, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER {table}_map_grid_{event.lower()} ON {table}")
    for function in (
        "ambrogio_map_grid_taxonomy_term_written()",
        "ambrogio_map_grid_service_category_written()",
        "ambrogio_map_grid_service_written()",
        "ambrogio_map_grid_organization_written()",
        "ambrogio_map_grid_location_written()",
        "ambrogio_map_grid_flush()",
        "ambrogio_map_grid_note(uuid[], uuid[], boolean)",
        "ambrogio_map_grid_rebuild()",
        "ambrogio_map_grid_refresh(uuid[], uuid[])",
        "ambrogio_map_grid_resum(map_grid_point[])",
        "ambrogio_map_grid_sum(integer, text[], integer[], integer[])",
        "ambrogio_map_grid_points(uuid[])",
    ):
        op.execute(f"DROP FUNCTION {function}")
    op.drop_table("map_grid_flush")
    op.drop_index("ix_map_grid_dirty_xid", table_name="map_grid_dirty")
    op.drop_table("map_grid_dirty")
    op.drop_index("ix_map_grid_cell_key_level_x_y", table_name="map_grid_cell")
    op.drop_table("map_grid_cell")
    op.drop_index("ix_map_grid_point_location_id", table_name="map_grid_point")
    op.drop_index("ix_map_grid_point_provider_id_key", table_name="map_grid_point")
    op.drop_index("ix_map_grid_point_key_x_y", table_name="map_grid_point")
    op.drop_table("map_grid_point")
