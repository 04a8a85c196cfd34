"""The published catalogue a page at a time, as HSDS 3.0 documents: what the HSDS REST API
(``http/hsds.py``) serves.

The rows come from the same builders as GraphQL's: ``catalogue.visibility`` for what the public
sees, ``catalogue.filters`` and ``catalogue.search`` for filters and text, so a service the
GraphQL ``services`` query would not show is not here either. Pages are numbered (HSDS pages by
number); each is ordered by name, then id, so a page holds the same records until the
catalogue changes. Documents are the export's (``export.hsds``), built for the page's providers
in a few statements (``export.catalogue.batch_of``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ambrogio.catalogue import text as text_search
from ambrogio.catalogue.filters import ServiceFilterSpec, descendants_of
from ambrogio.catalogue.search import service_search
from ambrogio.catalogue.text import TextQuery
from ambrogio.catalogue.visibility import (
    PUBLISHED,
    Condition,
    Stmt,
    location_visible,
    provider_visible,
    service_visible,
)
from ambrogio.db.models import (
    Comune,
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from ambrogio.export import hsds
from ambrogio.export.catalogue import batch_of
from ambrogio.geo.point import geography
from ambrogio.ids import NAMESPACE


@dataclass(frozen=True)
class Page:
    """A page of documents and the count of the whole list."""

    documents: list[dict[str, Any]]
    total: int


@dataclass(frozen=True)
class ServiceQuery:
    text: TextQuery | None = None
    taxonomy_term: uuid.UUID | None = None
    taxonomy: uuid.UUID | None = None
    organization: uuid.UUID | None = None
    modified_after: datetime | None = None


def _paged(stmt: Stmt, order: Sequence[Any], number: int, size: int) -> Stmt:
    return stmt.order_by(*order).offset((number - 1) * size).limit(size)


async def _count(session: AsyncSession, stmt: Stmt) -> int:
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    return int((await session.execute(counted)).scalar_one())


async def _providers(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Organization]:
    found = {
        row.id: row
        for row in (await session.scalars(select(Organization).where(Organization.id.in_(ids))))
    }
    return [found[key] for key in ids if key in found]


def _organization_conditions(text: TextQuery | None) -> list[Condition]:
    conditions = [provider_visible()]
    if text is not None:
        conditions.append(text_search.provider_matches(text))
    return conditions


async def organizations(
    session: AsyncSession, text: TextQuery | None, number: int, size: int, *, nested: bool
) -> Page:
    """Organizations by name; ``nested``: with their locations and full services."""
    stmt = select(Organization.id).where(*_organization_conditions(text))
    ids = list(
        (
            await session.scalars(_paged(stmt, [Organization.name, Organization.id], number, size))
        ).all()
    )
    providers = await _providers(session, ids)
    batch = await batch_of(session, providers)
    documents = [hsds.organization(provider, batch) for provider in providers]
    if not nested:
        documents = [one_to_one(document, ORGANIZATION_NESTED) for document in documents]
    return Page(documents, await _count(session, stmt))


async def organization(
    session: AsyncSession, key: uuid.UUID, *, full_service: bool
) -> dict[str, Any] | None:
    """One visible organization with its locations; its services whole, or their ids only."""
    visible = select(Organization.id).where(Organization.id == key, provider_visible())
    providers = await _providers(session, list((await session.scalars(visible)).all()))
    if not providers:
        return None
    document = hsds.organization(providers[0], await batch_of(session, providers))
    if not full_service:
        document["services"] = [
            {"id": s["id"], "name": s["name"], "status": s["status"]}
            for s in document.get("services", [])
        ]
    return document


async def _service_conditions(session: AsyncSession, query: ServiceQuery) -> list[Condition]:
    # An unknown term or taxonomy matches nothing (an empty page), as any other value would.
    terms: set[uuid.UUID] | None = None
    if query.taxonomy_term is not None:
        terms = set((await session.scalars(descendants_of(query.taxonomy_term))).all())
    if query.taxonomy is not None:
        names = [v for v in await _vocabularies(session) if taxonomy_id(v) == query.taxonomy]
        of_taxonomy = set((await session.scalars(terms_of(names))).all())
        terms = of_taxonomy if terms is None else terms & of_taxonomy
    spec = ServiceFilterSpec(
        category_ids=sorted(terms) if terms is not None else None,
        modified_after=query.modified_after,
    )
    conditions = service_search(spec, query.text, None, None)
    if query.organization is not None:
        conditions.append(Service.organization_id == query.organization)
    return conditions


async def services(
    session: AsyncSession, query: ServiceQuery, number: int, size: int, *, nested: bool
) -> Page:
    """Services by name; ``nested``: whole, else their one-to-one fields and organization."""
    conditions = await _service_conditions(session, query)
    stmt = select(Service.id, Service.organization_id).where(*conditions)
    rows = (await session.execute(_paged(stmt, [Service.name, Service.id], number, size))).all()
    documents = await _service_documents(session, rows)
    if not nested:
        documents = [one_to_one(document, SERVICE_NESTED) for document in documents]
    return Page(documents, await _count(session, stmt))


async def service(session: AsyncSession, key: uuid.UUID) -> dict[str, Any] | None:
    """One visible service with everything HSDS nests in it, its organization included."""
    stmt = select(Service.id, Service.organization_id).where(Service.id == key, service_visible())
    documents = await _service_documents(session, (await session.execute(stmt)).all())
    return documents[0] if documents else None


async def _service_documents(session: AsyncSession, rows: Sequence[Any]) -> list[dict[str, Any]]:
    owners = list(dict.fromkeys(owner for _, owner in rows))
    providers = await _providers(session, owners)
    batch = await batch_of(session, providers)
    by_id: dict[uuid.UUID, dict[str, Any]] = {}
    for provider in providers:
        document = hsds.organization(provider, batch)
        summary = one_to_one(document, ORGANIZATION_NESTED)
        for entry in document.get("services", []):
            by_id[uuid.UUID(entry["id"])] = {**entry, "organization": summary}
    return [by_id[key] for key, _ in rows if key in by_id]


# What HSDS nests in a record (the list forms leave them out).
ORGANIZATION_NESTED = frozenset(
    {
        "funding",
        "contacts",
        "phones",
        "locations",
        "programs",
        "organization_identifiers",
        "attributes",
        "metadata",
        "services",
    }
)
SERVICE_NESTED = frozenset(
    {
        "phones",
        "schedules",
        "service_areas",
        "service_at_locations",
        "languages",
        "funding",
        "cost_options",
        "required_documents",
        "contacts",
        "attributes",
        "metadata",
    }
)


def one_to_one(document: dict[str, Any], nested: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in nested}


@dataclass(frozen=True)
class Near:
    """``postcode`` and ``proximity``: the comune centroid of a CAP, and metres around it."""

    postcode: str
    metres: float | None = None


def _near_clauses(near: Near, centroid: Any) -> tuple[list[Condition], Any]:
    """The clauses a postcode adds, and the distance to order by (None without proximity)."""
    if near.metres is None:
        return [Location.cap == near.postcode], None
    point = geography(Location.geom)
    return (
        [func.ST_DWithin(point, centroid, near.metres)],
        func.ST_Distance(point, centroid),
    )


def postcode_centroid(postcode: str) -> Stmt:
    """The centroid (as geography) of the comune holding this CAP; no row when none does."""
    return (
        select(geography(Comune.centroid))
        .where(Comune.caps.contains([postcode]), Comune.centroid.is_not(None))
        .order_by(Comune.istat_code)
        .limit(1)
    )


async def service_at_locations(
    session: AsyncSession,
    query: ServiceQuery,
    near: Near | None,
    number: int,
    size: int,
    *,
    nested: bool,
) -> Page | None:
    """Services where they are offered; with ``near``, at locations with that CAP, or with
    ``proximity``, within that many metres of its comune's centroid, nearest first. None when
    the postcode names no comune."""
    where = [*await _service_conditions(session, query), location_visible()]
    order: list[Any] = [Service.name, Location.name, ServiceAtLocation.id]
    if near is not None:
        centroid = postcode_centroid(near.postcode)
        if (await session.execute(centroid)).first() is None:
            return None
        clauses, distance = _near_clauses(near, centroid.scalar_subquery())
        where += clauses
        if distance is not None:
            order = [distance, ServiceAtLocation.id]
    stmt = (
        select(ServiceAtLocation.id, Service.organization_id)
        .join(Service, Service.id == ServiceAtLocation.service_id)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(*where)
    )
    rows = (await session.execute(_paged(stmt, order, number, size))).all()
    documents = await _site_documents(session, rows, nested=nested)
    return Page(documents, await _count(session, stmt))


async def service_at_location(session: AsyncSession, key: uuid.UUID) -> dict[str, Any] | None:
    stmt = (
        select(ServiceAtLocation.id, Service.organization_id)
        .join(Service, Service.id == ServiceAtLocation.service_id)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(ServiceAtLocation.id == key, service_visible(), location_visible())
    )
    documents = await _site_documents(session, (await session.execute(stmt)).all(), nested=True)
    return documents[0] if documents else None


async def _site_documents(
    session: AsyncSession, rows: Sequence[Any], *, nested: bool
) -> list[dict[str, Any]]:
    owners = list(dict.fromkeys(owner for _, owner in rows))
    providers = await _providers(session, owners)
    batch = await batch_of(session, providers)
    sites: dict[uuid.UUID, dict[str, Any]] = {}
    for provider in providers:
        document = hsds.organization(provider, batch)
        places = {place["id"]: place for place in document.get("locations", [])}
        for entry in document.get("services", []):
            for site in entry.get("service_at_locations", []):
                place = places[site["location_id"]]
                sites[uuid.UUID(site["id"])] = {
                    **site,
                    "service": entry if nested else one_to_one(entry, SERVICE_NESTED),
                    "location": place if nested else one_to_one(place, LOCATION_NESTED),
                }
    return [sites[key] for key, _ in rows if key in sites]


LOCATION_NESTED = frozenset(
    {
        "languages",
        "addresses",
        "contacts",
        "accessibility",
        "phones",
        "schedules",
        "attributes",
        "metadata",
    }
)


def taxonomy_id(vocabulary: str) -> uuid.UUID:
    """A vocabulary's HSDS taxonomy id: the same in every answer, derived from its name."""
    return uuid.uuid5(NAMESPACE, f"taxonomy:{vocabulary}")


