"""Text search in Italian: full text with stemming and unaccent, trigrams for typos.

A provider is searched in its search document (``provider_search``: its name, its published
services' names and descriptions, their categories' labels and synonyms, its description; kept
up to date by triggers, see ``models.ProviderSearch``). A service is searched in its own
document (name weighted A, description C; ``models._search_document``) and through its
categories: it matches when the words of one of them (labels and synonyms of the category and
of its ancestors, ``taxonomy_term_words``) do — "fisioterapista" finds "Terapia manuale" filed
under Fisioterapia.

Each way to match is one GIN index path and a search is their union, an uncorrelated ``IN``
the planner answers from the indexes; never an ``OR`` of correlated tests, which no index
answers and which costs a probe per row. Within a radius, the owners of the locations the
spatial index finds are ``probed`` against that union instead (``column``: the location's
``organization_id``, the ``service_id`` of a service at it), hashed once (``(id IN (…)) IS
TRUE``, which PostgreSQL does not turn into a join), before any row of theirs is read: a
generic plan cannot tell how many rows either side holds, and a semi-join it guesses wrong
reruns the index scans once per row.

Typos: when the words match no category's words and no provider document at all — a
misspelling stems to a lexeme the catalogue does not hold — names are compared by trigram
word similarity instead ("badnte" finds "Badante"). Words that do match are not diluted by
near-misses: "fisioterapia" does not also bring "Psicoterapia individuale". The test is
uncorrelated, computed once per statement.

Relevance = ``ts_rank_cd`` of the document (+ 0.3 for a service filed under a category whose
words match), or, for a typo, 0.5 × the trigram word similarity of the names. With ``near``,
the blend divides relevance by ``1 + distance / BLEND_METRES``: a match 2 km away counts half
as much as the same match here.

A page by relevance is scored from the documents alone (``scored_providers``,
``scored_services``: each way to match made disjoint, each row ranked where its index path
reads it); the page then reads the rows of the best-scored only (``catalogue.search``).

Within a radius, a page is first looked for in smaller rings (``catalogue.search.rings``): a
match at distance ``d`` scores at most ``bound / (1 + d / BLEND_METRES)``, ``bound`` the most
its relevance can be (``words_bound``: per lexeme, the largest rank any document can give a
one-lexeme query, ``SearchLexemeBound``; plus the category bonus or the trigram term), so a
full page found within ``r`` whose last score reaches ``bound / (1 + r / BLEND_METRES)`` is the
page of any larger radius. In the smallest ring each located owner is probed by id
(``provider_probe``, ``service_probe``) rather than every match found first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    Subquery,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased

from ambrogio.catalogue.visibility import Stmt
from ambrogio.db.models import (
    SEARCH_CONFIG,
    Organization,
    ProviderSearch,
    SearchLexemeBound,
    Service,
    ServiceCategory,
    TaxonomyTermWords,
)

# Trigram word similarity from which a name counts as a (misspelt) match is a connection
# setting, pg_trgm.word_similarity_threshold (see db.session.SERVER_SETTINGS).
BLEND_METRES = 2000.0
CATEGORY_BONUS = 0.3
TRIGRAM_WEIGHT = 0.5
# Relative slack on a rank bound, far above the rounding of ``real`` sums (1e-7).
BOUND_MARGIN = 1e-4


@dataclass(frozen=True)
class TextQuery:
    """The words of a search. Each form is a scalar subquery, an InitPlan computed once per
    statement: written inline, a generic plan (whose values are bind parameters) would parse
    and stem the words again for every row it ranks."""

    text: str

    def tsquery(self) -> ColumnElement[object]:
        words = func.ambrogio_unaccent(literal(self.text))
        parsed = func.websearch_to_tsquery(SEARCH_CONFIG, words)
        return select(parsed.label("q")).scalar_subquery()

    def normalized(self) -> ColumnElement[str]:
        folded = func.ambrogio_unaccent(func.lower(literal(self.text)))
        return select(folded.label("n")).scalar_subquery()


def lexeme_count(query: TextQuery) -> Stmt:
    """How many lexemes the query keeps (0 when it holds only stop words)."""
    return select(func.numnode(query.tsquery()))


def _single_lexeme(query: TextQuery) -> ColumnElement[str]:
    """The lexeme of a one-lexeme query (``'lexeme'`` as tsquery prints it, quotes and
    backslashes doubled)."""
    printed = func.substring(cast(query.tsquery(), Text), literal("^'(.*)'$"))
    unquoted = func.replace(printed, literal("''"), literal("'"))
    return func.replace(unquoted, literal("\\\\"), literal("\\"))


def words_bound(query: TextQuery, bound: Any) -> Stmt:
    """``(lexemes, found, bound)``: how many lexemes the query keeps (0: only stop words),
    whether they are the catalogue's (``words_found``), and for a one-lexeme query the rank
    no document exceeds for it (``bound``, a column of ``SearchLexemeBound``; NULL for any
    other query, or a lexeme no document ever held)."""
    lexemes = func.numnode(query.tsquery())
    known = select(bound).where(SearchLexemeBound.lexeme == _single_lexeme(query))
    return select(
        lexemes.label("lexemes"),
        words_found(query).label("found"),
        case((lexemes == 1, known.scalar_subquery())).label("bound"),
    )


@dataclass(frozen=True)
class Bound:
    """What ``words_bound`` found: the most any match's relevance can be (None: unknown)."""

    lexemes: int
    relevance: float | None

    def blended(self, distance: float) -> float | None:
        """The most a match farther than ``distance`` can score on a blended page, rounded
        up: the stored bounds are sums of ``real`` weights, the ranks ``real`` too."""
        if self.relevance is None:
            return None
        return self.relevance * (1.0 + BOUND_MARGIN) / (1.0 + distance / BLEND_METRES)


