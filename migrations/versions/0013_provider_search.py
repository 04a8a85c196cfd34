"""a search document per provider, kept up to date by triggers

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-02 15:00:00

``provider_search`` holds, for each provider, one Italian full-text document — its name (A),
its published services' names (B), the words of their categories (C: labels and synonyms of
the category and of its ancestors) and its description (C), the services' descriptions (D) —
and the unaccented names (the provider's and its services') that trigram search reads, each
with a GIN index. ``taxonomy_term_words`` holds a category's words. Statement-level triggers
(transition tables: one refresh per statement, however many rows it wrote, so that a bulk
``INSERT … SELECT`` pays once) rebuild the documents of the providers a write touched:
the provider itself, a service (name, description, status, owner), a service's categories,
a category's labels, synonyms, parent or status.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0013'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = (
    """
CREATE FUNCTION ambrogio_refresh_term_words() RETURNS uuid[] LANGUAGE plpgsql AS $$
DECLARE
    changed uuid[];
BEGIN
    WITH RECURSIVE lineage AS (
        SELECT id AS term_id, id AS ancestor_id FROM taxonomy_term
        UNION ALL
        SELECT lineage.term_id, parent.parent_id
        FROM lineage JOIN taxonomy_term AS parent ON parent.id = lineage.ancestor_id
        WHERE parent.parent_id IS NOT NULL
    ), computed AS (
        SELECT lineage.term_id,
               coalesce(string_agg(
                   concat_ws(' ', a.label_it, a.label_en, array_to_string(a.synonyms, ' ')),
                   ' ' ORDER BY a.id), '') AS words
        FROM lineage
        LEFT JOIN taxonomy_term AS a ON a.id = lineage.ancestor_id AND a.status = 'published'
        GROUP BY lineage.term_id
    ), written AS (
        INSERT INTO taxonomy_term_words AS t (term_id, words)
        SELECT term_id, words FROM computed
        ON CONFLICT (term_id) DO UPDATE SET words = EXCLUDED.words
        WHERE t.words IS DISTINCT FROM EXCLUDED.words
        RETURNING t.term_id
    )
    SELECT array_agg(term_id) INTO changed FROM written;
    RETURN coalesce(changed, '{}');
END;
$$
""",
    # ``||`` of tsvectors as an aggregate: the parts are parsed once, where they are written
    # (the generated ``search`` columns, ``taxonomy_term_words.document``), never per provider.
    """
CREATE AGGREGATE ambrogio_tsvector_agg(tsvector) (
    SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = ''
)
""",
    # Set-based, for one provider or a million: the documents of the providers ``ids``, from
    # the provider's own (name A, description C), its published services' (their names as B,
    # their descriptions as D) and their categories' words (C).
    """
