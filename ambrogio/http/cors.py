"""CORS for every route (``/graphql``, tiles, exports) from ``AMBROGIO_CORS_ORIGINS``.

Starlette's middleware, with the request that carries no ``Origin`` (a server, ``curl``, a
same-origin GET) answered without its header objects: for it the middleware only adds
``Origin`` to ``Vary``, done here on the raw headers, the same bytes in the same place.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

ORIGIN = b"origin"
VARY = b"vary"


class Cors(CORSMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == ORIGIN for name, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def vary_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_vary_origin(message.get("headers", []))
            await send(message)

        await self.app(scope, receive, vary_origin)


def with_vary_origin(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``Origin`` added to ``Vary``, as ``MutableHeaders`` sets it: the
    values of every ``Vary`` joined in the first one's place, the others dropped."""
    raw = list(headers)
    found = [index for index, (name, _) in enumerate(raw) if name == VARY]
    value = b", ".join([*(raw[index][1] for index in found), b"Origin"])
    for index in reversed(found[1:]):
        del raw[index]
    if found:
        raw[found[0]] = (VARY, value)
    else:
        raw.append((VARY, value))
    return raw
