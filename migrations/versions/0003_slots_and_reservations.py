"""slots and reservations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:05:59.558459
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Every change of a slot's seats or status is announced on a channel, so that every server
# process (each LISTENs) can push it to its subscribers, whichever process made the change.
NOTIFY = """
CREATE OR REPLACE FUNCTION ambrogio_notify_slot() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ambrogio_slot', NEW.id::text);
  RETURN NEW;
END $$
"""
TRIGGER = """
CREATE TRIGGER slot_availability_changed AFTER UPDATE OF taken, status ON slot
FOR EACH ROW WHEN (OLD.taken IS DISTINCT FROM NEW.taken OR OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION ambrogio_notify_slot()
"""


def upgrade() -> None:
    op.create_table('idempotency_key',
    sa.Column('caller', sa.Text(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('operation', sa.Text(), nullable=False),
    sa.Column('request_hash', sa.Text(), nullable=False),
    sa.Column('response', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('caller', 'key', name=op.f('pk_idempotency_key'))
    )
    op.create_index('ix_idempotency_key_created_at', 'idempotency_key', ['created_at'], unique=False)
    op.create_table('slot',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('service_id', sa.UUID(), nullable=False),
    sa.Column('location_id', sa.UUID(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('during', postgresql.TSTZRANGE(), sa.Computed('tstzrange(starts_at, ends_at)', persisted=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('taken', sa.Integer(), server_default='0', nullable=False),
    sa.Column('status', sa.Text(), server_default='open', nullable=False),
    sa.Column('source', sa.Text(), server_default='ambrogio', nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('open', 'cancelled')", name=op.f('ck_slot_status')),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_slot_capacity')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_slot_range')),
    sa.CheckConstraint('taken >= 0 AND taken <= capacity', name=op.f('ck_slot_taken')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_slot_location_id_location'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_slot_service_id_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slot')),
    sa.UniqueConstraint('source', 'external_id', name='uq_slot_source_external_id')
    )
    op.create_index('ix_slot_during', 'slot', ['during'], unique=False, postgresql_using='gist')
    op.create_index('ix_slot_service_id_starts_at', 'slot', ['service_id', 'starts_at'], unique=False)
    op.create_table('reservation',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('slot_id', sa.UUID(), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('status', sa.Text(), server_default='confirmed', nullable=False),
    sa.Column('caller', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('confirmed', 'cancelled')", name=op.f('ck_reservation_status')),
    sa.CheckConstraint('seats > 0', name=op.f('ck_reservation_seats')),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_reservation_slot_id_slot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservation'))
    )
    op.create_index('ix_reservation_slot_id', 'reservation', ['slot_id'], unique=False)
    op.execute(NOTIFY)
    op.execute(TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER slot_availability_changed ON slot")
    op.execute("DROP FUNCTION ambrogio_notify_slot()")
    op.drop_index('ix_reservation_slot_id', table_name='reservation')
    op.drop_table('reservation')
    op.drop_index('ix_slot_service_id_starts_at', table_name='slot')
    op.drop_index('ix_slot_during', table_name='slot', postgresql_using='gist')
    op.drop_table('slot')
    op.drop_index('ix_idempotency_key_created_at', table_name='idempotency_key')
    op.drop_table('idempotency_key')
