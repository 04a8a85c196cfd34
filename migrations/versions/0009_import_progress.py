"""import jobs: rows validated so far, of how many

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:50:00

A running import's job tells how far validation has got (``rows_done`` of ``rows_total``), so
that a client polling ``importJob`` can draw a bar.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('import_job', sa.Column('rows_done', sa.Integer(), server_default='0', nullable=False))
    op.add_column('import_job', sa.Column('rows_total', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('import_job', 'rows_total')
    op.drop_column('import_job', 'rows_done')
