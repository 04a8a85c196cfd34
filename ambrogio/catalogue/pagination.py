"""``first``/``after`` validation and opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ambrogio.catalogue.visibility import Stmt
from ambrogio.errors import BadUserInput
from ambrogio.settings import Settings


def page_size(first: int | None, settings: Settings) -> int:
    if first is None:
        return settings.default_page_size
    if not 1 <= first <= settings.max_page_size:
        raise BadUserInput("first", first, f"must be between 1 and {settings.max_page_size}")
    return first


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [str(value) if isinstance(value, uuid.UUID) else value for value in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, parsers: Sequence[Callable[[Any], Any]]) -> list[Any] | None:
    """The key values of a cursor, each checked by its parser; BAD_USER_INPUT if it is not ours."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(parsers):
            raise ValueError(cursor)
        return [parse(value) for parse, value in zip(parsers, values, strict=True)]
    except (binascii.Error, UnicodeError, ValueError, TypeError) as error:
        raise BadUserInput("after", cursor, "is not a cursor returned by this list") from error


def text_key(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def uuid_key(value: Any) -> uuid.UUID:
    return uuid.UUID(text_key(value))


def int_key(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


def float_key(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(value)
    return float(value)


def date_key(value: Any) -> date:
    return date.fromisoformat(text_key(value))


def instant_key(value: Any) -> datetime:
    return datetime.fromisoformat(text_key(value))


def order_tag(expected: str) -> Callable[[Any], str]:
    """The first key of a cursor: which order made it (a cursor of another order is refused)."""

    def check(value: Any) -> str:
        if value != expected:
            raise ValueError("cursor of another order")
        return expected

    return check


def counter(sessions: async_sessionmaker[AsyncSession], stmt: Stmt) -> Callable[[], Any]:
    """A lazy ``totalCount``: runs only when the field is selected."""

    async def count() -> int:
        counted = select(func.count()).select_from(stmt.order_by(None).limit(None).subquery())
        async with sessions() as session:
            return int((await session.execute(counted)).scalar_one())

    return count


def keyset_page(
    stmt: Stmt,
    order: Sequence[Any],
    after: Sequence[Any] | None,
    limit: int,
    *,
    descending: bool = False,
) -> Stmt:
    """One page of ``stmt`` ordered by ``order`` (ending in a unique column), after a cursor's
    key values; every column ascending, or every one descending.

    Fetches one row more than asked so that the caller knows whether another page follows.
    """
    if after is not None:
        key, cursor = tuple_(*order), tuple_(*after)
        stmt = stmt.where(key < cursor if descending else key > cursor)
    columns = [column.desc() for column in order] if descending else list(order)
    return stmt.order_by(*columns).limit(limit + 1)
