"""facet counts per UTM cell, kept at commit: what ``facets`` near a point sums

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 19:00:00

A visible service (published, its provider published and not merged) whose published located
places all lie in one cell of ``SIDE`` metres on the UTM 32N plane (and all have a planar
point) is *simple*: ``facet_cell_service`` holds its cell and what it adds to the cell's
sums, ``facet_cell_place`` its places under that cell. ``facet_cell`` sums, per cell of
every level from 0 (``SIDE``) to ``TOP`` (each level's cell is 2 × 2 of the finer one), the
facet counts of the simple services in it: ``facets[i]``/``keys[i]`` counted ``counts[i]``
times, as the facets statement counts them (a category with its ancestors once per service,
a comune once per service whether from its places or its service area, the total, each
target group and delivery mode of the arrays). Every other visible service is *spread*:
``facet_spread_point`` holds its published planar places: a read counts those services with
the facets statement itself (``catalogue/facet_cells.py``).

Maintenance follows the map grid's (0020, 0022): statement-level triggers note the services a
write may have changed, only when a column the facets read changed; the first note of a
transaction adds its row to ``facet_flush``, whose deferred constraint trigger refreshes once,
at commit: the noted services are placed again (simple in which cell, or spread) and the cells
they left or entered are summed again, level by level. A transaction that notes at least
``BULK`` services, or a quarter of them (a demo-data load, a regional import), or moves a
category in the taxonomy, rebuilds everything from a scan instead. The refresh takes the map
grid's advisory lock: two commits never sum the same cell from different snapshots, and the
two flushes of one commit, whatever their order, cannot wait on each other.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIDE = 100  # metres: a level-0 cell; level n has cells of SIDE · 2^n (as catalogue/facet_cells)
TOP = 5
LOCK = 0x6D617067  # the map grid's (0020): one lock for both flushes
BULK = 50_000
PLANAR_SRID = 32632

CELL_X = f"floor(ST_X(l.geom_utm) / {SIDE})::integer"
CELL_Y = f"floor(ST_Y(l.geom_utm) / {SIDE})::integer"


def _places(where: str) -> str:
    """The published located places of the visible services ``where`` picks."""
    return f"""
        SELECT sal.service_id, l.id AS location_id, l.geom, l.geom_utm,
               {CELL_X} AS cx, {CELL_Y} AS cy
        FROM service AS s
        JOIN organization AS o ON o.id = s.organization_id
        JOIN service_at_location AS sal ON sal.service_id = s.id
        JOIN location AS l ON l.id = sal.location_id
        WHERE {where} AND s.status = 'published' AND o.status = 'published'
          AND o.merged_into_id IS NULL AND l.status = 'published' AND l.geom IS NOT NULL"""


def _keys(where: str) -> str:
    """(service, facet, key, n) of the services ``where`` picks: what each adds to a sum."""
    return f"""
        WITH RECURSIVE lineage AS (
            SELECT id AS term_id, id AS ancestor_id FROM taxonomy_term
            UNION ALL
            SELECT lineage.term_id, parent.parent_id
            FROM lineage JOIN taxonomy_term AS parent ON parent.id = lineage.ancestor_id
            WHERE parent.parent_id IS NOT NULL
        ), svc AS MATERIALIZED (
            SELECT s.id, s.target_groups, s.delivery, s.service_area_comuni
            FROM service AS s WHERE {where}
        )
        SELECT svc.id, 'total'::text, ''::text, 1 FROM svc
        UNION ALL
        SELECT DISTINCT svc.id, 'category', lineage.ancestor_id::text, 1
        FROM svc JOIN service_category AS sc ON sc.service_id = svc.id
        JOIN lineage ON lineage.term_id = sc.term_id
        UNION ALL
        SELECT c.id, 'comune', c.code, 1 FROM (
            SELECT svc.id, l.comune_istat::text AS code
            FROM svc JOIN service_at_location AS sal ON sal.service_id = svc.id
            JOIN location AS l ON l.id = sal.location_id
            WHERE l.status = 'published' AND l.comune_istat IS NOT NULL
            UNION
            SELECT svc.id, unnest(svc.service_area_comuni)::text FROM svc
        ) AS c
        UNION ALL
        SELECT svc.id, 'target_group', g.value, count(*)::integer
        FROM svc CROSS JOIN LATERAL unnest(svc.target_groups) AS g(value)
        GROUP BY svc.id, g.value
        UNION ALL
        SELECT svc.id, 'delivery', d.value, count(*)::integer
        FROM svc CROSS JOIN LATERAL unnest(svc.delivery) AS d(value)
        GROUP BY svc.id, d.value"""


def _place(source: str, keys: str) -> str:
    """Statements that file the services of ``source`` (a table of ``_places`` rows): simple
    ones with their cell, what they add to its sums (from ``keys``, rows of
    ``ambrogio_facet_keys``) and their places; the planar places of the others."""
    return f"""
    INSERT INTO facet_cell_service (service_id, cx, cy, facets, keys, counts)
    SELECT m.service_id, m.cx, m.cy, k.facets, k.keys, k.counts FROM (
        SELECT service_id, min(cx) AS cx, min(cy) AS cy FROM {source}
        GROUP BY service_id
        HAVING bool_and(geom_utm IS NOT NULL) AND min(cx) = max(cx) AND min(cy) = max(cy)
    ) AS m JOIN (
        SELECT k.service_id, array_agg(k.facet) AS facets, array_agg(k.key) AS keys,
               array_agg(k.n) AS counts
        FROM ({keys}) AS k (service_id, facet, key, n) GROUP BY k.service_id
    ) AS k ON k.service_id = m.service_id;
    INSERT INTO facet_cell_place (cy, cx, service_id, location_id, geom, geom_utm)
    SELECT p.cy, p.cx, p.service_id, p.location_id, p.geom, p.geom_utm FROM {source} AS p
    WHERE EXISTS (SELECT 1 FROM facet_cell_service AS m WHERE m.service_id = p.service_id);
    INSERT INTO facet_spread_point (service_id, location_id, geom, geom_utm)
    SELECT p.service_id, p.location_id, p.geom, p.geom_utm FROM {source} AS p
    WHERE p.geom_utm IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM facet_cell_service AS m WHERE m.service_id = p.service_id);"""


# The level-0 sums of the simple services of ``cells`` (a table of (cx, cy)), or of all.
def _sum_fine(cells: str | None) -> str:
    join = "" if cells is None else f"JOIN {cells} AS d ON d.cx = m.cx AND d.cy = m.cy"
    return f"""
    INSERT INTO facet_cell (level, cy, cx, facets, keys, counts)
    SELECT 0, t.cy, t.cx, array_agg(t.facet), array_agg(t.key), array_agg(t.n) FROM (
        SELECT m.cy, m.cx, u.facet, u.key, sum(u.n)::integer AS n
        FROM facet_cell_service AS m {join}
        CROSS JOIN LATERAL unnest(m.facets, m.keys, m.counts) AS u(facet, key, n)
        GROUP BY m.cy, m.cx, u.facet, u.key
    ) AS t GROUP BY t.cy, t.cx;"""


# The sums of level ``lvl`` from its children, for the cells of ``cells`` (at ``lvl``) or all.
def _sum_coarse(cells: str | None) -> str:
    parents = (
        "(SELECT DISTINCT c.cx >> 1 AS cx, c.cy >> 1 AS cy FROM facet_cell AS c"
        " WHERE c.level = lvl - 1)"
        if cells is None
        else cells
    )
    return f"""
    INSERT INTO facet_cell (level, cy, cx, facets, keys, counts)
    SELECT lvl, t.cy, t.cx, array_agg(t.facet), array_agg(t.key), array_agg(t.n) FROM (
        SELECT d.cy, d.cx, u.facet, u.key, sum(u.n)::integer AS n
        FROM {parents} AS d
        JOIN facet_cell AS c ON c.level = lvl - 1
         AND c.cy BETWEEN d.cy * 2 AND d.cy * 2 + 1 AND c.cx BETWEEN d.cx * 2 AND d.cx * 2 + 1
        CROSS JOIN LATERAL unnest(c.facets, c.keys, c.counts) AS u(facet, key, n)
        GROUP BY d.cy, d.cx, u.facet, u.key
    ) AS t GROUP BY t.cy, t.cx;"""


FUNCTIONS = (
    f"""
