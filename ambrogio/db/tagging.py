"""The request a database connection works for, in PostgreSQL's ``application_name``.

When a pooled connection is handed to a request, its ``application_name`` becomes
``ambrogio <request id>``: ``pg_stat_activity`` and the server log (``%a`` in
``log_line_prefix``, e.g. with ``log_min_duration_statement``) then name the request behind a
slow statement, and the request's JSON log line says the same id. The ``set_config`` doubles as
the checkout's liveness check: a connection PostgreSQL dropped (a restart) fails it, and the pool
replaces it before the request sees it, as ``pool_pre_ping`` would, in the same one round trip.
A comment in each statement would say the same but make every statement's text unique, which
defeats asyncpg's prepared-statement cache.

The hot reads of ``ambrogio.db.prepared`` need no second round trip: their statement sets the
name itself (``set_config`` before its rows are read, a parameter like any other), so they
check out with ``self_tagged`` and the checkout sends nothing. They replace a dead connection
themselves (``prepared.fetch``).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

APPLICATION = "ambrogio"
# The request being answered in this task (set by the HTTP layer).
current_request: ContextVar[str | None] = ContextVar("ambrogio_request", default=None)
# Set while a statement that tags its connection itself checks one out.
self_tagged: ContextVar[bool] = ContextVar("ambrogio_self_tagged", default=False)
# What a request id may hold once in SQL: PostgreSQL keeps 63 bytes of application_name.
UNSAFE = re.compile(r"[^A-Za-z0-9._:-]")


def application_name(request_id: str | None) -> str:
    if not request_id:
        return APPLICATION
    return f"{APPLICATION} {UNSAFE.sub('', request_id)[:48]}"


def tag_statements(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if self_tagged.get():
            return
        # On the driver's connection, outside any transaction: the name holds after the
        # request's transaction ends (a rollback would undo it), until the next checkout.
        name = application_name(current_request.get())
        statement = f"SET application_name = '{name}'"
        try:
            await_only(dbapi_connection.driver_connection.execute(statement))
        except Exception as error:
            raise exc.DisconnectionError(str(error)) from error