def _taxonomy(vocabulary: str) -> dict[str, Any]:
    own = vocabulary == "ambrogio"
    return {
        "id": str(taxonomy_id(vocabulary)),
        "name": vocabulary,
        "description": "Ambrogio's welfare categories (Italian and English labels, mapped to "
        "art. 51 TUIR)"
        if own
        else f"Terms of the {vocabulary} vocabulary, kept as imported",
    }


async def _vocabularies(session: AsyncSession) -> list[str]:
    return list((await session.scalars(published_vocabularies())).all())


def terms_of(vocabularies: Sequence[str]) -> Select[uuid.UUID]:
    """The published terms of these vocabularies."""
    return select(TaxonomyTerm.id).where(
        TaxonomyTerm.vocabulary.in_(vocabularies), TaxonomyTerm.status == PUBLISHED
    )


def published_vocabularies() -> Select[str]:
    return (
        select(TaxonomyTerm.vocabulary)
        .where(TaxonomyTerm.status == PUBLISHED)
        .group_by(TaxonomyTerm.vocabulary)
        .order_by(TaxonomyTerm.vocabulary)
    )


async def taxonomies(session: AsyncSession, text: TextQuery | None, number: int, size: int) -> Page:
    found = [_taxonomy(v) for v in await _vocabularies(session)]
    if text is not None:
        words = text.text.casefold()
        found = [t for t in found if words in f"{t['name']} {t['description']}".casefold()]
    start = (number - 1) * size
    return Page(found[start : start + size], len(found))


