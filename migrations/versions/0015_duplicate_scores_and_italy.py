"""duplicate pairs with a score and reasons; every comune of Italy with its province and region

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 15:20:00

A flagged pair keeps the score and the reasons its judgement gave (``editing/pair_score.py``),
and a shared RUNTS id is a reason of its own. The gazetteer holds every comune of Italy: each
comune says its province and region by name (and the region by ISTAT code). A location says how
its comune was found (``comune_precision``): given, the boundary the point falls in, or the
nearest centroid.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_REASONS = "reason IN ('tax_code', 'name_nearby')"
NEW_REASONS = "reason IN ('tax_code', 'runts_id', 'name_nearby')"
PRECISIONS = "comune_precision IN ('given', 'boundary', 'centroid')"


def upgrade() -> None:
    op.add_column('duplicate_candidate', sa.Column('score', sa.Float(), nullable=True))
    op.add_column(
        'duplicate_candidate',
        sa.Column('reasons', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    )
    op.drop_constraint(op.f('ck_duplicate_candidate_reason'), 'duplicate_candidate', type_='check')
    op.create_check_constraint(op.f('ck_duplicate_candidate_reason'), 'duplicate_candidate', NEW_REASONS)
    op.create_index(
        op.f('ix_organization_runts_id'), 'organization', ['runts_id'],
        postgresql_where=sa.text('runts_id IS NOT NULL'),
    )
    op.add_column('comune', sa.Column('province_name', sa.Text(), nullable=True))
    op.add_column('comune', sa.Column('region_code', sa.String(2), nullable=True))
    op.add_column('comune', sa.Column('region_name', sa.Text(), nullable=True))
    op.add_column('comune', sa.Column('boundary_source', sa.Text(), nullable=True))
    op.create_index(op.f('ix_comune_region_code'), 'comune', ['region_code'])
    op.add_column('location', sa.Column('comune_precision', sa.Text(), nullable=True))
    op.create_check_constraint(op.f('ck_location_comune_precision'), 'location', PRECISIONS)
    op.execute(
        "UPDATE location SET comune_precision = 'given' WHERE comune_istat IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_constraint(op.f('ck_location_comune_precision'), 'location', type_='check')
    op.drop_column('location', 'comune_precision')
    op.drop_index(op.f('ix_comune_region_code'), table_name='comune')
    op.drop_column('comune', 'boundary_source')
    op.drop_column('comune', 'region_name')
    op.drop_column('comune', 'region_code')
    op.drop_column('comune', 'province_name')
    op.drop_index(op.f('ix_organization_runts_id'), table_name='organization')
    op.execute("DELETE FROM duplicate_candidate WHERE reason = 'runts_id'")
    op.drop_constraint(op.f('ck_duplicate_candidate_reason'), 'duplicate_candidate', type_='check')
    op.create_check_constraint(op.f('ck_duplicate_candidate_reason'), 'duplicate_candidate', OLD_REASONS)
    op.drop_column('duplicate_candidate', 'reasons')
    op.drop_column('duplicate_candidate', 'score')
