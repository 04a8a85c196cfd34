"""Text search in Italian: full text with stemming and unaccent, trigrams for typos.

A row matches ``text`` when its search document (name weighted A, description C; see
``models._search_document``) matches the query; or when the unaccented name is within trigram
word-similarity of it ("badnte" finds "Badante"); or — for services — when one of its
categories' Italian or English labels matches ("fisioterapia" finds "Seduta riabilitativa"
filed under Fisioterapia).

Relevance = ``ts_rank_cd`` of the document + 0.5 × trigram word similarity of the name
+ 0.3 when a category matches. With ``near``, the blend divides relevance by
``1 + distance / BLEND_METRES``: a match 2 km away counts half as much as the same match here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, case, exists, func, literal, or_, select, type_coerce

from ambrogio.catalogue.visibility import PUBLISHED, Stmt
from ambrogio.db.models import SEARCH_CONFIG, Organization, Service, ServiceCategory, TaxonomyTerm

# Trigram word similarity from which a name counts as a (misspelt) match is a connection
# setting, pg_trgm.word_similarity_threshold (see db.session.SERVER_SETTINGS).
BLEND_METRES = 2000.0
CATEGORY_BONUS = 0.3
TRIGRAM_WEIGHT = 0.5


@dataclass(frozen=True)
class TextQuery:
    text: str

    def tsquery(self) -> ColumnElement[object]:
        return func.websearch_to_tsquery(SEARCH_CONFIG, func.ambrogio_unaccent(literal(self.text)))

    def normalized(self) -> ColumnElement[str]:
        return func.ambrogio_unaccent(func.lower(literal(self.text)))


def lexeme_count(query: TextQuery) -> Stmt:
    """How many lexemes the query keeps (0 when it holds only stop words)."""
    return select(func.numnode(query.tsquery()))


def _name(column: Any) -> ColumnElement[str]:
    return func.ambrogio_unaccent(func.lower(column))


def _category_match(query: TextQuery) -> ColumnElement[bool]:
    labels = func.to_tsvector(
        SEARCH_CONFIG,
        func.ambrogio_unaccent(TaxonomyTerm.label_it + " " + TaxonomyTerm.label_en),
    )
    return exists().where(
        ServiceCategory.service_id == Service.id,
        TaxonomyTerm.id == ServiceCategory.term_id,
        TaxonomyTerm.status == PUBLISHED,
        labels.op("@@")(query.tsquery()),
    )


def service_matches(query: TextQuery) -> ColumnElement[bool]:
    return or_(
        Service.search.op("@@")(query.tsquery()),
        _name(Service.name).op("%>")(query.normalized()),
        _category_match(query),
    )


def service_relevance(query: TextQuery) -> ColumnElement[float]:
    rank = type_coerce(func.ts_rank_cd(Service.search, query.tsquery()), Float)
    similarity = func.word_similarity(query.normalized(), _name(Service.name))
    bonus = case((_category_match(query), CATEGORY_BONUS), else_=0.0)
    return rank + TRIGRAM_WEIGHT * similarity + bonus


def provider_matches(query: TextQuery) -> ColumnElement[bool]:
    """The provider's own name or description, or one of its published services."""
    return or_(
        Organization.search.op("@@")(query.tsquery()),
        _name(Organization.name).op("%>")(query.normalized()),
        exists().where(
            Service.organization_id == Organization.id,
            Service.status == PUBLISHED,
            service_matches(query),
        ),
    )


def provider_relevance(query: TextQuery) -> ColumnElement[float]:
    rank = type_coerce(func.ts_rank_cd(Organization.search, query.tsquery()), Float)
    similarity = func.word_similarity(query.normalized(), _name(Organization.name))
    best_service = (
        select(func.max(service_relevance(query)))
        .where(Service.organization_id == Organization.id, Service.status == PUBLISHED)
        .where(service_matches(query))
        .scalar_subquery()
    )
    return rank + TRIGRAM_WEIGHT * similarity + func.coalesce(best_service, 0.0)


def blended(
    relevance: ColumnElement[float], distance: ColumnElement[float]
) -> ColumnElement[float]:
    return relevance / (1.0 + func.coalesce(distance, 0.0) / BLEND_METRES)