CREATE FUNCTION ambrogio_facet_places(ids uuid[])
RETURNS TABLE (service_id uuid, location_id uuid, geom geometry, geom_utm geometry,
               cx integer, cy integer)
LANGUAGE sql STABLE AS $$ {_places("s.id = ANY(ids)")} $$
""",
    f"""
CREATE FUNCTION ambrogio_facet_keys(ids uuid[])
RETURNS TABLE (service_id uuid, facet text, key text, n integer)
LANGUAGE sql STABLE AS $$ {_keys("s.id = ANY(ids)")} $$
""",
    f"""
CREATE FUNCTION ambrogio_facet_rebuild() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    lvl integer;
BEGIN
    TRUNCATE facet_cell_service, facet_cell_place, facet_spread_point, facet_cell;
    CREATE TEMP TABLE facet_placed_all ON COMMIT DROP AS {_places("true")};
    {_place("facet_placed_all", _keys("true"))}
    DROP TABLE facet_placed_all;
    ANALYZE facet_cell_service;
    {_sum_fine(None)}
    FOR lvl IN 1..{TOP} LOOP
        {_sum_coarse(None)}
    END LOOP;
    ANALYZE facet_cell_place;
    ANALYZE facet_spread_point;
    ANALYZE facet_cell;
END;
$$
""",
    f"""
