"""per lexeme, an upper bound of its rank in any provider's or service's search document

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 03:10:00

``search_lexeme_bound`` holds, for each lexeme of the search documents, a number no provider
document (``provider``) and no service document (``service``) ranks above for that lexeme alone:
``ts_rank_cd`` of a one-lexeme query is the sum of the weights of the lexeme's positions
(0.1, 0.2, 0.4, 1.0 for D, C, B, A; one D position when it has none), and
``ambrogio_rank_bound`` computes that sum. A search within a radius reads it to stop once no
row farther out can rank on the page (``catalogue.text``).

The bounds only grow: statement-level triggers on ``provider_search`` and ``service`` fold in
the lexemes each statement wrote, and raise a bound only where the written documents exceed it
(so that concurrent writes lock no row unless they do). A bound left high by a document since
changed or deleted is still an upper bound.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = """
CREATE TABLE search_lexeme_bound (
    lexeme text CONSTRAINT pk_search_lexeme_bound PRIMARY KEY,
    provider real,
    service real
)
"""

RANK_BOUND = """
CREATE FUNCTION ambrogio_rank_bound(weights text[]) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum(CASE w WHEN 'A' THEN 1.0 WHEN 'B' THEN 0.4 WHEN 'C' THEN 0.2
                               ELSE 0.1 END), 0.1)::real
    FROM unnest(weights) AS w
$$
"""

# One function per column: the documents of ``new_rows`` folded into the bounds.
FOLD = """
CREATE FUNCTION ambrogio_{column}_bounds_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_lexeme_bound AS b (lexeme, {column})
    SELECT written.lexeme, written.bound
    FROM (
        SELECT u.lexeme, max(ambrogio_rank_bound(u.weights)) AS bound
        FROM new_rows AS n, unnest(n.{document}) AS u
        GROUP BY u.lexeme
    ) AS written
    LEFT JOIN search_lexeme_bound AS known ON known.lexeme = written.lexeme
    WHERE known.{column} IS NULL OR known.{column} < written.bound
    ON CONFLICT (lexeme) DO UPDATE SET {column} = EXCLUDED.{column}
    WHERE b.{column} IS NULL OR b.{column} < EXCLUDED.{column};
    RETURN NULL;
END;
$$
"""

# (table, its document column, the bound's column)
SOURCES = (("provider_search", "document", "provider"), ("service", "search", "service"))

BACKFILL = """
INSERT INTO search_lexeme_bound (lexeme, provider, service)
SELECT lexeme, max(provider), max(service)
FROM (
    SELECT u.lexeme, ambrogio_rank_bound(u.weights) AS provider, NULL::real AS service
    FROM provider_search AS p, unnest(p.document) AS u
    UNION ALL
    SELECT u.lexeme, NULL, ambrogio_rank_bound(u.weights)
    FROM service AS s, unnest(s.search) AS u
) AS bounds
GROUP BY lexeme
"""


def upgrade() -> None:
    op.execute(TABLE)
    op.execute(RANK_BOUND)
    for table, document, column in SOURCES:
        op.execute(FOLD.format(column=column, document=document))
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER {table}_bounds_{event.lower()} AFTER {event} ON {table} "
                "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION ambrogio_{column}_bounds_written()"
            )
    op.execute(BACKFILL)


def downgrade() -> None:
    for table, _, column in SOURCES:
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER {table}_bounds_{event} ON {table}")
        op.execute(f"DROP FUNCTION ambrogio_{column}_bounds_written()")
    op.execute("DROP FUNCTION ambrogio_rank_bound(text[])")
    op.execute("DROP TABLE search_lexeme_bound")
