"""The typed request context: settings, database sessions, DataLoaders and the caller."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.availability.notifications import SlotChanges
from ambrogio.loaders import Loaders
from ambrogio.settings import Settings


class Role(StrEnum):
    PUBLIC = "public"
    MAPPER = "mapper"
    REVIEWER = "reviewer"
    ADMIN = "admin"
    API_CLIENT = "api_client"


@dataclass(frozen=True)
class Caller:
    """Who is calling. Anonymous unless a bearer token or an API key says otherwise."""

    role: Role = Role.PUBLIC
    subject: str | None = None
    scopes: frozenset[str] = frozenset()

    @property
    def anonymous(self) -> bool:
        return self.subject is None

    @property
    def key(self) -> str:
        """A stable identity for per-caller state such as idempotency keys."""
        return f"{self.role.value}:{self.subject}" if self.subject else "anonymous"


ANONYMOUS = Caller()


@dataclass
class Context:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    loaders: Loaders
    caller: Caller = ANONYMOUS
    slot_changes: SlotChanges | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
