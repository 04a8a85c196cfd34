"""import jobs: the file waiting for review, the decision, duplicates flagged

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 09:00:00

A mapper's import waits for a reviewer with its file stored on the job; the reviewer's
decision (who, when, why) and the number of likely duplicates the import flagged are kept too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('import_job', sa.Column('file_content', sa.LargeBinary(), nullable=True))
    op.add_column('import_job', sa.Column('duplicates_flagged', sa.Integer(), server_default='0', nullable=False))
    op.add_column('import_job', sa.Column('decided_by', sa.Text(), nullable=True))
    op.add_column('import_job', sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('import_job', sa.Column('reason', sa.Text(), nullable=True))
    op.create_index('ix_import_job_caller', 'import_job', ['caller', 'started_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_import_job_caller', table_name='import_job')
    op.drop_column('import_job', 'reason')
    op.drop_column('import_job', 'decided_at')
    op.drop_column('import_job', 'decided_by')
    op.drop_column('import_job', 'duplicates_flagged')
    op.drop_column('import_job', 'file_content')
