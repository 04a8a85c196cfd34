"""Changes pushed to subscribers in every server process through LISTEN/NOTIFY.

Triggers notify a channel whatever process made the change: ``ambrogio_slot`` with a slot's id
when its seats or status change (migration 0003), ``ambrogio_catalogue`` with a change feed
entry's ``seq`` when a published record changes (migration 0008). PostgreSQL delivers them at
commit, in commit order. Each process keeps one listening connection and fans the payloads out
to its subscribers' queues. A subscriber that falls behind by more than ``QUEUE_SIZE``
notifications loses the oldest: a live view wants the newest state (a client that must miss
nothing follows the change feed instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

SLOT_CHANNEL = "ambrogio_slot"
CATALOGUE_CHANNEL = "ambrogio_catalogue"
CHANNELS = (SLOT_CHANNEL, CATALOGUE_CHANNEL)
QUEUE_SIZE = 1000

log = logging.getLogger("ambrogio.notifications")


class Notifications:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._connection: Any = None
        self._queues: dict[str, set[asyncio.Queue[str]]] = {name: set() for name in CHANNELS}

    async def start(self) -> None:
        self._connection = await asyncpg.connect(self._dsn)
        for channel in CHANNELS:
            await self._connection.add_listener(channel, self._notified)

    async def stop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                for channel in CHANNELS:
                    await self._connection.remove_listener(channel, self._notified)
            await self._connection.close()
            self._connection = None

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        for queue in self._queues.get(channel, ()):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(payload)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[str]]:
        """The payloads of ``channel`` from now on, while the block runs."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._queues[channel].add(queue)
        try:
            yield queue
        finally:
            self._queues[channel].discard(queue)
