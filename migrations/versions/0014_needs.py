"""needs: anonymous need records of the welfare points, and the planner role

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-02 15:00:00

A need names a category, a comune, a date and coarse descriptors (age band, household,
employment, urgency, outcome); nothing that identifies a person. Planners see aggregates only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "role IN ('mapper', 'reviewer', 'admin')"
ROLES_AFTER = "role IN ('mapper', 'reviewer', 'admin', 'planner')"


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


AGE_BANDS = ('under_18', '18_29', '30_39', '40_49', '50_64', '65_79', '80_plus')
HOUSEHOLDS = (
    'living_alone', 'single_parent', 'couple_with_children', 'couple_without_children',
    'with_parents', 'extended_family', 'other',
)
EMPLOYMENT = ('employed', 'unemployed', 'retired', 'student', 'homemaker', 'unable_to_work', 'other')
URGENCY = ('low', 'medium', 'high')
OUTCOMES = ('referred', 'waiting', 'no_local_service', 'declined')


def upgrade() -> None:
    op.create_table('need',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('welfare_point_id', sa.UUID(), nullable=False),
    sa.Column('category_id', sa.UUID(), nullable=False),
    sa.Column('comune_istat', sa.String(length=6), nullable=False),
    sa.Column('age_band', sa.Text(), nullable=True),
    sa.Column('household', sa.Text(), nullable=True),
    sa.Column('employment', sa.Text(), nullable=True),
    sa.Column('urgency', sa.Text(), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('referred_service_id', sa.UUID(), nullable=True),
    sa.Column('source', sa.Text(), server_default='ambrogio', nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('age_band IS NULL OR ' + _one_of('age_band', AGE_BANDS), name=op.f('ck_need_age_band')),
    sa.CheckConstraint('household IS NULL OR ' + _one_of('household', HOUSEHOLDS), name=op.f('ck_need_household')),
    sa.CheckConstraint('employment IS NULL OR ' + _one_of('employment', EMPLOYMENT), name=op.f('ck_need_employment')),
    sa.CheckConstraint(_one_of('urgency', URGENCY), name=op.f('ck_need_urgency')),
    sa.CheckConstraint(_one_of('outcome', OUTCOMES), name=op.f('ck_need_outcome')),
    sa.CheckConstraint("referred_service_id IS NULL OR outcome = 'referred'", name=op.f('ck_need_referred_service')),
    sa.ForeignKeyConstraint(['category_id'], ['taxonomy_term.id'], name=op.f('fk_need_category_id_taxonomy_term'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['comune_istat'], ['comune.istat_code'], name=op.f('fk_need_comune_istat_comune')),
    sa.ForeignKeyConstraint(['referred_service_id'], ['service.id'], name=op.f('fk_need_referred_service_id_service'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['welfare_point_id'], ['welfare_point.id'], name=op.f('fk_need_welfare_point_id_welfare_point'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_need')),
    sa.UniqueConstraint('source', 'external_id', name='uq_need_source_external_id')
    )
    op.create_index('ix_need_welfare_point_id_recorded_on', 'need', ['welfare_point_id', 'recorded_on'], unique=False)
    op.create_index('ix_need_recorded_on', 'need', ['recorded_on'], unique=False)
    op.create_index('ix_need_referred_service_id', 'need', ['referred_service_id'], unique=False)
    op.drop_constraint(op.f('ck_app_user_role'), 'app_user', type_='check')
    op.create_check_constraint(op.f('ck_app_user_role'), 'app_user', ROLES_AFTER)


def downgrade() -> None:
    op.execute("UPDATE app_user SET role = 'mapper', active = false WHERE role = 'planner'")
    op.drop_constraint(op.f('ck_app_user_role'), 'app_user', type_='check')
    op.create_check_constraint(op.f('ck_app_user_role'), 'app_user', ROLES_BEFORE)
    op.drop_index('ix_need_referred_service_id', table_name='need')
    op.drop_index('ix_need_recorded_on', table_name='need')
    op.drop_index('ix_need_welfare_point_id_recorded_on', table_name='need')
    op.drop_table('need')