def provider_bound(lexemes: int, found: bool, bound: float | None) -> Bound:
    """A provider's relevance is its document's rank, or, when the words are not found
    (then no document holds the lexeme: rank 0), the trigram term, at most TRIGRAM_WEIGHT."""
    if lexemes != 1:
        return Bound(lexemes, None)
    return Bound(lexemes, (bound or 0.0) if found else TRIGRAM_WEIGHT)


def service_bound(lexemes: int, found: bool, bound: float | None) -> Bound:
    """A service's relevance is its document's rank plus the category bonus (words found) or
    the trigram term (not found; its own document may still hold the lexeme)."""
    if lexemes != 1:
        return Bound(lexemes, None)
    return Bound(lexemes, (bound or 0.0) + (CATEGORY_BONUS if found else TRIGRAM_WEIGHT))


def _name(column: Any) -> ColumnElement[str]:
    return func.ambrogio_unaccent(func.lower(column))


def _rank(document: Any, query: TextQuery) -> ColumnElement[float]:
    return func.ts_rank_cd(document, query.tsquery(), type_=Float)


def words_found(query: TextQuery) -> ColumnElement[bool]:
    """Whether the words match a category's words or some provider's document (through its
    GIN index, migration 0013): when not, they are taken for typos. A scalar subquery, so
    that PostgreSQL computes it once per statement (an InitPlan) rather than once per row."""
    return select(func.ambrogio_words_found(query.tsquery(), type_=Boolean)).scalar_subquery()


def _filed_under_match(query: TextQuery) -> Stmt:
    """The services filed under a category whose words match."""
    terms = select(TaxonomyTermWords.term_id).where(
        TaxonomyTermWords.document.op("@@")(query.tsquery())
    )
    filed = aliased(ServiceCategory)
    return select(filed.service_id).where(filed.term_id.in_(terms))


def _typo(query: TextQuery, similarity: ColumnElement[float]) -> ColumnElement[float]:
    return case((words_found(query), 0.0), else_=TRIGRAM_WEIGHT * similarity)


def _among(column: Any, paths: Any, probed: bool) -> ColumnElement[bool]:
    found = column.in_(paths)
    return found.is_(true()) if probed else found  # type: ignore[no-any-return]


def service_matches(
    query: TextQuery, probed: bool = False, column: Any = None
) -> ColumnElement[bool]:
    """Its own document, a category's words, or (typos) its name's trigrams; ``column``, a
    service's id (``Service.id`` by default)."""
    own = aliased(Service)
    paths = union_all(
        select(own.id).where(own.search.op("@@")(query.tsquery())),
        _filed_under_match(query),
        select(own.id).where(~words_found(query), _name(own.name).op("%>")(query.normalized())),
    )
    return _among(Service.id if column is None else column, paths, probed)


def service_relevance(query: TextQuery) -> ColumnElement[float]:
    bonus = case((Service.id.in_(_filed_under_match(query)), CATEGORY_BONUS), else_=0.0)
    return _service_score(query, bonus)


def _service_score(query: TextQuery, bonus: ColumnElement[float]) -> ColumnElement[float]:
    similarity = func.word_similarity(query.normalized(), _name(Service.name))
    return _rank(Service.search, query) + bonus + _typo(query, similarity)


def provider_matches(
    query: TextQuery, probed: bool = False, column: Any = None
) -> ColumnElement[bool]:
    """Its search document, or (typos) the trigrams of its own and its services' names;
    ``column``, a provider's id (``Organization.id`` by default)."""
    document = aliased(ProviderSearch)
    paths = union_all(
        select(document.organization_id).where(document.document.op("@@")(query.tsquery())),
        select(document.organization_id).where(
            ~words_found(query), document.names.op("%>")(query.normalized())
        ),
    )
    return _among(Organization.id if column is None else column, paths, probed)


def with_provider_document(stmt: Stmt) -> Stmt:
    """``stmt`` joined to each provider's search document, which ``provider_relevance`` reads."""
    return stmt.join(ProviderSearch, ProviderSearch.organization_id == Organization.id)


