"""the map grid after a bulk write: summed anew from every point, not refreshed point by point

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 15:10:00

A refresh (0020) recomputes the points its notes name and collects the points that changed in
one array, which it then sums cell by cell, level by level. Its memory grows with the number
of points a transaction moved: a load of a million locations (``demo-data --scale 1000000``, a
regional import) gathers millions of composite rows in one backend at commit, and the server
ran out of memory there. Such a transaction rewrites most of the grid anyway; the flush now
rebuilds it, from a scan of ``location`` (no array of ids), when its notes name at least
``BULK`` locations and providers, or a quarter of the located locations; smaller
transactions keep the refresh, whose cost follows what they changed. Both leave the same
grid (the write tests compare every write with a rebuild).
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK = 0x6D617067  # as in 0020
BULK = 50_000


def _map_grid() -> ModuleType:
    """Migration 0020, whose functions this one redefines."""
    spec = importlib.util.spec_from_file_location("map_grid_0020", Path(__file__).with_name("0020_map_grid.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _points(where: str) -> str:
    """0020's ``ambrogio_map_grid_points``, its filter of locations given."""
    function: str = _map_grid().FUNCTIONS[0]
    assert "WHERE l.id = ANY(ids) AND" in function
    return function.replace("WHERE l.id = ANY(ids) AND", f"WHERE {where} AND")


def upgrade() -> None:
    # NULL: every location (the rebuild), never an array of all their ids.
    op.execute(
        _points("(ids IS NULL OR l.id = ANY(ids))").replace(
            "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
        )
    )
    op.execute(
        """
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
    )
    op.execute(
        f"""
CREATE OR REPLACE FUNCTION ambrogio_map_grid_flush() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF everything OR cardinality(orgs) + cardinality(locs) >= least({BULK}, greatest(
        1000, (SELECT reltuples FROM pg_class WHERE oid = 'location'::regclass) / 4))
    THEN
        PERFORM ambrogio_map_grid_rebuild();
    ELSE
        PERFORM ambrogio_map_grid_refresh(orgs, locs);
    END IF;
    RETURN NULL;
END;
$$
"""
    )


def downgrade() -> None:
    for function in _map_grid().FUNCTIONS:
        for name in ("points", "rebuild", "flush"):
            if f"FUNCTION ambrogio_map_grid_{name}(" in function:
                op.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
