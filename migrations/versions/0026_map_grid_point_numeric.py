"""the map grid's points carry their coordinates as numeric, in the band's indexes

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 03:40:00

``mapClusters`` sums the points of the view's edge (the band) with the grid's cells, exactly,
in numeric: each band point's ``lon::numeric`` and ``lat::numeric``. That conversion (the
float printed to 15 digits and read back) was the largest part of a street-level view's
statement at a region's scale: a few thousand points a view. The points now store it
(generated, so every writer of ``map_grid_point`` keeps it: the same expression, the same
value), and both indexes the band reads by line carry it, so that the band stays an
index-only scan (the table is vacuumed at the end, outside the migration's transaction).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ["lon", "lat", "location_id", "provider_id"]
CARRIED = ["lon", "lat", "lon_numeric", "lat_numeric", "location_id", "provider_id"]


def _indexes(carried: list[str]) -> None:
    op.drop_index("ix_map_grid_point_key_y_x", table_name="map_grid_point")
    op.drop_index("ix_map_grid_point_key_x_y", table_name="map_grid_point")
    for name, columns in (
        ("ix_map_grid_point_key_x_y", ["key", "x", "y"]),
        ("ix_map_grid_point_key_y_x", ["key", "y", "x"]),
    ):
        op.create_index(name, "map_grid_point", columns, postgresql_include=carried)


def upgrade() -> None:
    op.execute(
        "ALTER TABLE map_grid_point"
        " ADD COLUMN lon_numeric numeric GENERATED ALWAYS AS (lon::numeric) STORED,"
        " ADD COLUMN lat_numeric numeric GENERATED ALWAYS AS (lat::numeric) STORED"
    )
    _indexes(CARRIED)
    # The rewrite left no page all-visible: without a VACUUM the band's index-only scans
    # visit the heap for every point until autovacuum comes by.
    with op.get_context().autocommit_block():
        op.execute("VACUUM (ANALYZE) map_grid_point")


def downgrade() -> None:
    _indexes(BEFORE)
    op.execute("ALTER TABLE map_grid_point DROP COLUMN lat_numeric, DROP COLUMN lon_numeric")
