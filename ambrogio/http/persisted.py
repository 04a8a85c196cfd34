"""Persisted operations: documents sent by their hash, and the HTTP caching of persisted GETs.

**Automatic persisted queries**, as Apollo Client's persisted-queries link and urql's
``persistedExchange`` speak them: a request may carry ``extensions.persistedQuery =
{"version": 1, "sha256Hash": …}`` instead of ``query``. A hash the server does not know is
answered with the error ``PersistedQueryNotFound`` (code ``PERSISTED_QUERY_NOT_FOUND``); the
client then sends the hash with the full ``query``: refused (400) when its SHA-256 is not that
hash, else run, and kept (in PostgreSQL, so every process knows it from then on) once it has
run without errors, so that nobody fills the table with documents that do not run.
Documents never change under a hash, so each process also keeps the ones it read.

**Trusted documents** (``AMBROGIO_PERSISTED_QUERIES=trusted``, for production front ends):
only documents an operator registered from a client's manifest (``ambrogio documents
register``) run, named by ``documentId: "sha256:…"`` (the GraphQL-over-HTTP draft's member),
by their APQ hash, or sent in full; anything else is ``FORBIDDEN`` and nothing is stored.

**Caching**: a GET that names its document by hash (no ``query`` text) and answers without
errors carries an ``ETag`` and ``Cache-Control`` (``public`` for anonymous callers, so a CDN
may keep it ``AMBROGIO_PERSISTED_MAX_AGE_SECONDS``; ``private`` with credentials), and a
request whose ``If-None-Match`` names that ETag is answered 304 without a body.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ambrogio.db import documents
from ambrogio.http.transport import TransportError
from ambrogio.settings import PersistedQueries, Settings

HASH = re.compile(r"[0-9a-f]{64}")
NOT_FOUND = "PersistedQueryNotFound"
# Documents kept in each process (by id; a document never changes under its hash).
CACHED_DOCUMENTS = 1024


class Refused(Exception):
    """A persisted operation that cannot run: the GraphQL error to answer."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message)
        self.error = GraphQLError(message, extensions={"code": code, **extensions})


