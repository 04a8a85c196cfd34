"""change feed: every change of a catalogue record, written by triggers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:20:00

A row-level trigger on organization, location, service and welfare_point writes one
change_event per changed row (create, update, publish, archive, merge, delete) in the writing
transaction, with that transaction's id, so the feed can be read in commit-safe order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {
    'organization': 'provider',
    'location': 'location',
    'service': 'service',
    'welfare_point': 'welfare_point',
}

RECORD_CHANGE = """
CREATE FUNCTION ambrogio_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    survivor uuid;
    before_published boolean := false;
    after_published boolean := false;
    old_row jsonb;
    new_row jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        new_row := to_jsonb(NEW);
        kind := 'create';
        after_published := NEW.status = 'published';
    ELSIF TG_OP = 'DELETE' THEN
        old_row := to_jsonb(OLD);
        kind := 'delete';
        before_published := OLD.status = 'published';
    ELSE
        old_row := to_jsonb(OLD);
        new_row := to_jsonb(NEW);
        IF old_row = new_row THEN
            RETURN NULL;
        END IF;
        before_published := OLD.status = 'published';
        after_published := NEW.status = 'published';
        IF new_row ? 'merged_into_id' AND new_row->>'merged_into_id' IS NOT NULL
                AND old_row->>'merged_into_id' IS NULL THEN
            kind := 'merge';
            survivor := (new_row->>'merged_into_id')::uuid;
            after_published := false;
        ELSIF NEW.status = 'published' AND OLD.status <> 'published' THEN
            kind := 'publish';
        ELSIF NEW.status = 'archived' AND OLD.status <> 'archived' THEN
            kind := 'archive';
        ELSE
            kind := 'update';
        END IF;
    END IF;
    INSERT INTO change_event (entity, record_id, change, survivor_id, published_before,
                              published_after)
    VALUES (TG_ARGV[0], (COALESCE(new_row, old_row)->>'id')::uuid, kind, survivor, before_published,
            after_published);
    RETURN NULL;
END;
$$;
"""


def upgrade() -> None:
    op.create_table(
        'change_event',
        sa.Column('seq', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            'txid',
            sa.BigInteger(),
            server_default=sa.text('(pg_current_xact_id()::text)::bigint'),
            nullable=False,
        ),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('entity', sa.Text(), nullable=False),
        sa.Column('record_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('change', sa.Text(), nullable=False),
        sa.Column('survivor_id', postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column('published_before', sa.Boolean(), nullable=False),
        sa.Column('published_after', sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "entity IN ('provider', 'location', 'service', 'welfare_point')",
            name=op.f('ck_change_event_entity'),
        ),
        sa.CheckConstraint(
            "change IN ('create', 'update', 'publish', 'archive', 'merge', 'delete')",
            name=op.f('ck_change_event_change'),
        ),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_change_event')),
    )
    op.create_index('ix_change_event_txid_seq', 'change_event', ['txid', 'seq'], unique=False)
    op.create_index('ix_change_event_at', 'change_event', ['at'], unique=False)
    op.create_table(
        'change_horizon',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('txid', sa.BigInteger(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column(
            'purged_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False
        ),
        sa.CheckConstraint('id = 1', name=op.f('ck_change_horizon_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_change_horizon')),
    )
    op.execute(RECORD_CHANGE)
    for table, entity in TABLES.items():
        op.execute(
            f"CREATE TRIGGER {table}_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ambrogio_record_change('{entity}')"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_change ON {table}")
    op.execute("DROP FUNCTION ambrogio_record_change()")
    op.drop_table('change_horizon')
    op.drop_index('ix_change_event_at', table_name='change_event')
    op.drop_index('ix_change_event_txid_seq', table_name='change_event')
    op.drop_table('change_event')
