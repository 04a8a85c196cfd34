"""The upload size limit at the HTTP layer, before strawberry reads a multipart body.

A multipart request larger than ``AMBROGIO_IMPORT_MAX_BYTES`` (plus ``OVERHEAD`` for the
``operations`` and ``map`` parts) is answered at once with a GraphQL error, ``BAD_USER_INPUT`` on
``file``, status 413: by its ``Content-Length`` before reading anything, or — for a body sent
without one — as soon as the bytes read pass the limit. Either way the body is never taken in
whole. The resolver counts the file's own bytes exactly (``ambrogio.resolvers.importing``).

Multipart bodies are a "simple" CORS request that a browser may send cross-site without a
preflight: ``ambrogio.http.transport`` refuses them unless they carry a preflight-forcing header
(``Apollo-Require-Preflight``), before this limit is applied.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

OVERHEAD = 64 * 1024


class _TooLarge(Exception):
    pass


def too_large_message(limit: int) -> str:
    return (
        f"file: the upload is larger than the import limit of {limit:,} bytes "
        f"({limit / 2**20:g} MiB); split the file"
    )


class UploadLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_multipart(scope):
            await self.app(scope, receive, send)
            return
        cap = self.limit + OVERHEAD
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > cap:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "data": None,
                "errors": [
                    {
                        "message": too_large_message(self.limit),
                        "extensions": {"code": "BAD_USER_INPUT", "field": "file"},
                    }
                ],
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _is_multipart(scope: Scope) -> bool:
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
    return bool(content_type.lower().startswith(b"multipart/"))
