"""The vector tiles this process has made, kept until the catalogue changes.

A map asks for the same tiles over and over (every client, every pan back); a tile changes
only when a published record does, and every such change notifies ``ambrogio_catalogue``
(``db/notifications.py``) whichever process made it. So each process keeps its tiles, the
bytes and their gzip, by layer, tile and filter, the least recently used dropped past
``max_bytes``, and empties the cache on every notification.

A tile read before a change but stored after its notification would outlive it: each entry is
stored with the generation it was read in, and only while no notification has come since.
While the process does not listen (the listener could not start), nothing is cached.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from ambrogio.db.notifications import CATALOGUE_CHANNEL, Notifications

# Fast, and within a few per cent of level 9 on tiles (their uuids do not compress anyway).
GZIP_LEVEL = 5


@dataclass(frozen=True)
class CachedTile:
    body: bytes
    gzipped: bytes
    # A strong validator: a hash of the tile's bytes, the same in every process.
    etag: str

    @classmethod
    def of(cls, body: bytes) -> CachedTile:
        etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
        return cls(body, gzip.compress(body, GZIP_LEVEL, mtime=0) if body else b"", etag)

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped) + 200


Key = tuple[str, int, int, int, str]
"""Layer, z, x, y and the filter's query string (normalised)."""


class TileCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.generation = 0
        self.listening = False
        self._tiles: OrderedDict[Key, CachedTile] = OrderedDict()
        self._bytes = 0

    def get(self, key: Key) -> CachedTile | None:
        tile = self._tiles.get(key)
        if tile is not None:
            self._tiles.move_to_end(key)
        return tile

    def put(self, key: Key, tile: CachedTile, generation: int) -> None:
        """Keep ``tile``, read while the cache was at ``generation``, unless it changed since."""
        if not self.listening or generation != self.generation or tile.size > self.max_bytes:
            return
        old = self._tiles.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        self._tiles[key] = tile
        self._bytes += tile.size
        while self._bytes > self.max_bytes:
            _, dropped = self._tiles.popitem(last=False)
            self._bytes -= dropped.size

    def invalidate(self) -> None:
        self.generation += 1
        self._tiles.clear()
        self._bytes = 0

    async def follow(self, notifications: Notifications) -> None:
        """Empty the cache on every catalogue change, for as long as this runs."""
        async with notifications.subscribe(CATALOGUE_CHANNEL) as queue:
            self.invalidate()
            self.listening = True
            try:
                while True:
                    await queue.get()
                    self.invalidate()
            finally:
                self.listening = False
                self.invalidate()

    def start(self, notifications: Notifications) -> asyncio.Task[None]:
        return asyncio.create_task(self.follow(notifications), name="tile-cache")