def provider_relevance(query: TextQuery) -> ColumnElement[float]:
    similarity = func.word_similarity(query.normalized(), ProviderSearch.names)
    return _rank(ProviderSearch.document, query) + _typo(query, similarity)


def blended(
    relevance: ColumnElement[float], distance: ColumnElement[float]
) -> ColumnElement[float]:
    return relevance / (1.0 + func.coalesce(distance, 0.0) / BLEND_METRES)


def provider_probe(query: TextQuery, column: Any) -> ColumnElement[bool]:
    """The provider ``column`` matches: ``provider_matches`` tested on its document, one
    probe by id (for the few rows of a small radius)."""
    document = aliased(ProviderSearch)
    found = or_(
        document.document.bool_op("@@")(query.tsquery()),
        and_(~words_found(query), document.names.bool_op("%>")(query.normalized())),
    )
    return exists().where(document.organization_id == column, found)


def _filed_under(query: TextQuery, service_id: Any) -> ColumnElement[bool]:
    """The service ``service_id`` is filed under a category whose words match (one probe of
    its categories)."""
    terms = select(TaxonomyTermWords.term_id).where(
        TaxonomyTermWords.document.op("@@")(query.tsquery())
    )
    filed = aliased(ServiceCategory)
    return exists().where(filed.service_id == service_id, filed.term_id.in_(terms))


def service_probe(query: TextQuery, column: Any) -> ColumnElement[bool]:
    """The service ``column`` matches: ``service_matches`` tested on its row, one probe by
    id (as ``provider_probe``)."""
    own = aliased(Service)
    found = or_(
        own.search.bool_op("@@")(query.tsquery()),
        _filed_under(query, own.id),
        and_(~words_found(query), _name(own.name).bool_op("%>")(query.normalized())),
    )
    return exists().where(own.id == column, found)


def scored_providers(query: TextQuery, near: Subquery | None, probed: bool = False) -> Subquery:
    """``(id, score)`` of the matching providers, read from their search documents alone
    (visibility and filters are the page's, tested on the best-ranked rows only); with
    ``near``, the ``(id, d)`` of the matches within a radius, ``(id, d, score)`` blended.

    Anywhere, the two ways to match are disjoint — trigrams are tried only when the words
    match no document at all, and then the first path finds nothing — so they are a
    ``UNION ALL`` of the document's two index paths, each row ranked where it is read,
    without a probe per match.

    ``probed``: ``near``'s matches were probed one by one (``provider_probe``); the same
    scores."""
    relevance = provider_relevance(query).label("score")
    if near is not None:
        score = blended(provider_relevance(query), near.c.d).label("score")
        joined = select(near.c.id, near.c.d, score).join(
            ProviderSearch, ProviderSearch.organization_id == near.c.id
        )
        return joined.subquery()
    found = select(ProviderSearch.organization_id.label("id"), relevance)
    return union_all(
        found.where(ProviderSearch.document.op("@@")(query.tsquery())),
        found.where(~words_found(query), ProviderSearch.names.op("%>")(query.normalized())),
    ).subquery()


def scored_services(query: TextQuery, near: Subquery | None, probed: bool = False) -> Subquery:
    """``(id, score)`` of the matching services, ranked on the service rows alone (their
    providers' visibility is the page's); with ``near`` (and ``probed``) as
    ``scored_providers``."""
    if near is not None:
        if probed:
            bonus = case((_filed_under(query, Service.id), CATEGORY_BONUS), else_=0.0)
            score = blended(_service_score(query, bonus), near.c.d).label("score")
        else:
            score = blended(service_relevance(query), near.c.d).label("score")
        joined = select(near.c.id, near.c.d, score).join(Service, Service.id == near.c.id)
        return joined.subquery()
    # The three ways to match made disjoint, so that a UNION ALL holds each service once:
    # its own document (ranked in the index path that finds it); filed under a matching
    # category and not already found so (only those are read by id); trigrams, only when
    # the words match nothing — then no category matches either, and a service whose own
    # document still matches (a query with NOT: the providers' documents may not) is left
    # to the first path.
    # Each path knows its category bonus (the same value the CASE of ``service_relevance``
    # gives): filed under a matching category, or, for typos, under none.
    own = Service.search.bool_op("@@")(query.tsquery())
    mine = aliased(Service)
    by_own = select(mine.id).where(mine.search.op("@@")(query.tsquery()))
    filed = _filed_under_match(query)
    filed_only = filed.where(~filed.selected_columns[0].in_(by_own))

    def scored(score: ColumnElement[float]) -> Stmt:
        return select(Service.id, score.label("score"))

    typo = ~words_found(query), _name(Service.name).op("%>")(query.normalized()), ~own
    return union_all(
        scored(service_relevance(query)).where(own),
        scored(_service_score(query, literal(CATEGORY_BONUS))).where(Service.id.in_(filed_only)),
        scored(_service_score(query, literal(0.0))).where(*typo),
    ).subquery()
