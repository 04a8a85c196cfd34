"""rate limit buckets shared by every process; persisted GraphQL documents; key limits in cost

Revision ID: 0010
Revises: 0015
Create Date: 2026-12-02 15:10:00

``rate_bucket`` holds each caller's token bucket (``ambrogio.auth.rate_limit``): unlogged, since
losing it in a crash only forgives what was spent. ``persisted_document`` holds the documents
clients registered by their SHA-256 (automatic persisted queries) and those an operator
registered from a client's manifest (``registered``: the only ones that run in trusted mode).
An API key's ``rate_limit_per_minute`` becomes cost points a minute: a limit set in requests
is taken at 100 points a request (a page of 20 with its nested lists).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'rate_bucket',
        sa.Column('key', sa.Text(), nullable=False),
        sa.Column('tokens', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('granted', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_bucket')),
        prefixes=['UNLOGGED'],
    )
    op.create_table(
        'persisted_document',
        sa.Column('id', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('registered', sa.Boolean(), server_default='false', nullable=False),
        sa.Column('client', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_persisted_document')),
    )
    op.alter_column('api_key', 'rate_limit_per_minute', server_default='60000')
    op.execute('UPDATE api_key SET rate_limit_per_minute = rate_limit_per_minute * 100')


def downgrade() -> None:
    op.execute('UPDATE api_key SET rate_limit_per_minute = greatest(1, rate_limit_per_minute / 100)')
    op.alter_column('api_key', 'rate_limit_per_minute', server_default='600')
    op.drop_table('persisted_document')
    op.drop_table('rate_bucket')