async def taxonomy(session: AsyncSession, key: uuid.UUID) -> dict[str, Any] | None:
    return next((_taxonomy(v) for v in await _vocabularies(session) if taxonomy_id(v) == key), None)


@dataclass(frozen=True)
class TermQuery:
    text: str | None = None
    taxonomy: uuid.UUID | None = None
    top_only: bool = False
    parent: uuid.UUID | None = None


def _term_document(term: TaxonomyTerm) -> dict[str, Any]:
    return {**hsds.category_term(term), "taxonomy_id": str(taxonomy_id(term.vocabulary))}


async def taxonomy_terms(session: AsyncSession, query: TermQuery, number: int, size: int) -> Page:
    where: list[Condition] = [TaxonomyTerm.status == PUBLISHED]
    if query.taxonomy is not None:
        names = [v for v in await _vocabularies(session) if taxonomy_id(v) == query.taxonomy]
        where.append(TaxonomyTerm.vocabulary.in_(names))
    if query.top_only:
        where.append(TaxonomyTerm.parent_id.is_(None))
    if query.parent is not None:
        where.append(TaxonomyTerm.parent_id == query.parent)
    if query.text is not None:
        literal_text = query.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{literal_text}%"
        where.append(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (TaxonomyTerm.label_it, TaxonomyTerm.label_en, TaxonomyTerm.slug)
                )
            )
        )
    stmt = select(TaxonomyTerm).where(*where)
    order = [TaxonomyTerm.vocabulary, TaxonomyTerm.position, TaxonomyTerm.slug]
    terms = (await session.scalars(_paged(stmt, order, number, size))).all()
    return Page([_term_document(term) for term in terms], await _count(session, stmt))


async def taxonomy_term(session: AsyncSession, key: uuid.UUID) -> dict[str, Any] | None:
    stmt = select(TaxonomyTerm).where(TaxonomyTerm.id == key, TaxonomyTerm.status == PUBLISHED)
    term = (await session.scalars(stmt)).first()
    return _term_document(term) if term is not None else None