CREATE FUNCTION ambrogio_facet_refresh(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    lvl integer;
BEGIN
    IF to_regclass('pg_temp.facet_todo') IS NULL THEN
        CREATE TEMP TABLE facet_todo (cx integer, cy integer) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE facet_level (cx integer, cy integer) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE facet_placed ON COMMIT DELETE ROWS AS
            SELECT * FROM ambrogio_facet_places('{{}}');
    END IF;
    DELETE FROM facet_todo;
    DELETE FROM facet_placed;
    WITH gone AS (DELETE FROM facet_cell_service WHERE service_id = ANY(ids) RETURNING cx, cy)
    INSERT INTO facet_todo SELECT cx, cy FROM gone;
    DELETE FROM facet_cell_place WHERE service_id = ANY(ids);
    DELETE FROM facet_spread_point WHERE service_id = ANY(ids);
    INSERT INTO facet_placed SELECT * FROM ambrogio_facet_places(ids);
    {_place("facet_placed", "SELECT * FROM ambrogio_facet_keys(ids)")}
    INSERT INTO facet_todo
    SELECT cx, cy FROM facet_cell_service WHERE service_id = ANY(ids);
    FOR lvl IN 0..{TOP} LOOP
        DELETE FROM facet_level;
        INSERT INTO facet_level SELECT DISTINCT cx >> lvl, cy >> lvl FROM facet_todo;
        -- Its size read (as the map grid's todo): the cells are then joined by their key.
        ANALYZE facet_level;
        DELETE FROM facet_cell AS c USING facet_level AS d
        WHERE c.level = lvl AND c.cy = d.cy AND c.cx = d.cx;
        IF lvl = 0 THEN
            {_sum_fine("facet_level")}
        ELSE
            {_sum_coarse("facet_level")}
        END IF;
    END LOOP;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_facet_note(ids uuid[], everything boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    me bigint;
BEGIN
    IF NOT everything AND cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    me := txid_current();
    INSERT INTO facet_dirty (xid, service_id) SELECT me, unnest(ids);
    IF everything THEN
        INSERT INTO facet_dirty (xid, everything) VALUES (me, true);
    END IF;
    INSERT INTO facet_flush (xid) VALUES (me) ON CONFLICT DO NOTHING;
END;
$$
""",
    f"""
CREATE FUNCTION ambrogio_facet_flush() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids uuid[];
    everything boolean;
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK});
    WITH done AS (DELETE FROM facet_dirty WHERE xid = NEW.xid RETURNING *)
    SELECT coalesce(array_agg(DISTINCT service_id) FILTER (WHERE service_id IS NOT NULL), '{{}}'),
           coalesce(bool_or(done.everything), false)
    INTO ids, everything FROM done;
    DELETE FROM facet_flush WHERE xid = NEW.xid;
    IF everything OR cardinality(ids) >= least({BULK}, greatest(
        1000, (SELECT reltuples FROM pg_class WHERE oid = 'service'::regclass) / 4))
    THEN
        PERFORM ambrogio_facet_rebuild();
    ELSE
        PERFORM ambrogio_facet_refresh(ids);
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_facet_location_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ambrogio_facet_note(ARRAY(
        SELECT DISTINCT sal.service_id FROM service_at_location AS sal
        WHERE sal.location_id IN (
            SELECT n.id FROM new_rows AS n JOIN old_rows AS o USING (id)
            WHERE (n.status, n.comune_istat, n.geom::bytea)
                  IS DISTINCT FROM (o.status, o.comune_istat, o.geom::bytea))), false);
    RETURN NULL;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_facet_organization_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ambrogio_facet_note(ARRAY(
        SELECT s.id FROM service AS s WHERE s.organization_id IN (
            SELECT n.id FROM new_rows AS n JOIN old_rows AS o USING (id)
            WHERE (n.status, n.merged_into_id) IS DISTINCT FROM (o.status, o.merged_into_id))),
        false);
    RETURN NULL;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_facet_service_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ambrogio_facet_note(ARRAY(
            SELECT id FROM new_rows WHERE status = 'published'), false);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM ambrogio_facet_note(ARRAY(
            SELECT id FROM old_rows WHERE status = 'published'), false);
    ELSE
        PERFORM ambrogio_facet_note(ARRAY(
            SELECT n.id FROM new_rows AS n JOIN old_rows AS o USING (id)
            WHERE (n.status, n.organization_id, n.target_groups, n.delivery,
                   n.service_area_comuni)
                  IS DISTINCT FROM (o.status, o.organization_id, o.target_groups, o.delivery,
                                    o.service_area_comuni)
              AND 'published' IN (n.status, o.status)), false);
    END IF;
    RETURN NULL;
END;
$$
""",
    # service_category and service_at_location: the services of the rows written.
    """
CREATE FUNCTION ambrogio_facet_service_link_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ambrogio_facet_note(ARRAY(SELECT DISTINCT service_id FROM new_rows), false);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM ambrogio_facet_note(ARRAY(SELECT DISTINCT service_id FROM old_rows), false);
    ELSE
        PERFORM ambrogio_facet_note(ARRAY(
            SELECT service_id FROM new_rows UNION SELECT service_id FROM old_rows), false);
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_facet_taxonomy_term_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ambrogio_facet_note('{}', EXISTS (
        SELECT 1 FROM new_rows AS n JOIN old_rows AS o USING (id)
        WHERE n.parent_id IS DISTINCT FROM o.parent_id));
    RETURN NULL;
END;
$$
""",
)
FUNCTION_NAMES = (
    "ambrogio_facet_taxonomy_term_written()",
    "ambrogio_facet_service_link_written()",
    "ambrogio_facet_service_written()",
    "ambrogio_facet_organization_written()",
    "ambrogio_facet_location_written()",
    "ambrogio_facet_flush()",
    "ambrogio_facet_note(uuid[], boolean)",
    "ambrogio_facet_refresh(uuid[])",
    "ambrogio_facet_rebuild()",
    "ambrogio_facet_keys(uuid[])",
    "ambrogio_facet_places(uuid[])",
)
# (table, event, function): one statement-level trigger each (transition tables). A location
# inserted has no service yet; one deleted takes its service_at_location rows along, whose
# trigger notes their services; an organization deleted takes its services along.
TRIGGERS = (
    ("location", "UPDATE", "ambrogio_facet_location_written"),
    ("organization", "UPDATE", "ambrogio_facet_organization_written"),
    ("service", "INSERT", "ambrogio_facet_service_written"),
    ("service", "UPDATE", "ambrogio_facet_service_written"),
    ("service", "DELETE", "ambrogio_facet_service_written"),
    ("service_category", "INSERT", "ambrogio_facet_service_link_written"),
    ("service_category", "UPDATE", "ambrogio_facet_service_link_written"),
    ("service_category", "DELETE", "ambrogio_facet_service_link_written"),
    ("service_at_location", "INSERT", "ambrogio_facet_service_link_written"),
    ("service_at_location", "UPDATE", "ambrogio_facet_service_link_written"),
    ("service_at_location", "DELETE", "ambrogio_facet_service_link_written"),
    ("taxonomy_term", "UPDATE", "ambrogio_facet_taxonomy_term_written"),
)
TRANSITIONS = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.create_table(
        "facet_cell_service",
        sa.Column("service_id", sa.UUID(), nullable=False),
        sa.Column("cx", sa.Integer(), nullable=False),
        sa.Column("cy", sa.Integer(), nullable=False),
        sa.Column("facets", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("keys", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("counts", sa.ARRAY(sa.Integer()), nullable=False),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_facet_cell_service")),
    )
    op.create_index("ix_facet_cell_service_cx_cy", "facet_cell_service", ["cx", "cy"])
    op.create_table(
        "facet_cell_place",
        sa.Column("cy", sa.Integer(), nullable=False),
        sa.Column("cx", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column(
            "geom_utm", Geometry("POINT", srid=PLANAR_SRID, spatial_index=False), nullable=False
        ),
        sa.PrimaryKeyConstraint(
            "cy", "cx", "service_id", "location_id", name=op.f("pk_facet_cell_place")
        ),
    )
    op.create_index("ix_facet_cell_place_service_id", "facet_cell_place", ["service_id"])
    op.create_table(
        "facet_spread_point",
        sa.Column("service_id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column(
            "geom",
            Geometry("POINT", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column(
            "geom_utm",
            Geometry("POINT", srid=PLANAR_SRID, spatial_index=False),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("service_id", "location_id", name=op.f("pk_facet_spread_point")),
    )
    op.create_index(
        "ix_facet_spread_point_geom_utm",
        "facet_spread_point",
        ["geom_utm"],
        postgresql_using="gist",
    )
    op.create_table(
        "facet_cell",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("cy", sa.Integer(), nullable=False),
        sa.Column("cx", sa.Integer(), nullable=False),
        sa.Column("facets", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("keys", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("counts", sa.ARRAY(sa.Integer()), nullable=False),
        sa.PrimaryKeyConstraint("level", "cy", "cx", name=op.f("pk_facet_cell")),
    )
    op.create_table(
        "facet_dirty",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("service_id", sa.UUID(), nullable=True),
        sa.Column("everything", sa.Boolean(), server_default="false", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facet_dirty")),
    )
    op.create_index("ix_facet_dirty_xid", "facet_dirty", ["xid"])
    op.create_table(
        "facet_flush",
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("xid", name=op.f("pk_facet_flush")),
    )
    for function in FUNCTIONS:
        op.execute(function)
    for table, event, function in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {table}_facet_{event.lower()} AFTER {event} ON {table} "
            f"REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    op.execute(
        "CREATE CONSTRAINT TRIGGER facet_flush AFTER INSERT ON facet_flush "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ambrogio_facet_flush()"
    )
    op.execute("SELECT ambrogio_facet_rebuild()")


def downgrade() -> None:
    op.execute("DROP TRIGGER facet_flush ON facet_flush")
    for table, event, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER {table}_facet_{event.lower()} ON {table}")
    for function in FUNCTION_NAMES:
        op.execute(f"DROP FUNCTION {function}")
    op.drop_index("ix_facet_dirty_xid", table_name="facet_dirty")
    op.drop_table("facet_flush")
    op.drop_table("facet_dirty")
    op.drop_table("facet_cell")
    op.drop_index("ix_facet_spread_point_geom_utm", table_name="facet_spread_point")
    op.drop_table("facet_spread_point")
    op.drop_index("ix_facet_cell_place_service_id", table_name="facet_cell_place")
    op.drop_table("facet_cell_place")
    op.drop_index("ix_facet_cell_service_cx_cy", table_name="facet_cell_service")
    op.drop_table("facet_cell_service")
