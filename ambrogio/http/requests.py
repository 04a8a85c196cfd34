"""What every HTTP request goes through first: its id, its time limit, its log line and metrics.

- **Request id**: ``X-Request-ID`` when the caller sends a usable one (letters, digits,
  ``._:-``, at most 64), a fresh one otherwise; returned in the ``X-Request-ID`` response
  header, in GraphQL's ``extensions.requestId``, and given to PostgreSQL as the connection's
  ``application_name`` (``ambrogio.db.tagging``).
- **Time limit**: a request whose response has not started after
  ``AMBROGIO_REQUEST_TIMEOUT_SECONDS`` is answered 503 ``UNAVAILABLE``; a streamed response
  (an export) that has started runs to its end.
- **The database not answering** (``ambrogio.db.faults``) is 503 ``UNAVAILABLE`` on every
  route, in GraphQL's error shape, never a 500.
- **One JSON line** per request on the ``ambrogio.access`` logger, and the request metrics
  (``ambrogio.metrics``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ambrogio import metrics
from ambrogio.db import faults
from ambrogio.db.tagging import current_request
from ambrogio.errors import Unavailable
from ambrogio.http.transport import error_body

access = logging.getLogger("ambrogio.access")
log = logging.getLogger("ambrogio")

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
HEADER = b"x-request-id"


@dataclass
class RequestInfo:
    """Filled in while a request is answered; the GraphQL layer adds what only it knows."""

    request_id: str
    # The client's address: anonymous callers are told apart by it (ambrogio.db.replicas).
    client: str | None = None
    operation: str | None = None
    caller: str | None = None
    cost: float | None = None
    codes: list[str] = field(default_factory=list)


def request_info(scope: Scope) -> RequestInfo | None:
    """The request's ``RequestInfo`` (also ``request.state.info``), when it went through here."""
    info = scope.get("state", {}).get("info")
    return info if isinstance(info, RequestInfo) else None


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == HEADER:
            text = value.decode("latin-1").strip()
            if REQUEST_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """The route's path pattern (``/tiles/{layer}/{z}/{x}/{y}.mvt``), not the path: bounded
    label values for the metrics."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class Shortcut(Protocol):
    async def __call__(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        """Answers the request itself, or calls ``app`` with it."""


class Requests:
    """The ASGI middleware described above. ``shortcut`` (``ambrogio.http.shortcut``) is
    called in place of the next layer, which it is given."""

    def __init__(self, app: ASGIApp, *, timeout: float, shortcut: Shortcut | None = None) -> None:
        self.app = app
        self.timeout = timeout
        self.shortcut = shortcut

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                scope.setdefault("state", {})["info"] = RequestInfo(
                    request_id_from(scope["headers"])
                )
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        info = RequestInfo(request_id_from(scope["headers"]), client[0] if client else None)
        scope.setdefault("state", {})["info"] = info
        token = current_request.set(info.request_id)
        started = time.perf_counter()
        status = 0
        deadline: asyncio.Timeout | None = None

        async def tagged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (HEADER, info.request_id.encode())],
                }
                if deadline is not None:
                    deadline.reschedule(None)
            await send(message)

        try:
            async with asyncio.timeout(self.timeout) as deadline:
                if self.shortcut is not None:
                    await self.shortcut(scope, receive, tagged_send, self.app)
                else:
                    await self.app(scope, receive, tagged_send)
        except TimeoutError:
            if status:
                raise
            status = await self._unavailable(send, info, "request timed out")
        except Exception as error:
            if status or not faults.unavailable(error):
                raise
            status = await self._unavailable(send, info, repr(error))
        finally:
            current_request.reset(token)
            self._record(scope, info, status, time.perf_counter() - started)

    async def _unavailable(self, send: Send, info: RequestInfo, reason: str) -> int:
        log.warning("unavailable [request %s]: %s", info.request_id, reason)
        info.codes.append(Unavailable.code)
        body = error_body(faults.MESSAGE, {"code": Unavailable.code, "requestId": info.request_id})
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", b"2"),
                    (HEADER, info.request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return 503

    def _record(self, scope: Scope, info: RequestInfo, status: int, seconds: float) -> None:
        route = route_of(scope)
        status = status or 500
        metrics.observe_request(route, info.operation, status, seconds, info.codes, info.cost)
        line: dict[str, Any] = {
            "requestId": info.request_id,
            "method": scope["method"],
            "path": scope["path"],
            "route": route,
            "status": status,
            "durationMs": round(seconds * 1000, 2),
            "caller": info.caller,
            "operation": info.operation,
        }
        if info.cost is not None:
            line["cost"] = info.cost
        if info.codes:
            line["errors"] = sorted(set(info.codes))
        if access.isEnabledFor(logging.INFO):
            # The record made directly: ``Logger.info`` would walk the stack to find its caller,
            # which is always this line (about a third of what the line cost).
            record = access.makeRecord(
                access.name, logging.INFO, __file__, 0, "request", (), None, extra={"fields": line}
            )
            access.handle(record)
