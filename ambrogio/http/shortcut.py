"""The way a JSON ``POST /graphql`` takes to its compiled plan: past the layers that do nothing
for it.

Between ``ambrogio.http.requests`` and the plan, such a request went through the REST rate
limit (which charges only GET and HEAD), the compression layer, starlette's exception
middleware, the router, the route and the transport layer, each wrapping ``send`` once more:
a tenth of the server's CPU for a nearby page. Here the request layer reads and checks the
body itself (``ambrogio.http.transport``'s rules), and asks the plan (``ambrogio.schema.planned``)
for the answer; what the skipped layers would have done to it is done here:

- the compression layer's rules for the answer: compressed by the same middleware when the
  client accepts an encoding, else ``Vary: Accept-Encoding`` on a body of ``MINIMUM_BYTES``
  or more, as its identity responder adds it;
- the route, for the metrics' label (``route_of``).

A refusal of the transport rules (400, 413) goes out the same way, as the transport layer
sends it. Any request the plan does not answer goes on through every layer as before, its
body already read and checked: the transport layer and the plan do not look at it twice
(``CHECKED``), so an operation is never charged twice.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Protocol

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ambrogio.http.compression import MINIMUM_BYTES, compressor
from ambrogio.http.transport import (
    CHECKED,
    Transport,
    TransportError,
    _headers,
    _keep_document_id,
    _refuse,
    _replay,
    check_request,
    load_json,
    media_type,
)


class Plan(Protocol):
    """What the shortcut asks of the compiled plans (``ambrogio.schema.planned.Planned``, which the
    request layer hands in: nothing below the schema imports it)."""

    open: bool

    async def answer(self, scope: Scope, request: dict[str, Any], send: Send) -> bool: ...


PATH = "/graphql"
ACCEPT_ENCODING = b"accept-encoding"
VARY = (b"vary", b"Accept-Encoding")

# The messages of an answer, for the compression layer's copy (``_compressed``) to send.
_answer: ContextVar[tuple[Message, Message]] = ContextVar("answer")


async def _send_answer(scope: Scope, receive: Receive, send: Send) -> None:
    for message in _answer.get():
        await send(message)


class Shortcut:
    """What ``Requests`` calls in place of the next layer (see the module)."""

    def __init__(self, planned: Plan, transport: Transport, route: BaseRoute) -> None:
        self.planned = planned
        self.transport = transport
        self.route = route
        self._compressed = compressor(_send_answer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        """Answers ``scope`` on the plan, or hands it to ``app`` (the next layer)."""
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != PATH
            or scope.get("root_path")
            or not self.planned.open
        ):
            await app(scope, receive, send)
            return
        headers = _headers(scope)
        if media_type(headers) != "application/json":
            await app(scope, receive, send)
            return
        encoded = ACCEPT_ENCODING in headers
        answer = _Answer(scope, receive, send, self._compressed) if encoded else _Plain(send)
        transport = self.transport
        try:
            body = await transport._read(headers, receive)
            request = check_request(load_json(body, "body", transport.max_json_depth))
        except TransportError as error:
            await _refuse(answer, error)
            return
        _keep_document_id(scope, request.get("documentId"))
        state = scope["state"]
        state["graphql_request"] = request
        if await self.planned.answer(scope, request, answer):
            scope["route"] = self.route
            return
        state[CHECKED] = True
        await app(scope, _replay(body, receive), send)


class _Plain:
    """``send`` for a client that accepts no encoding: the identity responder's ``Vary``."""

    __slots__ = ("send", "start")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        start = self.start
        assert start is not None
        if len(message.get("body", b"")) >= MINIMUM_BYTES:
            start["headers"] = [*start["headers"], VARY]
        await self.send(start)
        await self.send(message)


class _Answer:
    """``send`` for a client that accepts an encoding: the answer through the compression
    middleware, as the layer would have compressed it."""

    __slots__ = ("compressed", "receive", "scope", "send", "start")

    def __init__(self, scope: Scope, receive: Receive, send: Send, compressed: ASGIApp) -> None:
        self.scope, self.receive, self.send = scope, receive, send
        self.compressed = compressed
        self.start: Message | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        assert self.start is not None
        token = _answer.set((self.start, message))
        try:
            await self.compressed(self.scope, self.receive, self.send)
        finally:
            _answer.reset(token)
