"""accounts, review, imports and duplicates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 13:27:14

Who may edit (users, API keys), what waits for review (change requests), bulk import jobs,
duplicate candidates, the external geocoder's cache, and the freshness columns.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_key',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('prefix', sa.Text(), nullable=False),
    sa.Column('secret_hash', sa.Text(), nullable=False),
    sa.Column('scopes', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('rate_limit_per_minute', sa.Integer(), server_default='600', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('rate_limit_per_minute > 0', name=op.f('ck_api_key_rate_limit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_key_prefix'))
    )
    op.create_table('change_request',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('entity_type', sa.Text(), nullable=False),
    sa.Column('entity_id', sa.UUID(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('status', sa.Text(), server_default='pending', nullable=False),
    sa.Column('author', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint("action IN ('create', 'update', 'archive')", name=op.f('ck_change_request_action')),
    sa.CheckConstraint("entity_type IN ('provider', 'location', 'service', 'welfare_point')", name=op.f('ck_change_request_entity_type')),
    sa.CheckConstraint("status <> 'rejected' OR reason IS NOT NULL", name=op.f('ck_change_request_rejected_reason')),
    sa.CheckConstraint("status IN ('pending', 'published', 'rejected', 'superseded')", name=op.f('ck_change_request_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_request'))
    )
    op.create_index('ix_change_request_entity', 'change_request', ['entity_type', 'entity_id'], unique=False)
    op.create_index('ix_change_request_status_created_at', 'change_request', ['status', 'created_at'], unique=False)
    op.create_table('geocode_cache',
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('query', name=op.f('pk_geocode_cache'))
    )
    op.create_table('import_job',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('format', sa.Text(), nullable=False),
    sa.Column('filename', sa.Text(), nullable=True),
    sa.Column('file_sha256', sa.Text(), nullable=True),
    sa.Column('file_bytes', sa.BigInteger(), nullable=True),
    sa.Column('caller', sa.Text(), nullable=False),
    sa.Column('dry_run', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('skip_bad_rows', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('status', sa.Text(), server_default='running', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated', sa.Integer(), server_default='0', nullable=False),
    sa.Column('unchanged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('skipped', sa.Integer(), server_default='0', nullable=False),
    sa.Column('errors', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('warnings', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('failure', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'failed', 'pending_review', 'rejected')", name=op.f('ck_import_job_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_job'))
    )
    op.create_index('ix_import_job_source', 'import_job', ['source', 'started_at'], unique=False)
    op.create_index('ix_import_job_started_at', 'import_job', ['started_at'], unique=False)
    op.create_table('duplicate_candidate',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('provider_a', sa.UUID(), nullable=False),
    sa.Column('provider_b', sa.UUID(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('similarity', sa.Double(), nullable=True),
    sa.Column('distance_m', sa.Double(), nullable=True),
    sa.Column('status', sa.Text(), server_default='open', nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("reason IN ('tax_code', 'name_nearby')", name=op.f('ck_duplicate_candidate_reason')),
    sa.CheckConstraint("status IN ('open', 'dismissed', 'merged')", name=op.f('ck_duplicate_candidate_status')),
    sa.CheckConstraint('provider_a < provider_b', name=op.f('ck_duplicate_candidate_ordered')),
    sa.ForeignKeyConstraint(['provider_a'], ['organization.id'], name=op.f('fk_duplicate_candidate_provider_a_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_b'], ['organization.id'], name=op.f('fk_duplicate_candidate_provider_b_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_candidate')),
    sa.UniqueConstraint('provider_a', 'provider_b', name='uq_duplicate_candidate_pair')
    )
    op.create_index('ix_duplicate_candidate_provider_b', 'duplicate_candidate', ['provider_b'], unique=False)
    op.create_index('ix_duplicate_candidate_status', 'duplicate_candidate', ['status', 'detected_at'], unique=False)
    op.create_table('app_user',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('welfare_point_id', sa.UUID(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('tokens_valid_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("name ~ '^[A-Za-z0-9._@-]{1,64}$'", name=op.f('ck_app_user_name')),
    sa.CheckConstraint("role IN ('mapper', 'reviewer', 'admin')", name=op.f('ck_app_user_role')),
    sa.ForeignKeyConstraint(['welfare_point_id'], ['welfare_point.id'], name=op.f('fk_app_user_welfare_point_id_welfare_point'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('name', name=op.f('uq_app_user_name'))
    )
    op.create_index('ix_audit_event_at', 'audit_event', ['at'], unique=False)
    op.add_column('location', sa.Column('hours_changed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('location', sa.Column('outside_territory', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('service', sa.Column('prices_changed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('welfare_point', sa.Column('hours_changed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('welfare_point', sa.Column('outside_territory', sa.Boolean(), server_default='false', nullable=False))


def downgrade() -> None:
    op.drop_column('welfare_point', 'outside_territory')
    op.drop_column('welfare_point', 'hours_changed_at')
    op.drop_column('service', 'prices_changed_at')
    op.drop_column('location', 'outside_territory')
    op.drop_column('location', 'hours_changed_at')
    op.drop_index('ix_audit_event_at', table_name='audit_event')
    op.drop_table('app_user')
    op.drop_index('ix_duplicate_candidate_status', table_name='duplicate_candidate')
    op.drop_index('ix_duplicate_candidate_provider_b', table_name='duplicate_candidate')
    op.drop_table('duplicate_candidate')
    op.drop_index('ix_import_job_started_at', table_name='import_job')
    op.drop_index('ix_import_job_source', table_name='import_job')
    op.drop_table('import_job')
    op.drop_table('geocode_cache')
    op.drop_index('ix_change_request_status_created_at', table_name='change_request')
    op.drop_index('ix_change_request_entity', table_name='change_request')
    op.drop_table('change_request')
    op.drop_table('api_key')
