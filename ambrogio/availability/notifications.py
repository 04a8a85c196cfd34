"""Slot changes, pushed to subscribers in every server process through LISTEN/NOTIFY.

A trigger on ``slot`` (migration 0003) notifies channel ``ambrogio_slot`` with the slot's id
whenever its seats or status change, whichever process made the change. Each process keeps one
listening connection and fans the ids out to its subscribers' queues. A subscriber that falls
behind by more than ``QUEUE_SIZE`` changes loses the oldest: availability is a live view, and
the newest state of a slot is what matters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

CHANNEL = "ambrogio_slot"
QUEUE_SIZE = 1000

log = logging.getLogger("ambrogio.notifications")


class SlotChanges:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._connection: Any = None
        self._queues: set[asyncio.Queue[uuid.UUID]] = set()

    async def start(self) -> None:
        self._connection = await asyncpg.connect(self._dsn)
        await self._connection.add_listener(CHANNEL, self._notified)

    async def stop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.remove_listener(CHANNEL, self._notified)
            await self._connection.close()
            self._connection = None

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        try:
            slot_id = uuid.UUID(payload)
        except ValueError:
            log.warning("ignoring notification %r on %s", payload, channel)
            return
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(slot_id)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[uuid.UUID]]:
        queue: asyncio.Queue[uuid.UUID] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)
