"""change feed: live notifications of catalogue changes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:40:00

The change trigger also notifies channel ``ambrogio_catalogue`` with the entry's ``seq`` when
the record was or is published, for the ``catalogueChanged`` subscription.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFYING = """
CREATE OR REPLACE FUNCTION ambrogio_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    entry bigint;
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
            after_published)
    RETURNING seq INTO entry;
    IF before_published OR after_published THEN
        -- Delivered at commit: live subscribers (catalogueChanged) read the entry then.
        PERFORM pg_notify('ambrogio_catalogue', entry::text);
    END IF;
    RETURN NULL;
END;
$$;
"""

SILENT = """
CREATE OR REPLACE FUNCTION ambrogio_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
    op.execute(NOTIFYING)


def downgrade() -> None:
    op.execute(SILENT)
