"""import digests: providers an import can recognise as unchanged before validating them

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-03 08:20:00

``import_digest`` holds, per provider, the digest of the input its last import wrote and the
warnings it had (``ambrogio.importing.digests``). Statement triggers delete it on every other write of the
provider, its locations and services, their prices, categories and places, and all of them on
a change of the taxonomy (a category name may then mean another term): what the catalogue
holds then may differ from what the input wrote. The import's merge sets the transaction's
``ambrogio.importing`` to ``on`` for its own statements.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0021'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The provider a transition row belongs to, by the shape of its table.
FORGET = """
CREATE FUNCTION ambrogio_forget_import_digest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('ambrogio.importing', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_ARGV[0] = 'taxonomy' THEN
        DELETE FROM import_digest;
    ELSIF TG_ARGV[0] = 'provider' THEN
        DELETE FROM import_digest d USING old_rows o WHERE d.organization_id = o.id;
    ELSIF TG_ARGV[0] = 'owned' THEN
        IF TG_OP <> 'DELETE' THEN
            DELETE FROM import_digest d USING new_rows n WHERE d.organization_id = n.organization_id;
        END IF;
        IF TG_OP <> 'INSERT' THEN
            DELETE FROM import_digest d USING old_rows o WHERE d.organization_id = o.organization_id;
        END IF;
    ELSE
        IF TG_OP <> 'DELETE' THEN
            DELETE FROM import_digest d USING new_rows n, service s
            WHERE s.id = n.service_id AND d.organization_id = s.organization_id;
        END IF;
        IF TG_OP <> 'INSERT' THEN
            DELETE FROM import_digest d USING old_rows o, service s
            WHERE s.id = o.service_id AND d.organization_id = s.organization_id;
        END IF;
    END IF;
    RETURN NULL;
END;
$$
"""

# (table, shape, events); a trigger with transition tables fires on one event only.
WATCHED = (
    ('organization', 'provider', ('UPDATE',)),
    ('location', 'owned', ('INSERT', 'UPDATE', 'DELETE')),
    ('service', 'owned', ('INSERT', 'UPDATE', 'DELETE')),
    ('cost_option', 'of_service', ('INSERT', 'UPDATE', 'DELETE')),
    ('service_category', 'of_service', ('INSERT', 'UPDATE', 'DELETE')),
    ('service_at_location', 'of_service', ('INSERT', 'UPDATE', 'DELETE')),
)
TRANSITIONS = {
    'INSERT': 'NEW TABLE AS new_rows',
    'UPDATE': 'OLD TABLE AS old_rows NEW TABLE AS new_rows',
    'DELETE': 'OLD TABLE AS old_rows',
}


def upgrade() -> None:
    op.create_table(
        'import_digest',
        sa.Column('organization_id', sa.UUID(), nullable=False),
        sa.Column('digest', sa.LargeBinary(), nullable=False),
        sa.Column('warnings', postgresql.JSONB(), server_default='[]', nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organization.id'],
            name=op.f('fk_import_digest_organization_id_organization'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_import_digest')),
    )  # fmt: skip
    op.execute(FORGET)
    for table, shape, events in WATCHED:
        for event in events:
            op.execute(
                f"CREATE TRIGGER {table}_digest_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION ambrogio_forget_import_digest('{shape}')"
            )
    op.execute(
        "CREATE TRIGGER taxonomy_term_digest AFTER INSERT OR UPDATE OR DELETE ON taxonomy_term "
        "FOR EACH STATEMENT EXECUTE FUNCTION ambrogio_forget_import_digest('taxonomy')"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER taxonomy_term_digest ON taxonomy_term")
    for table, _, events in WATCHED:
        for event in events:
            op.execute(f"DROP TRIGGER {table}_digest_{event.lower()} ON {table}")
    op.execute("DROP FUNCTION ambrogio_forget_import_digest()")
    op.drop_table('import_digest')
