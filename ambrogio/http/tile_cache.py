"""The vector tiles this process has made, kept until the catalogue changes.

A map asks for the same tiles over and over (every client, every pan back); a tile changes
only when a published record does, and every such change notifies ``ambrogio_catalogue``
(``db/notifications.py``) whichever process made it. So each process keeps its tiles, the
bytes and their gzip, by layer, tile and filter, the least recently used dropped past
``max_bytes``, and empties the cache on every notification.

A tile read before a change but stored after its notification would outlive it: each entry is
stored with the generation it was read in, and only while no notification has come since.
Tiles are kept only while the listening connection is up (connected, not merely subscribed):
when it is lost (a database restart), the cache empties and keeps nothing until it listens
again, and empties once more then, since what changed while it was deaf was never notified.
A half-open connection goes unnoticed until the listener's next probe (``db/notifications.py``).

Requests that miss the same tile at once share one build of it (``fetch``): a map's first
view of a cold area asks every client for the same tiles together.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
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
        # Builds under way, by tile and the generation they read in.
        self._flights: dict[tuple[Key, int], asyncio.Future[CachedTile]] = {}

    def get(self, key: Key) -> CachedTile | None:
        tile = self._tiles.get(key)
        if tile is not None:
            self._tiles.move_to_end(key)
        return tile

    async def fetch(self, key: Key, build: Callable[[], Awaitable[CachedTile]]) -> CachedTile:
        """The tile of ``key``: kept, or built by ``build`` once for every request that misses
        it meanwhile, and then kept. A request after a change never joins a build that read
        before it (builds are per generation); one waiter cancelled (its client went away)
        does not cancel the build the others wait for."""
        tile = self.get(key)
        if tile is not None:
            return tile
        generation = self.generation
        flight = self._flights.get((key, generation))
        if flight is None:
            flight = asyncio.ensure_future(build())
            self._flights[key, generation] = flight

            def landed(done: asyncio.Future[CachedTile]) -> None:
                del self._flights[key, generation]
                if not done.cancelled() and done.exception() is None:
                    self.put(key, done.result(), generation)

            flight.add_done_callback(landed)
        return await asyncio.shield(flight)

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
        """Empty the cache on every catalogue change, and whenever the listening connection
        comes or goes, for as long as this runs."""
        async with notifications.subscribe(CATALOGUE_CHANNEL) as queue:
            try:
                while True:
                    await notifications.connected.wait()
                    self.invalidate()
                    self.listening = True
                    await self._follow_until_lost(queue, notifications)
                    self.listening = False
                    self.invalidate()
            finally:
                self.listening = False
                self.invalidate()

    async def _follow_until_lost(
        self, queue: asyncio.Queue[str], notifications: Notifications
    ) -> None:
        lost = asyncio.ensure_future(notifications.disconnected.wait())
        try:
            while not lost.done():
                change = asyncio.ensure_future(queue.get())
                await asyncio.wait({change, lost}, return_when=asyncio.FIRST_COMPLETED)
                if change.done():
                    self.invalidate()
                else:
                    change.cancel()
        finally:
            lost.cancel()

    def start(self, notifications: Notifications) -> asyncio.Task[None]:
        return asyncio.create_task(self.follow(notifications), name="tile-cache")
