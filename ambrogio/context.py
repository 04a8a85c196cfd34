"""The typed request context: settings, database sessions, DataLoaders and the caller."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ambrogio.db.notifications import Notifications
from ambrogio.db.replicas import ReadRouting, Replica
from ambrogio.errors import AmbrogioError
from ambrogio.http.requests import RequestInfo
from ambrogio.resolvers.loaders import Loaders
from ambrogio.settings import Settings


class Role(StrEnum):
    PUBLIC = "public"
    MAPPER = "mapper"
    REVIEWER = "reviewer"
    ADMIN = "admin"
    # Sees the aggregates of needs (gaps, trends), never an individual need record.
    PLANNER = "planner"
    API_CLIENT = "api_client"


@dataclass(frozen=True)
class Caller:
    """Who is calling. Anonymous unless a bearer token or an API key says otherwise."""

    role: Role = Role.PUBLIC
    # The user's name, or an API key's name.
    subject: str | None = None
    scopes: frozenset[str] = frozenset()
    # A mapper of a welfare point edits only records in these comuni; None is unrestricted.
    comuni: frozenset[str] | None = None
    # The welfare point a user works at: its operators read and write its need records.
    welfare_point: uuid.UUID | None = None
    # An API key's public prefix (names of keys need not be unique).
    key_id: str | None = None
    # An API key's rate limit, cost points a minute (ambrogio.auth.rate_limit).
    rate_limit: int | None = None

    @property
    def anonymous(self) -> bool:
        return self.subject is None

    @property
    def key(self) -> str:
        """A stable identity for per-caller state (idempotency keys, reservations): the user or
        the API key, whatever their role; anonymous callers have none of their own."""
        if self.key_id:
            return f"key:{self.key_id}"
        return f"user:{self.subject}" if self.subject else "anonymous"

    @property
    def actor(self) -> str:
        """How audit events and review decisions name this caller."""
        if self.key_id:
            return f"key:{self.key_id}:{self.subject}"
        return self.subject or "anonymous"


ANONYMOUS = Caller()


def writer_key(caller: Caller, client: str | None) -> str:
    """Whose writes a request's reads must see (``ambrogio.db.replicas``): the caller, or an
    anonymous caller's address."""
    return caller.key if not caller.anonymous else f"anonymous@{client}"


class Limiter(Protocol):
    """Charges an operation's cost to its caller (``ambrogio.auth.rate_limit.RateLimiter``)."""

    async def charge(self, caller: Caller, client: str | None, cost: int) -> None: ...


class Response(Protocol):
    """The HTTP response being prepared: what an operation may set on it (429, headers)."""

    status_code: int
    headers: dict[str, str]


@dataclass
class Context:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    # The sessionmaker's engine: hot reads run on its pooled connections directly.
    engine: AsyncEngine
    caller: Caller = ANONYMOUS
    notifications: Notifications | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Credentials were sent and did not hold: the operation answers with this error.
    auth_failure: AmbrogioError | None = None
    limiter: Limiter | None = None
    # The client's address (the rate limit of anonymous callers).
    client: str | None = None
    # The HTTP response (None over a websocket).
    response: Response | None = None
    # The operation's cost was charged: a run again on the primary (its replica failed) is
    # the same operation, not charged twice.
    charged: bool = False
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def loaders(self) -> Loaders:
        """The request's DataLoaders, made when a nested field first asks (most requests of
        a map or a search page never do)."""
        if self._loaders is None:
            self._loaders = Loaders(self.sessionmaker)
        return self._loaders

    # What the request's log line and metrics say (the operation's name, its caller, ...).
    request_info: RequestInfo | None = None
    # Read replicas, when configured; ``replica`` is the one this request reads from, and
    # ``primary`` the primary's engine and sessionmaker while it does.
    routing: ReadRouting | None = None
    replica: Replica | None = None
    primary: tuple[AsyncEngine, async_sessionmaker[AsyncSession]] | None = None

    @property
    def writer_key(self) -> str:
        client = self.request_info.client if self.request_info is not None else None
        return writer_key(self.caller, client)

    def read_from_replica(self) -> None:
        """Queries: read from a fresh replica, unless this caller wrote a moment ago."""
        replica = self.routing.reader(self.writer_key) if self.routing is not None else None
        if replica is not None:
            self.primary = self.primary or (self.engine, self.sessionmaker)
            self.replica = replica
            self._use(replica.engine, replica.sessionmaker)

    def read_from_primary(self) -> None:
        """Back to the primary (the replica failed): the loaders start afresh."""
        if self.replica is not None and self.primary is not None:
            self.replica = None
            self._use(*self.primary)

    def _use(self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        # Both together: hot reads run on ``engine`` directly, the others through sessions.
        self.engine, self.sessionmaker = engine, sessionmaker
        self._loaders = None
