"""Italian full-text and trigram search on providers and services

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# unaccent() is only STABLE (its dictionary could change); generated columns and indexes
# need IMMUTABLE. Naming the dictionary explicitly makes the wrapper safe to mark so.
UNACCENT = """
CREATE OR REPLACE FUNCTION ambrogio_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""

DOCUMENT = (
    "setweight(to_tsvector('italian', ambrogio_unaccent(coalesce(name, ''))), 'A') || "
    "setweight(to_tsvector('italian', ambrogio_unaccent(coalesce(description, ''))), 'C')"
)


def upgrade() -> None:
    op.execute(UNACCENT)
    for table in ("organization", "service"):
        op.add_column(
            table,
            sa.Column(
                "search",
                postgresql.TSVECTOR(),
                sa.Computed(DOCUMENT, persisted=True),
                nullable=True,
            ),
        )
        op.create_index(f"ix_{table}_search", table, ["search"], postgresql_using="gin")
        op.create_index(
            f"ix_{table}_name_trgm",
            table,
            [sa.text("ambrogio_unaccent(lower(name)) gin_trgm_ops")],
            postgresql_using="gin",
        )


def downgrade() -> None:
    for table in ("service", "organization"):
        op.drop_index(f"ix_{table}_name_trgm", table_name=table)
        op.drop_index(f"ix_{table}_search", table_name=table)
        op.drop_column(table, "search")
    op.execute("DROP FUNCTION ambrogio_unaccent(text)")
