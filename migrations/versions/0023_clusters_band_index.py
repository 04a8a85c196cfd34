"""the map grid's points by row and by column, with what the band of ``mapClusters`` reads

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 14:30:00

``mapClusters`` reads the points of the view's edge (the zoom-17 cells it cuts) from
``map_grid_point``, one line of cells at a time: the rows above and below the view on
``(key, y, x)``, the columns beside it on ``(key, x, y)``. Both carry the coordinates and ids
the answer sums, so that the band is read from the index alone.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CARRIED = ["lon", "lat", "location_id", "provider_id"]


def upgrade() -> None:
    op.drop_index("ix_map_grid_point_key_x_y", table_name="map_grid_point")
    op.create_index(
        "ix_map_grid_point_key_x_y",
        "map_grid_point",
        ["key", "x", "y"],
        postgresql_include=CARRIED,
    )
    op.create_index(
        "ix_map_grid_point_key_y_x",
        "map_grid_point",
        ["key", "y", "x"],
        postgresql_include=CARRIED,
    )


def downgrade() -> None:
    op.drop_index("ix_map_grid_point_key_y_x", table_name="map_grid_point")
    op.drop_index("ix_map_grid_point_key_x_y", table_name="map_grid_point")
    op.create_index("ix_map_grid_point_key_x_y", "map_grid_point", ["key", "x", "y"])
