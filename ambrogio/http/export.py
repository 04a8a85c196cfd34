"""The public download routes of the exports: ``/export/hsds.json``, ``/export/catalogue.geojson``.

Published data only, streamed as it is read; no credentials needed, as for the map tiles.
``?modified_after=`` keeps the providers changed since that instant (an incremental download;
archives, merges and deletions are in the change feed, ``/hsds/changes``). ``ETag`` and
``Last-Modified`` come from the change feed (``http.conditional``): a client that sends them
back gets a 304 without the export being built while the catalogue has not changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ambrogio.errors import BadUserInput
from ambrogio.export import FILENAMES, MEDIA_TYPES, ExportFormat, chunks
from ambrogio.http import conditional
from ambrogio.http.params import instant
from ambrogio.http.reads import HasRouting, Sessions, read
from ambrogio.http.tiles import bad_request


class HasSessions(HasRouting, Protocol):
    pass


def _modified_after(request: Request) -> datetime | None:
    """``?modified_after=`` (an ISO 8601 instant with offset), the only parameter taken."""
    for name in request.query_params:
        if name != "modified_after":
            raise BadUserInput(
                name, request.query_params[name], "is not a parameter; known: modified_after"
            )
    raw = request.query_params.get("modified_after")
    return instant("modified_after", raw) if raw is not None else None


def export_endpoint(
    state: HasSessions, fmt: ExportFormat
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint; ``state.sessionmaker`` is read per request (the lifespan sets it)."""

    async def download(request: Request) -> Response:
        try:
            since = _modified_after(request)
        except BadUserInput as error:
            return bad_request(error)

        async def respond(sessions: Sessions) -> Response:
            async with sessions() as session:
                found = await conditional.validators(session, request)
            unchanged = conditional.not_modified(request, found)
            if unchanged is not None:
                return unchanged
            headers = {
                "Content-Disposition": f'attachment; filename="{FILENAMES[fmt]}"',
                **found.headers(),
            }
            return StreamingResponse(
                chunks(sessions, fmt, since), media_type=MEDIA_TYPES[fmt], headers=headers
            )

        # The export streams from the database that answered its validators.
        return await read(state, request, respond)

    return download
