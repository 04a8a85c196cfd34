"""The Open Referral HSDS 3.0 REST API at ``/hsds/``, as Open Referral's reference
``openapi.json`` describes it (our filled-in copy is served at ``/hsds/openapi.json``).

``GET /hsds/`` (version, profile, where the OpenAPI document is), ``/hsds/organizations``
(``search``, ``full_service``, ``full``, ``page``, ``per_page``) and
``/hsds/organizations/{id}`` (``full_service``), ``/hsds/services`` (``search``,
``taxonomy_term_id``, ``taxonomy_id``, ``organization_id``, ``modified_after``, ``full``,
``page``, ``per_page``) and ``/hsds/services/{id}``, ``/hsds/service_at_locations`` (the same,
and ``postcode`` with ``proximity``), ``/hsds/taxonomies`` and ``/hsds/taxonomy_terms``
(``taxonomy_id``, ``top_only``, ``parent_id``), each with its ``/{id}``. Lists come in
the paginated envelope (``total_items``, ``total_pages``, ``page_number``, ``size``,
``first_page``, ``last_page``, ``empty``, ``contents``). Published records only, read with the
GraphQL API's builders (``export.pages``).

``format=ndjson`` on a list answers every record that matches, one JSON object a line, with
no envelope and no paging (``application/x-ndjson``, streamed). Every answer carries the
validators of ``http.conditional`` (``ETag``, ``Last-Modified``) and a conditional request for
an unchanged catalogue gets a 304.

A parameter this API does not know, or a bad value, is a 400 whose JSON body has the GraphQL
error shape and names the parameter; an unknown or unpublished id is a 404.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ambrogio.catalogue.changes import TYPE_NAMES
from ambrogio.catalogue.text import TextQuery
from ambrogio.db.models import ChangeEvent
from ambrogio.errors import BadUserInput
from ambrogio.export import feed, pages
from ambrogio.geo.point import checked_radius
from ambrogio.http import conditional
from ambrogio.http.hsds_openapi import NDJSON, openapi_routes
from ambrogio.http.params import boolean, instant
from ambrogio.http.reads import HasRouting, Sessions, read
from ambrogio.settings import Settings

HSDS_VERSION = "3.0"
PROFILE = "https://docs.openreferral.org/en/latest/hsds/"
MAX_SEARCH = 200
CAP = re.compile(r"[0-9]{5}")
Params = Mapping[str, Any]


class HasSessions(HasRouting, Protocol):
    pass


def _error(status: int, code: str, message: str, **extensions: Any) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return JSONResponse(body, status)


def _bad(error: BadUserInput) -> Response:
    return _error(400, error.code, error.message, **error.extensions)


def _integer(name: str, raw: str, low: int, high: int) -> int:
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadUserInput(name, raw, f"must be a whole number from {low} to {high}")
    return int(raw)


def _uuid(name: str, raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise BadUserInput(name, raw, "is not an id of this API (a UUID)") from None


def _search(name: str, raw: str) -> TextQuery:
    words = " ".join(raw.split())
    if not words or len(words) > MAX_SEARCH or "\x00" in words:
        raise BadUserInput(name, raw[:40], f"must be 1 to {MAX_SEARCH} characters of text")
    return TextQuery(words)


def _postcode(name: str, raw: str) -> str:
    if not CAP.fullmatch(raw):
        raise BadUserInput(name, raw, "is not a CAP (5 digits)")
    return raw


def _metres(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise BadUserInput(name, raw, "is not a number of metres") from None
    radius = checked_radius(value, name)
    assert radius is not None
    return radius


def _format(name: str, raw: str) -> str:
    if raw not in ("json", "ndjson"):
        raise BadUserInput(name, raw, "must be json or ndjson")
    return raw


PARSERS: dict[str, Callable[[str, str], Any]] = {
    "search": _search,
    "full": boolean,
    "full_service": boolean,
    "minimal": boolean,
    "format": _format,
    "taxonomy_term_id": _uuid,
    "organization_id": _uuid,
    "modified_after": instant,
    "after": lambda name, raw: raw,
    "postcode": _postcode,
    "taxonomy_id": _uuid,
    "top_only": boolean,
    "parent_id": _uuid,
    "proximity": _metres,
}


def _params(query: QueryParams, allowed: tuple[str, ...], max_page_size: int) -> Params:
    """The query parameters, each checked; paging defaults to page 1 of 20."""
    values: dict[str, Any] = {"page": 1, "per_page": min(20, max_page_size)}
    for name in dict.fromkeys(query.keys()):
        raws = query.getlist(name)
        if name not in allowed:
            raise BadUserInput(
                name, raws[0], f"is not a parameter here; known: {', '.join(allowed)}"
            )
        if len(raws) > 1:
            raise BadUserInput(name, ",".join(raws), "is given more than once")
        if name == "page":
            values[name] = _integer(name, raws[0], 1, 1_000_000)
        elif name == "per_page":
            values[name] = _integer(name, raws[0], 1, max_page_size)
        else:
            values[name] = PARSERS[name](name, raws[0])
    return values


def _envelope(page: pages.Page, number: int, size: int) -> dict[str, Any]:
    total_pages = max(1, math.ceil(page.total / size))
    return {
        "total_items": page.total,
        "total_pages": total_pages,
        "page_number": number,
        "size": len(page.documents),
        "first_page": number == 1,
        "last_page": number >= total_pages,
        "empty": not page.documents,
        "contents": page.documents,
    }


LIST = ("page", "per_page", "format")
ORGANIZATIONS = ("search", "full_service", "full", *LIST)
SERVICES = (
    "search",
    "taxonomy_term_id",
    "taxonomy_id",
    "organization_id",
    "modified_after",
    "minimal",
    "full",
    *LIST,
)


def _service_query(params: Params) -> pages.ServiceQuery:
    return pages.ServiceQuery(
        text=params.get("search"),
        taxonomy_term=params.get("taxonomy_term_id"),
        taxonomy=params.get("taxonomy_id"),
        organization=params.get("organization_id"),
        modified_after=params.get("modified_after"),
    )


SITES = (
    "search",
    "taxonomy_term_id",
    "taxonomy_id",
    "organization_id",
    "modified_after",
    "full",
    "postcode",
    "proximity",
    *LIST,
)


TERMS = ("search", "taxonomy_id", "top_only", "parent_id", *LIST)


Answer = Callable[[AsyncSession, Request, Params], Awaitable[Any]]
# Records per statement when a list is streamed whole (format=ndjson).
NDJSON_BATCH = 500


def batch(params: Params, number: int) -> Params:
    return {**params, "page": number, "per_page": NDJSON_BATCH}


async def ndjson_lines(
    session: AsyncSession, request: Request, params: Params, answer: Answer, page: Any
) -> AsyncIterator[bytes]:
    """The records of ``page`` and the pages after it, one JSON line each; closes ``session``."""
    try:
        number = 1
        while True:
            lines = [json.dumps(record, ensure_ascii=False) for record in page["contents"]]
            if lines:
                yield ("\n".join(lines) + "\n").encode()
            if page["last_page"]:
                return
            number += 1
            page = await answer(session, request, batch(params, number))
    finally:
        await session.close()


def hsds_routes(state: HasSessions, settings: Settings) -> list[Route]:
    size = settings.max_page_size

    def endpoint(
        allowed: tuple[str, ...], answer: Answer, what: str = ""
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            try:
                params = _params(request.query_params, allowed, size)
                if params.get("format") == "ndjson":
                    return await every_record(request, params, answer)

                async def respond(sessions: Sessions) -> Response:
                    async with sessions() as session:
                        found = await conditional.validators(session, request)
                        unchanged = conditional.not_modified(request, found)
                        if unchanged is not None:
                            return unchanged
                        body = await answer(session, request, params)
                    if body is None:
                        key = request.path_params["id"]
                        return _error(404, "NOT_FOUND", f"id: no published {what} with id {key!r}")
                    return JSONResponse(body, headers=found.headers())

                return await read(state, request, respond)
            except BadUserInput as error:
                return _bad(error)

        return handle

    async def every_record(request: Request, params: Params, answer: Answer) -> Response:
        """``format=ndjson``: every page, one record a line, from one snapshot of the
        catalogue (a repeatable-read transaction), streamed as the pages are read."""
        for name in ("page", "per_page"):
            if name in request.query_params:
                raise BadUserInput(
                    name,
                    request.query_params[name],
                    "does not apply to format=ndjson (every record comes, one a line)",
                )

        async def respond(sessions: Sessions) -> Response:
            session = sessions()
            try:
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                found = await conditional.validators(session, request)
                unchanged = conditional.not_modified(request, found)
                if unchanged is None:
                    first = await answer(session, request, batch(params, 1))
                    lines = ndjson_lines(session, request, params, answer, first)
                    return StreamingResponse(lines, media_type=NDJSON, headers=found.headers())
            except BaseException:
                await session.close()
                raise
            await session.close()
            return unchanged

        return await read(state, request, respond)

    async def root(session: AsyncSession, request: Request, params: Params) -> Any:
        return {
            "version": HSDS_VERSION,
            "profile": PROFILE,
            "openapi_url": str(request.url_for("hsds_openapi")),
        }

    async def organizations(session: AsyncSession, request: Request, params: Params) -> Any:
        number, per_page = params["page"], params["per_page"]
        nested = params.get("full", False) or params.get("full_service", False)
        page = await pages.organizations(
            session, params.get("search"), number, per_page, nested=nested
        )
        return _envelope(page, number, per_page)

    async def organization(session: AsyncSession, request: Request, params: Params) -> Any:
        key = _uuid("id", request.path_params["id"])
        return await pages.organization(
            session, key, full_service=params.get("full_service", False)
        )

    async def services(session: AsyncSession, request: Request, params: Params) -> Any:
        number, per_page = params["page"], params["per_page"]
        query = _service_query(params)
        page = await pages.services(
            session, query, number, per_page, nested=params.get("full", False)
        )
        if params.get("minimal", False):
            page = pages.Page(
                [
                    {
                        "id": d["id"],
                        "name": d["name"],
                        "status": d["status"],
                        "last_modified": d.get("last_modified"),
                    }
                    for d in page.documents
                ],
                page.total,
            )
        return _envelope(page, number, per_page)

    async def service(session: AsyncSession, request: Request, params: Params) -> Any:
        return await pages.service(session, _uuid("id", request.path_params["id"]))

    async def change_feed(session: AsyncSession, request: Request, params: Params) -> Any:
        limit = params["per_page"]
        rows, cursors = await feed.read(session, params.get("after"), limit)
        page = rows[:limit]
        return {
            "contents": [change_document(row) for row in page],
            "size": len(page),
            "next_after": cursors[len(page) - 1] if page else params.get("after"),
            "has_more": len(rows) > limit,
        }

    async def sites(session: AsyncSession, request: Request, params: Params) -> Any:
        number, per_page = params["page"], params["per_page"]
        if "proximity" in params and "postcode" not in params:
            raise BadUserInput("proximity", params["proximity"], "needs `postcode`")
        near = (
            pages.Near(params["postcode"], params.get("proximity"))
            if "postcode" in params
            else None
        )
        page = await pages.service_at_locations(
            session,
            _service_query(params),
            near,
            number,
            per_page,
            nested=params.get("full", False),
        )
        if page is None:
            raise BadUserInput("postcode", params["postcode"], "is not the CAP of a known comune")
        return _envelope(page, number, per_page)

    async def site(session: AsyncSession, request: Request, params: Params) -> Any:
        return await pages.service_at_location(session, _uuid("id", request.path_params["id"]))

    async def taxonomies(session: AsyncSession, request: Request, params: Params) -> Any:
        number, per_page = params["page"], params["per_page"]
        page = await pages.taxonomies(session, params.get("search"), number, per_page)
        return _envelope(page, number, per_page)

    async def taxonomy(session: AsyncSession, request: Request, params: Params) -> Any:
        return await pages.taxonomy(session, _uuid("id", request.path_params["id"]))

    async def terms(session: AsyncSession, request: Request, params: Params) -> Any:
        number, per_page = params["page"], params["per_page"]
        search = params.get("search")
        query = pages.TermQuery(
            text=search.text if search is not None else None,
            taxonomy=params.get("taxonomy_id"),
            top_only=params.get("top_only", False),
            parent=params.get("parent_id"),
        )
        return _envelope(
            await pages.taxonomy_terms(session, query, number, per_page), number, per_page
        )

    async def term(session: AsyncSession, request: Request, params: Params) -> Any:
        return await pages.taxonomy_term(session, _uuid("id", request.path_params["id"]))

    return [
        Route("/hsds/", endpoint((), root), methods=["GET"]),
        *openapi_routes(size),
        Route("/hsds/organizations", endpoint(ORGANIZATIONS, organizations), methods=["GET"]),
        Route(
            "/hsds/organizations/{id}",
            endpoint(("full_service",), organization, "organization"),
            methods=["GET"],
        ),
        Route("/hsds/services", endpoint(SERVICES, services), methods=["GET"]),
        Route("/hsds/services/{id}", endpoint((), service, "service"), methods=["GET"]),
        Route("/hsds/service_at_locations", endpoint(SITES, sites), methods=["GET"]),
        Route(
            "/hsds/service_at_locations/{id}",
            endpoint((), site, "service at location"),
            methods=["GET"],
        ),
        Route("/hsds/taxonomies", endpoint(("search", *LIST), taxonomies), methods=["GET"]),
        Route("/hsds/taxonomies/{id}", endpoint((), taxonomy, "taxonomy"), methods=["GET"]),
        Route("/hsds/taxonomy_terms", endpoint(TERMS, terms), methods=["GET"]),
        Route("/hsds/taxonomy_terms/{id}", endpoint((), term, "taxonomy term"), methods=["GET"]),
        Route("/hsds/changes", endpoint(("after", "per_page"), change_feed), methods=["GET"]),
    ]


def change_document(row: ChangeEvent) -> dict[str, Any]:
    """A change in HSDS's terms: the record's table (``organization`` for a provider) and id."""
    return {
        "type": HSDS_TABLES[row.entity],
        "id": str(row.record_id),
        "change": row.change,
        "published": row.published_after,
        "survivor_id": str(row.survivor_id) if row.survivor_id else None,
        "at": row.at.isoformat(),
    }


HSDS_TABLES = {entity: "organization" if entity == "provider" else entity for entity in TYPE_NAMES}