CREATE FUNCTION ambrogio_refresh_provider_search(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    WITH asked AS (
        SELECT DISTINCT id FROM unnest(ids) AS asked(id)
    ), offered AS (
        SELECT s.organization_id,
               ambrogio_tsvector_agg(
                   setweight(ts_filter(s.search, '{a}'), 'B')
                   || setweight(ts_filter(s.search, '{c}'), 'D') ORDER BY s.name, s.id
               ) AS document,
               string_agg(s.name, ' ' ORDER BY s.name, s.id) AS names
        FROM service AS s JOIN asked ON asked.id = s.organization_id
        WHERE s.status = 'published'
        GROUP BY s.organization_id
    ), filed AS (
        SELECT f.organization_id,
               setweight(ambrogio_tsvector_agg(w.document ORDER BY w.term_id), 'C') AS document
        FROM (
            SELECT DISTINCT s.organization_id, sc.term_id
            FROM service AS s
            JOIN asked ON asked.id = s.organization_id
            JOIN service_category AS sc ON sc.service_id = s.id
            WHERE s.status = 'published'
        ) AS f
        JOIN taxonomy_term_words AS w ON w.term_id = f.term_id
        GROUP BY f.organization_id
    )
    INSERT INTO provider_search AS p (organization_id, document, names)
    SELECT o.id,
           coalesce(o.search, '') || coalesce(offered.document, '')
           || coalesce(filed.document, ''),
           ambrogio_unaccent(lower(concat_ws(' ', o.name, offered.names)))
    FROM asked
    JOIN organization AS o ON o.id = asked.id
    LEFT JOIN offered ON offered.organization_id = o.id
    LEFT JOIN filed ON filed.organization_id = o.id
    ON CONFLICT (organization_id) DO UPDATE
    SET document = EXCLUDED.document, names = EXCLUDED.names
    WHERE p.document IS DISTINCT FROM EXCLUDED.document OR p.names IS DISTINCT FROM EXCLUDED.names
$$
""",
    # Whether the words are the catalogue's: a category's (a few dozen rows, read first) or
    # some provider document's. EXISTS alone would be planned as a sequential scan that
    # stops at the first match: quick for a common word, a scan of every document for a typo,
    # which matches none. The GIN index answers both in about the same time.
    """
CREATE FUNCTION ambrogio_words_found(query tsquery) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET enable_seqscan = off
AS $$
    SELECT EXISTS (SELECT 1 FROM taxonomy_term_words WHERE document @@ query)
        OR EXISTS (SELECT 1 FROM provider_search WHERE document @@ query)
$$
""",
    """
CREATE FUNCTION ambrogio_provider_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ambrogio_refresh_provider_search(ARRAY(SELECT id FROM new_rows));
    ELSE
        PERFORM ambrogio_refresh_provider_search(ARRAY(
            SELECT n.id FROM new_rows AS n JOIN old_rows AS o USING (id)
            WHERE (n.name, n.description) IS DISTINCT FROM (o.name, o.description)));
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_service_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ambrogio_refresh_provider_search(ARRAY(
            SELECT DISTINCT organization_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM ambrogio_refresh_provider_search(ARRAY(
            SELECT DISTINCT organization_id FROM old_rows));
    ELSE
        PERFORM ambrogio_refresh_provider_search(ARRAY(
            SELECT unnest(ARRAY[n.organization_id, o.organization_id])
            FROM new_rows AS n JOIN old_rows AS o USING (id)
            WHERE (n.name, n.description, n.status, n.organization_id)
                  IS DISTINCT FROM (o.name, o.description, o.status, o.organization_id)));
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_service_category_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ambrogio_refresh_provider_search(ARRAY(
            SELECT DISTINCT s.organization_id
            FROM service AS s WHERE s.id IN (SELECT service_id FROM new_rows)));
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM ambrogio_refresh_provider_search(ARRAY(
            SELECT DISTINCT s.organization_id
            FROM service AS s WHERE s.id IN (SELECT service_id FROM old_rows)));
    END IF;
    RETURN NULL;
END;
$$
""",
    """
CREATE FUNCTION ambrogio_taxonomy_term_written() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed uuid[] := ambrogio_refresh_term_words();
BEGIN
    IF cardinality(changed) > 0 THEN
        PERFORM ambrogio_refresh_provider_search(ARRAY(
            SELECT DISTINCT s.organization_id
            FROM service_category AS sc JOIN service AS s ON s.id = sc.service_id
            WHERE sc.term_id = ANY(changed)));
    END IF;
    RETURN NULL;
END;
$$
""",
)

# (table, event, function): one statement-level trigger each, since a trigger with transition
# tables fires on one event only.
TRIGGERS = (
    ("organization", "INSERT", "ambrogio_provider_written"),
    ("organization", "UPDATE", "ambrogio_provider_written"),
    ("service", "INSERT", "ambrogio_service_written"),
    ("service", "UPDATE", "ambrogio_service_written"),
    ("service", "DELETE", "ambrogio_service_written"),
    ("service_category", "INSERT", "ambrogio_service_category_written"),
    ("service_category", "UPDATE", "ambrogio_service_category_written"),
    ("service_category", "DELETE", "ambrogio_service_category_written"),
)
TRANSITIONS = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.add_column(
        'taxonomy_term',
        sa.Column('synonyms', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    )
    op.create_table(
        'taxonomy_term_words',
        sa.Column('term_id', sa.UUID(), nullable=False),
        sa.Column('words', sa.Text(), nullable=False),
        sa.Column(
            'document',
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('italian', ambrogio_unaccent(words))", persisted=True),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ['term_id'], ['taxonomy_term.id'],
            name=op.f('fk_taxonomy_term_words_term_id_taxonomy_term'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('term_id', name=op.f('pk_taxonomy_term_words')),
    )
    op.create_table(
        'provider_search',
        sa.Column('organization_id', sa.UUID(), nullable=False),
        sa.Column('document', postgresql.TSVECTOR(), nullable=False),
        sa.Column('names', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organization.id'],
            name=op.f('fk_provider_search_organization_id_organization'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_provider_search')),
    )
    op.create_index(
        'ix_provider_search_document', 'provider_search', ['document'], postgresql_using='gin'
    )
    op.create_index(
        'ix_provider_search_names_trgm',
        'provider_search',
        ['names'],
        postgresql_using='gin',
        postgresql_ops={'names': 'gin_trgm_ops'},
    )
    for function in FUNCTIONS:
        op.execute(function)
    for table, event, function in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {table}_search_{event.lower()} AFTER {event} ON {table} "
            f"REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    op.execute(
        "CREATE TRIGGER taxonomy_term_search AFTER INSERT OR UPDATE OR DELETE ON taxonomy_term "
        "FOR EACH STATEMENT EXECUTE FUNCTION ambrogio_taxonomy_term_written()"
    )
    op.execute("SELECT ambrogio_refresh_term_words()")
    op.execute("SELECT ambrogio_refresh_provider_search(ARRAY(SELECT id FROM organization))")


def downgrade() -> None:
    op.execute("DROP TRIGGER taxonomy_term_search ON taxonomy_term")
    for table, event, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER {table}_search_{event.lower()} ON {table}")
    for function in (
        "ambrogio_taxonomy_term_written()",
        "ambrogio_service_category_written()",
        "ambrogio_service_written()",
        "ambrogio_provider_written()",
        "ambrogio_words_found(tsquery)",
        "ambrogio_refresh_provider_search(uuid[])",
        "ambrogio_refresh_term_words()",
    ):
        op.execute(f"DROP FUNCTION {function}")
    op.execute("DROP AGGREGATE ambrogio_tsvector_agg(tsvector)")
    op.drop_index('ix_provider_search_names_trgm', table_name='provider_search')
    op.drop_index('ix_provider_search_document', table_name='provider_search')
    op.drop_table('provider_search')
    op.drop_table('taxonomy_term_words')
    op.drop_column('taxonomy_term', 'synonyms')
