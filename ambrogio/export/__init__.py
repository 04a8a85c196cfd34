"""Exports of the published catalogue: Open Referral HSDS 3.0 JSON, and GeoJSON in the import
profile. Both stream: ``chunks`` yields the document piece by piece, one batch of providers
at a time (see ``ambrogio.export.catalogue``), for the command line and the HTTP routes alike."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.export import geojson, hsds
from ambrogio.export.catalogue import Batch, published_catalogue


class ExportFormat(StrEnum):
    HSDS = "hsds"
    GEOJSON = "geojson"


MEDIA_TYPES = {ExportFormat.HSDS: "application/json", ExportFormat.GEOJSON: "application/geo+json"}
FILENAMES = {ExportFormat.HSDS: "hsds.json", ExportFormat.GEOJSON: "catalogue.geojson"}

# A JSON array of HSDS organizations; a GeoJSON FeatureCollection.
_FRAMES = {
    ExportFormat.HSDS: (b"[\n", b"\n]\n"),
    ExportFormat.GEOJSON: (b'{"type": "FeatureCollection", "features": [\n', b"\n]}\n"),
}


def _records(fmt: ExportFormat, batch: Batch) -> Iterator[dict[str, Any]]:
    return hsds.organizations(batch) if fmt is ExportFormat.HSDS else geojson.features(batch)


async def chunks(
    sessionmaker: async_sessionmaker[AsyncSession],
    fmt: ExportFormat,
    modified_after: datetime | None = None,
) -> AsyncIterator[bytes]:
    """The export as UTF-8 JSON, one chunk per batch of providers (with ``modified_after``,
    of the providers changed since; deletions are in the change feed)."""
    opening, closing = _FRAMES[fmt]
    yield opening
    first = True
    async for batch in published_catalogue(sessionmaker, modified_after=modified_after):
        parts = [json.dumps(record, ensure_ascii=False) for record in _records(fmt, batch)]
        if parts:
            yield (b"" if first else b",\n") + ",\n".join(parts).encode()
            first = False
    yield closing