def _requested_id(extensions: dict[str, Any] | None, document_id: Any) -> str | None:
    """The document id a request names (``documentId`` or the APQ hash), checked; or None."""
    if document_id is not None:
        if not isinstance(document_id, str) or not (
            document_id.startswith(documents.PREFIX)
            and HASH.fullmatch(document_id[len(documents.PREFIX) :])
        ):
            raise TransportError(
                400,
                f"documentId: {str(document_id)[:80]!r} is not 'sha256:' and 64 hex digits",
                field="documentId",
            )
        return document_id
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    field = "extensions.persistedQuery"
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise TransportError(
            400, f"{field}: must be {{'version': 1, 'sha256Hash': …}}", field=field
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not HASH.fullmatch(digest):
        raise TransportError(
            400,
            f"{field}.sha256Hash: must be 64 lower-case hex digits",
            field=f"{field}.sha256Hash",
        )
    return documents.PREFIX + digest


@dataclass(frozen=True)
class Resolved:
    """The document to run, and whether to keep it once it has run without errors (``learn``)."""

    query: str | None
    learn: bool = False


class Documents:
    """Resolves the document of a request (see the module's docstring)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.trusted = settings.persisted_queries == PersistedQueries.TRUSTED
        self.known: OrderedDict[str, tuple[str, bool]] = OrderedDict()
        # When this process last wrote a known document's ``used_at`` (monotonic seconds).
        self.used: dict[str, float] = {}

    def _keep(self, ident: str, found: tuple[str, bool]) -> None:
        self.known[ident] = found
        self.known.move_to_end(ident)
        if len(self.known) > CACHED_DOCUMENTS:
            gone, _ = self.known.popitem(last=False)
            self.used.pop(gone, None)

    async def _ran(self, ident: str) -> None:
        """Keep the stored document's ``used_at`` current, to the hour: documents registered
        by their hash expire unused (``ambrogio.db.housekeeping``)."""
        now = time.monotonic()
        last = self.used.get(ident)
        if last is not None and now - last < documents.USE_RESOLUTION_SECONDS:
            return
        self.used[ident] = now
        await documents.touch(self.sessionmaker, ident)

    async def _find(self, ident: str) -> tuple[str, bool] | None:
        found = self.known.get(ident)
        if found is None:
            found = await documents.find(self.sessionmaker, ident)
        if found is not None:
            self._keep(ident, found)
        return found

    async def learn(self, query: str) -> None:
        """Keep a document that ran (automatic persisted queries)."""
        await documents.remember(self.sessionmaker, query)
        self._keep(documents.document_id(query), (query, False))

    def _untrusted(self) -> Refused:
        return Refused(
            "only registered documents run on this server (trusted documents): register the "
            "client's manifest with `ambrogio documents register`",
            "FORBIDDEN",
        )

    async def resolve(
        self, query: str | None, extensions: dict[str, Any] | None, document_id: Any
    ) -> Resolved:
        """The document text to run; raises ``Refused`` or ``TransportError``."""
        ident = _requested_id(extensions, document_id)
        if ident is None and query is not None:
            if self.trusted:
                found = await self._find(documents.document_id(query))
                if found is None or not found[1]:
                    raise self._untrusted()
            return Resolved(query)
        if ident is None:
            return Resolved(None)  # no document at all: strawberry says so
        if query is not None:
            if documents.document_id(query) != ident:
                raise TransportError(
                    400,
                    "provided sha does not match query: the hash must be the SHA-256 of the "
                    "query's UTF-8 text",
                    field="extensions.persistedQuery.sha256Hash",
                )
            if self.trusted:
                found = await self._find(ident)
                if found is None or not found[1]:
                    raise self._untrusted()
                return Resolved(query)
            return Resolved(query, learn=ident not in self.known)
        found = await self._find(ident)
        if found is None or (self.trusted and not found[1]):
            if self.trusted and document_id is not None:
                raise self._untrusted()
            raise Refused(NOT_FOUND, "PERSISTED_QUERY_NOT_FOUND")
        if not found[1]:
            await self._ran(ident)
        return Resolved(found[0])


# --- HTTP caching of persisted GETs -----------------------------------------------------------


def _persisted_get(scope: Scope) -> bool:
    if scope["method"] != "GET":
        return False
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return "query" not in params and ("extensions" in params or "documentId" in params)


def _etag(answer: dict[str, Any]) -> bytes:
    """The tag of an answer's ``data``: its ``extensions`` carry the request's own id."""
    data = json.dumps(answer.get("data"), sort_keys=True, separators=(",", ":")).encode()
    return b'"' + hashlib.sha256(data).hexdigest()[:32].encode() + b'"'


class PersistedGetCache:
    """ETag, Cache-Control and 304 for persisted GETs (ASGI, in front of the GraphQL view)."""

    def __init__(self, app: ASGIApp, max_age: int) -> None:
        self.app = app
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _persisted_get(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        parts: list[bytes] = []

        async def holding_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                assert start is not None
                await self._answer(scope, start, b"".join(parts), send)

        await self.app(scope, receive, holding_send)

    async def _answer(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        request = {name.lower(): value for name, value in scope.get("headers") or []}
        headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
        status = start["status"]
        answer = _answer_of(body) if status == 200 else None
        if answer is None or answer.get("errors"):
            headers.append((b"cache-control", b"no-store"))
        else:
            credentials = b"authorization" in request or b"x-api-key" in request
            scope_word = b"private" if credentials else b"public"
            tag = _etag(answer)
            headers += [
                (b"etag", tag),
                (b"cache-control", scope_word + b", max-age=" + str(self.max_age).encode()),
                (b"vary", b"Authorization, X-API-Key"),
            ]
            if tag in [t.strip() for t in request.get(b"if-none-match", b"").split(b",")]:
                status, body = 304, b""
                headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
        if status != 304:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _answer_of(body: bytes) -> dict[str, Any] | None:
    """The GraphQL answer in a body, or None when it is no JSON object."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None
