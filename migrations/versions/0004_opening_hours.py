"""open intervals derived from opening hours

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:30:00

The tables are derived data: ``ambrogio refresh-hours`` (run by ``ambrogio migrate``) fills
them from the locations' and welfare points' ``opening_hours``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "opening_hours_set",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("hours", sa.Text(), nullable=False),
        sa.Column("comune_istat", sa.String(length=6), server_default="", nullable=False),
        sa.Column("computed_for", postgresql.TSTZRANGE(), nullable=False),
        sa.Column(
            "computed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "comune_istat ~ '^([0-9]{6})?$'", name=op.f("ck_opening_hours_set_comune_istat")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opening_hours_set")),
        sa.UniqueConstraint("hours", "comune_istat", name="uq_opening_hours_set_key"),
    )
    op.create_table(
        "open_interval",
        sa.Column("set_id", sa.BigInteger(), nullable=False),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["opening_hours_set.id"],
            name=op.f("fk_open_interval_set_id_opening_hours_set"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("set_id", "during", name=op.f("pk_open_interval")),
    )
    op.create_index(
        "ix_open_interval_during", "open_interval", ["during"], unique=False, postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_index("ix_open_interval_during", table_name="open_interval", postgresql_using="gist")
    op.drop_table("open_interval")
    op.drop_table("opening_hours_set")
