"""Read replicas: which database a request reads from.

PostgreSQL streaming replicas (``AMBROGIO_DATABASE_REPLICA_URLS``) answer queries; the primary
(``DATABASE_URL``) takes every mutation and what must see a write at once:

- a **mutation** runs on the primary, reads included (read-after-write within a request);
- a **caller who wrote** reads from the primary for ``AMBROGIO_REPLICA_STICKY_SECONDS``
  afterwards, in every server process: the process that took the write says so on the
  ``ambrogio_writer`` channel (LISTEN/NOTIFY, ``ambrogio.db.notifications``), once committed;
- a replica is used only while it is **fresh**: every ``AMBROGIO_REPLICA_CHECK_SECONDS`` the
  watcher samples the primary's WAL position (``pg_current_wal_lsn()``) and each replica's
  replayed one (``pg_last_wal_replay_lsn()``, and ``pg_is_in_recovery()``: a promoted or
  misconfigured server is not a replica). A replica's lag is how long ago the primary was at
  the first position the replica has not replayed; past ``AMBROGIO_REPLICA_MAX_LAG_SECONDS``,
  or when it does not answer, it is skipped until it has caught up. An idle primary writes no
  WAL, so an idle replica is not lagging.
- a read that fails because its replica went away is run again on the primary
  (``ambrogio.schema.build``) and the replica is skipped until the watcher sees it again.

With no replica configured every request uses the primary and nothing here runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ambrogio.db.notifications import WRITER_CHANNEL, Notifications
from ambrogio.db.session import create_engine, create_probe_engine, create_sessionmaker
from ambrogio.settings import Settings

log = logging.getLogger("ambrogio.replicas")

PRIMARY_POSITION = text("SELECT pg_current_wal_lsn()::text")
REPLICA_POSITION = text("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text")
NOTIFY_WRITER = text("SELECT pg_notify(:channel, :caller)")


def lsn(position: str | None) -> int:
    """A WAL position ``16/B374D848`` as a number (0 when there is none)."""
    if not position:
        return 0
    high, _, low = position.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass
class Replica:
    name: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # The watcher's own connection to it.
    probe: AsyncEngine
    fresh: bool = False
    lag_seconds: float | None = None


@dataclass
class ReadRouting:
    """The replicas of one server process, their freshness, and who wrote recently."""

    settings: Settings
    primary: AsyncEngine
    replicas: list[Replica]
    # The watcher's own connection to the primary.
    primary_probe: AsyncEngine
    # (when, the primary's WAL position then), newest last.
    _positions: deque[tuple[float, int]] = field(default_factory=deque)
    _writers: dict[str, float] = field(default_factory=dict)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def reader(self, caller: str) -> Replica | None:
        """The replica for ``caller``'s queries now, or None for the primary."""
        until = self._writers.get(caller)
        if until is not None:
            if until > time.monotonic():
                return None
            del self._writers[caller]
        fresh = [replica for replica in self.replicas if replica.fresh]
        return fresh[next(self._turn) % len(fresh)] if fresh else None

    def wrote(self, caller: str) -> None:
        self._writers[caller] = time.monotonic() + self.settings.replica_sticky_seconds

    async def announce(self, caller: str) -> None:
        """``caller`` wrote: its reads stay on the primary here and in the other processes."""
        self.wrote(caller)
        async with self.primary.begin() as connection:
            await connection.execute(NOTIFY_WRITER, {"channel": WRITER_CHANNEL, "caller": caller})

    def failed(self, replica: Replica) -> None:
        """A read on ``replica`` found it gone: skip it until the watcher sees it again."""
        if replica.fresh:
            log.warning("replica %s failed a read; skipped", replica.name)
        replica.fresh = False

    async def follow_writers(self, notifications: Notifications) -> None:
        async with notifications.subscribe(WRITER_CHANNEL) as queue:
            while True:
                self.wrote(await queue.get())

    async def watch(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.settings.replica_check_seconds)

    async def check(self) -> None:
        """Sample the primary's WAL position, then judge each replica against it."""
        now = time.monotonic()
        with contextlib.suppress(Exception):  # no sample while the primary does not answer
            async with self.primary_probe.connect() as connection:
                position = lsn(await connection.scalar(PRIMARY_POSITION))
            self._positions.append((now, position))
        keep = now - 2 * self.settings.replica_max_lag_seconds - 10
        while len(self._positions) > 1 and self._positions[0][0] < keep:
            self._positions.popleft()
        await asyncio.gather(*(self._judge(replica, now) for replica in self.replicas))

    async def _judge(self, replica: Replica, now: float) -> None:
        try:
            async with replica.probe.connect() as connection:
                recovering, replayed = (await connection.execute(REPLICA_POSITION)).one()
        except Exception as error:
            if replica.fresh:
                log.warning("replica %s does not answer (%r); skipped", replica.name, error)
            replica.fresh, replica.lag_seconds = False, None
            return
        behind = [at for at, position in self._positions if position > lsn(replayed)]
        replica.lag_seconds = now - behind[0] if behind else 0.0
        fresh = bool(recovering) and replica.lag_seconds <= self.settings.replica_max_lag_seconds
        if fresh != replica.fresh:
            state = "in use" if fresh else "skipped"
            log.info("replica %s %s (lag %.1f s)", replica.name, state, replica.lag_seconds)
        replica.fresh = fresh

    async def dispose(self) -> None:
        for replica in self.replicas:
            await replica.engine.dispose()
            await replica.probe.dispose()
        await self.primary_probe.dispose()


def read_routing(settings: Settings, primary: AsyncEngine) -> ReadRouting | None:
    """The routing of the configured replicas (their engines made, none connected yet)."""
    if not settings.database_replica_urls:
        return None
    replicas = []
    for url in settings.database_replica_urls:
        engine = create_engine(settings, url, serving=True)
        probe = create_probe_engine(settings, url)
        replicas.append(Replica(replica_name(url), engine, create_sessionmaker(engine), probe))
    primary_url = primary.url.render_as_string(hide_password=False)
    return ReadRouting(settings, primary, replicas, create_probe_engine(settings, primary_url))


def replica_name(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host}:{parsed.port}/{parsed.database}"
