"""The tile cache on its own: it keeps tiles only while its listening connection is up, and
requests missing one tile at once share one build of it."""

from __future__ import annotations

import asyncio

from ambrogio.db.notifications import Notifications
from ambrogio.http.tile_cache import CachedTile, Key, TileCache

KEY: Key = ("providers", 14, 8619, 5838, "")


async def test_a_cache_whose_listener_never_connects_keeps_nothing(db_url: str) -> None:
    # given a listener on a port where no database answers, and one on the test database
    nowhere = Notifications("postgresql://postgres@127.0.0.1:9/ambrogio", connect_timeout=0.2)
    here = Notifications(db_url)
    deaf, hearing = TileCache(1 << 20), TileCache(1 << 20)
    await nowhere.start()
    await here.start()
    tasks = [deaf.start(nowhere), hearing.start(here)]
    try:
        # when each has been following for a while
        for _ in range(50):
            if hearing.listening:
                break
            await asyncio.sleep(0.05)
        # then only the one whose connection listens keeps a tile
        assert hearing.listening and not deaf.listening
        for cache in (deaf, hearing):
            cache.put(KEY, CachedTile.of(b"tile"), cache.generation)
        assert hearing.get(KEY) is not None
        assert deaf.get(KEY) is None
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await nowhere.stop()
        await here.stop()


async def test_concurrent_misses_of_one_tile_build_it_once() -> None:
    cache = TileCache(1 << 20)
    cache.listening = True  # as once its listener is connected
    builds = 0
    release = asyncio.Event()

    async def build() -> CachedTile:
        nonlocal builds
        builds += 1
        await release.wait()
        return CachedTile.of(f"tile {builds}".encode())

    waiting = [asyncio.ensure_future(cache.fetch(KEY, build)) for _ in range(10)]
    await asyncio.sleep(0.05)
    waiting[0].cancel()  # one client goes away: the others still get the tile
    release.set()
    tiles = await asyncio.gather(*waiting[1:])
    assert builds == 1
    assert {tile.body for tile in tiles} == {b"tile 1"}
    assert cache.get(KEY) is tiles[0]  # and it was kept
    assert (await cache.fetch(KEY, build)).body == b"tile 1"  # no build for a kept tile


async def test_a_miss_after_a_change_does_not_join_a_build_that_read_before_it() -> None:
    cache = TileCache(1 << 20)
    cache.listening = True
    release = asyncio.Event()
    builds = 0

    async def build() -> CachedTile:
        nonlocal builds
        builds += 1
        which = builds
        await release.wait()
        return CachedTile.of(f"tile {which}".encode())

    before = asyncio.ensure_future(cache.fetch(KEY, build))
    await asyncio.sleep(0.05)
    cache.invalidate()  # the catalogue changed while the first build was reading
    after = asyncio.ensure_future(cache.fetch(KEY, build))
    await asyncio.sleep(0.05)
    release.set()
    assert (await before).body == b"tile 1"
    assert (await after).body == b"tile 2"
    assert builds == 2
    kept = cache.get(KEY)
    assert kept is not None and kept.body == b"tile 2"
