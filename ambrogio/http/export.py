"""The public download routes of the exports: ``/export/hsds.json``, ``/export/catalogue.geojson``.

Published data only, streamed as it is read; no credentials needed, as for the map tiles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ambrogio.export import FILENAMES, MEDIA_TYPES, ExportFormat, chunks


class HasSessions(Protocol):
    sessionmaker: async_sessionmaker[AsyncSession]


def export_endpoint(
    state: HasSessions, fmt: ExportFormat
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint; ``state.sessionmaker`` is read per request (the lifespan sets it)."""

    async def download(request: Request) -> Response:
        headers = {"Content-Disposition": f'attachment; filename="{FILENAMES[fmt]}"'}
        return StreamingResponse(
            chunks(state.sessionmaker, fmt), media_type=MEDIA_TYPES[fmt], headers=headers
        )

    return download
