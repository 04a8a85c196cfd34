"""when a persisted document was last used, so that unused ones expire

Revision ID: 0019
Revises: 0012
Create Date: 2026-12-02 18:20:00

``persisted_document.used_at``: the last time a request ran the document (kept to the hour,
``ambrogio.http.persisted``). Documents clients registered as they went (automatic persisted
queries) and not used for ``AMBROGIO_PERSISTED_RETENTION_DAYS`` are purged
(``ambrogio.db.housekeeping``); registered ones never are. Existing rows start as used now.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'persisted_document',
        sa.Column(
            'used_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False
        ),
    )
    op.create_index(
        'ix_persisted_document_unregistered_used_at',
        'persisted_document',
        ['used_at'],
        postgresql_where=sa.text('NOT registered'),
    )


def downgrade() -> None:
    op.drop_index('ix_persisted_document_unregistered_used_at', 'persisted_document')
    op.drop_column('persisted_document', 'used_at')
