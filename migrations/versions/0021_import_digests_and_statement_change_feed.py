"""import digests, and the change feed written once per statement

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-03 08:20:00

``import_digest`` holds, per provider, the digest of the input its last import wrote and the
warnings it had (``ambrogio.importing.digests``). Statement triggers delete it on every other write of the
provider, its locations and services, their prices, categories and places, and all of them on
a change of the taxonomy (a category name may then mean another term): what the catalogue
holds then may differ from what the input wrote. The import's merge sets the transaction's
``ambrogio.importing`` to ``on`` for its own statements.

The change feed's triggers (0007, 0008) become statement triggers with transition tables: one
``INSERT … SELECT`` of the statement's change_event rows, in the order the statement wrote
them, and one notification on ``ambrogio_catalogue`` for the statement's public entries —
their ``seq``, or ``first-last`` (the statement's entries in that range; others of other
transactions may lie between). A row-level trigger cost a PL/pgSQL call, two ``to_jsonb``, an
insert and a notification per row: most of a large import's merge.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0021'
down_revision: str | None = '0020'
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

# jit off: the join of two transition tables, which have no statistics, is estimated at
# millions of rows, and compiling it took longer than running it (0.6 s of 0.9 s for 20,000).
RECORD_CHANGES = """
CREATE FUNCTION ambrogio_record_changes() RETURNS trigger LANGUAGE plpgsql
SET jit = off AS $$
DECLARE
    first_seq bigint;
    last_seq bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH entry AS (
            INSERT INTO change_event (entity, record_id, change, published_before,
                                      published_after)
            SELECT TG_ARGV[0], n.id, 'create', false, n.status = 'published' FROM new_rows n
            RETURNING seq, published_after AS public
        )
        SELECT min(seq) FILTER (WHERE public), max(seq) FILTER (WHERE public)
        INTO first_seq, last_seq FROM entry;
    ELSIF TG_OP = 'DELETE' THEN
        WITH entry AS (
            INSERT INTO change_event (entity, record_id, change, published_before,
                                      published_after)
            SELECT TG_ARGV[0], o.id, 'delete', o.status = 'published', false FROM old_rows o
            RETURNING seq, published_before AS public
        )
        SELECT min(seq) FILTER (WHERE public), max(seq) FILTER (WHERE public)
        INTO first_seq, last_seq FROM entry;
    ELSIF TG_TABLE_NAME = 'organization' THEN
        -- Only a provider can be merged into another.
        WITH written AS (
            SELECT row_number() OVER () AS k, n AS r FROM new_rows n
        ), changed AS (
            SELECT w.k, (w.r).id, o.status AS was, (w.r).status AS now,
                   (w.r).merged_into_id IS NOT NULL AND o.merged_into_id IS NULL AS merged,
                   (w.r).merged_into_id AS survivor
            FROM written w JOIN old_rows o ON o.id = (w.r).id
            WHERE o IS DISTINCT FROM w.r
        ), entry AS (
            INSERT INTO change_event (entity, record_id, change, survivor_id, published_before,
                                      published_after)
            SELECT TG_ARGV[0], id,
                   CASE WHEN merged THEN 'merge'
                        WHEN now = 'published' AND was <> 'published' THEN 'publish'
                        WHEN now = 'archived' AND was <> 'archived' THEN 'archive'
                        ELSE 'update' END,
                   CASE WHEN merged THEN survivor END,
                   was = 'published', NOT merged AND now = 'published'
            FROM changed ORDER BY k
            RETURNING seq, published_before OR published_after AS public
        )
        SELECT min(seq) FILTER (WHERE public), max(seq) FILTER (WHERE public)
        INTO first_seq, last_seq FROM entry;
    ELSE
        WITH written AS (
            SELECT row_number() OVER () AS k, n AS r FROM new_rows n
        ), changed AS (
            SELECT w.k, (w.r).id, o.status AS was, (w.r).status AS now
            FROM written w JOIN old_rows o ON o.id = (w.r).id
            WHERE o IS DISTINCT FROM w.r
        ), entry AS (
            INSERT INTO change_event (entity, record_id, change, published_before,
                                      published_after)
            SELECT TG_ARGV[0], id,
                   CASE WHEN now = 'published' AND was <> 'published' THEN 'publish'
                        WHEN now = 'archived' AND was <> 'archived' THEN 'archive'
                        ELSE 'update' END,
                   was = 'published', now = 'published'
            FROM changed ORDER BY k
            RETURNING seq, published_before OR published_after AS public
        )
        SELECT min(seq) FILTER (WHERE public), max(seq) FILTER (WHERE public)
        INTO first_seq, last_seq FROM entry;
    END IF;
    IF first_seq IS NOT NULL THEN
        -- Delivered at commit: live subscribers (catalogueChanged) read the entries then.
        PERFORM pg_notify('ambrogio_catalogue', CASE WHEN first_seq = last_seq
            THEN first_seq::text ELSE first_seq || '-' || last_seq END);
    END IF;
    RETURN NULL;
END;
$$
"""
FEED_TABLES = {
    'organization': 'provider',
    'location': 'location',
    'service': 'service',
    'welfare_point': 'welfare_point',
}
# What 0008 left: one row-level trigger per table.
ROW_TRIGGER = (
    "CREATE TRIGGER {table}_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION ambrogio_record_change('{entity}')"
)

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
    op.execute(RECORD_CHANGES)
    for table, entity in FEED_TABLES.items():
        op.execute(f"DROP TRIGGER {table}_change ON {table}")
        for event in ('INSERT', 'UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER {table}_change_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION ambrogio_record_changes('{entity}')"
            )


def downgrade() -> None:
    for table, entity in FEED_TABLES.items():
        for event in ('INSERT', 'UPDATE', 'DELETE'):
            op.execute(f"DROP TRIGGER {table}_change_{event.lower()} ON {table}")
        op.execute(ROW_TRIGGER.format(table=table, entity=entity))
    op.execute("DROP FUNCTION ambrogio_record_changes()")
    op.execute("DROP TRIGGER taxonomy_term_digest ON taxonomy_term")
    for table, _, events in WATCHED:
        for event in events:
            op.execute(f"DROP TRIGGER {table}_digest_{event.lower()} ON {table}")
    op.execute("DROP FUNCTION ambrogio_forget_import_digest()")
    op.drop_table('import_digest')
