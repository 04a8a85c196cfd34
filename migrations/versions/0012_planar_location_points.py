"""locations in the territory's metric plane, for planar KNN

Revision ID: 0012
Revises: 0013
Create Date: 2026-12-02 15:30:00

``location.geom_utm``: the point in UTM zone 32N (EPSG:32632) for a location within lon
3°..15°, lat 36°..56°, NULL elsewhere; generated from ``geom`` (so every write keeps it), with
its own GiST index. Nearby searches walk it instead of the geography index
(``ambrogio/geo/planar.py``).
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLANAR_POINT = (
    "CASE WHEN ST_X(geom) BETWEEN 3.0 AND 15.0 AND ST_Y(geom) BETWEEN 36.0 AND 56.0 "
    "THEN ST_Transform(geom, 32632) END"
)


def upgrade() -> None:
    op.add_column(
        'location',
        sa.Column(
            'geom_utm',
            geoalchemy2.types.Geometry(geometry_type='POINT', srid=32632, spatial_index=False),
            sa.Computed(PLANAR_POINT, persisted=True),
            nullable=True,
        ),
    )
    op.create_index('ix_location_geom_utm', 'location', ['geom_utm'], unique=False, postgresql_using='gist')
    op.execute('ANALYZE location')


def downgrade() -> None:
    op.drop_index('ix_location_geom_utm', table_name='location', postgresql_using='gist')
    op.drop_column('location', 'geom_utm')
