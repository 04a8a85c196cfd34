"""Response compression: zstd, brotli or gzip, as the client's ``Accept-Encoding`` allows
(``starlette-compress``: quality values honoured, ``Vary: Accept-Encoding`` set).

JSON (GraphQL answers, the HSDS API, TileJSON), GeoJSON, the exports, NDJSON and vector tiles
are compressed once above ``MINIMUM_BYTES``: below that the headers cost more than they save.
A response that already carries ``Content-Encoding`` (a tile stored compressed) goes out as it
is, never compressed twice; so do 304s and partial answers.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.types import ASGIApp
from starlette_compress import CompressMiddleware, add_compress_type

MINIMUM_BYTES = 1024

# Ours, besides the JSON, GeoJSON and vector tile types compressed by default.
EXTRA_TYPES = ("application/schema+json",)
# Streamed a batch at a time: each batch is flushed compressed as it is written.
STREAMED_TYPES = ("application/x-ndjson",)


def _add_types() -> None:
    for media_type in EXTRA_TYPES:
        add_compress_type(media_type)
    for media_type in STREAMED_TYPES:
        add_compress_type(media_type, streaming=True)


def compression() -> list[Middleware]:
    _add_types()
    return [Middleware(CompressMiddleware, minimum_size=MINIMUM_BYTES)]


def compressor(app: ASGIApp) -> ASGIApp:
    """``app``'s answers compressed as ``compression()``'s layer compresses them."""
    _add_types()
    return CompressMiddleware(app, minimum_size=MINIMUM_BYTES)
