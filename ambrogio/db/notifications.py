"""Changes pushed to subscribers in every server process through LISTEN/NOTIFY.

Triggers notify a channel whatever process made the change: ``ambrogio_slot`` with a slot's id
when its seats or status change (migration 0003), ``ambrogio_catalogue`` with a change feed
entry's ``seq``, or ``first-last`` for one statement's entries, when published records
change (migrations 0008 and 0021). PostgreSQL delivers them at commit, in commit order. Each
process keeps one listening connection and fans the payloads out to its subscribers' queues.
A subscriber that falls behind by more than ``QUEUE_SIZE`` notifications loses the oldest: a
live view wants the newest state (a client that must miss nothing follows the change feed
instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from ambrogio.metrics import SUBSCRIPTIONS

SLOT_CHANNEL = "ambrogio_slot"
CATALOGUE_CHANNEL = "ambrogio_catalogue"
# A caller who wrote, whose reads stay on the primary for a while (ambrogio.db.replicas).
WRITER_CHANNEL = "ambrogio_writer"
CHANNELS = (SLOT_CHANNEL, CATALOGUE_CHANNEL, WRITER_CHANNEL)
QUEUE_SIZE = 1000

log = logging.getLogger("ambrogio.notifications")


class Notifications:
    """One process's listening connection, kept open: when PostgreSQL drops it (a restart, a
    network cut) it reconnects every ``retry_seconds`` and listens again. Subscribers keep their
    queues throughout; what is notified while no connection listens is not delivered (a live
    view catches up at the next change; the change feed has everything)."""

    def __init__(
        self, database_url: str, *, retry_seconds: float = 1.0, connect_timeout: float = 3.0
    ) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._retry = retry_seconds
        self._connect_timeout = connect_timeout
        self._connection: Any = None
        self._task: asyncio.Task[None] | None = None
        self._queues: dict[str, set[asyncio.Queue[str]]] = {name: set() for name in CHANNELS}
        # Set while a connection listens, and while none does: subscribers that must know
        # when they may have missed notifications (the tile cache) wait on them.
        self.connected = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.disconnected.set()

    async def start(self) -> None:
        """Listen from now on; waits up to the connect timeout for the first connection (a
        database not reachable yet is retried in the background)."""
        self._task = asyncio.create_task(self._keep_listening(), name="ambrogio-listen")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), self._connect_timeout)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close()

    async def _close(self) -> None:
        self.connected.clear()
        self.disconnected.set()
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), self._connect_timeout)

    async def _keep_listening(self) -> None:
        while True:
            try:
                await self._listen()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                if self.connected.is_set():
                    log.warning("lost the listening connection: %r", error)
            await self._close()
            await asyncio.sleep(self._retry)

    async def _listen(self) -> None:
        """Connect, listen, and return once the connection is gone."""
        connection = await asyncpg.connect(self._dsn, timeout=self._connect_timeout)
        self._connection = connection
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        for channel in CHANNELS:
            await connection.add_listener(channel, self._notified)
        if not self.connected.is_set():
            log.info("listening for changes")
        self.disconnected.clear()
        self.connected.set()
        while not connection.is_closed():
            # A half-open connection (the server gone without a word) shows at the next query.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), 5 * self._retry)
            if lost.is_set() or connection.is_closed():
                break
            await connection.fetchval("SELECT 1", timeout=self._connect_timeout)

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
        SUBSCRIPTIONS.labels(channel).inc()
        try:
            yield queue
        finally:
            self._queues[channel].discard(queue)
            SUBSCRIPTIONS.labels(channel).dec()
