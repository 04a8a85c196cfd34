"""Conditional GETs of the published catalogue (the exports and the HSDS REST API): ``ETag``
and ``Last-Modified`` from the change feed, and 304 on ``If-None-Match`` or
``If-Modified-Since`` when nothing changed.

Every write to a provider, location, service or welfare point adds a change (a trigger, in the
same transaction), so the feed's fingerprint (``catalogue.changes.fingerprint``) is a validator
of everything these routes show, found in one cheap statement before any document is built.

The ``ETag`` is weak (``W/``): the bytes depend on compression and key order, the content on
the catalogue, the request's path and query, and Ambrogio's version.

``Last-Modified`` needs care: a change carries its transaction's start time, and a long
transaction (an import) commits long after it began, so the newest time can go backwards when
it lands; HTTP dates are whole seconds, too. The date handed out, ``L``, is one that every
change not yet in the answer will be later than, by its whole second: not after the newest
change's second, and before the second of any transaction still open and of the present one
(a transaction that begins later is later than that). Then ``If-Modified-Since: L`` is
answered 304 exactly when the newest change's second is not after ``L``. ``If-None-Match``,
exact, wins when both are sent (RFC 9110).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from ambrogio import __version__
from ambrogio.catalogue import changes

SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Validators:
    """The validators of one answer, and what a date in ``If-Modified-Since`` is checked
    against."""

    etag: str
    last_modified: datetime | None
    newest_change: datetime | None

    def headers(self) -> dict[str, str]:
        headers = {"ETag": self.etag}
        if self.last_modified is not None:
            headers["Last-Modified"] = format_datetime(self.last_modified, usegmt=True)
        return headers

    def unchanged_since(self, since: datetime) -> bool:
        return self.newest_change is not None and _whole_seconds(self.newest_change) <= since


def _whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


async def validators(session: AsyncSession, request: Request) -> Validators:
    """The validators of the answer to ``request`` as the catalogue stands."""
    count, txid, seq, newest, horizon_txid, horizon_seq, oldest_open, now = (
        await session.execute(changes.fingerprint())
    ).one()
    state = f"{__version__}|{count}|{txid}|{seq}|{horizon_txid}|{horizon_seq}"
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    digest = hashlib.blake2b(f"{state}|{request.url.path}?{query}".encode(), digest_size=16)
    last = None
    if newest is not None:
        bounds = [_whole_seconds(now) - SECOND, _whole_seconds(newest)]
        if oldest_open is not None:
            bounds.append(_whole_seconds(oldest_open) - SECOND)
        last = min(bounds)
    return Validators(etag=f'W/"{digest.hexdigest()}"', last_modified=last, newest_change=newest)


def matches(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` against ``etag``, compared weakly (RFC 9110: W/"x" matches "x")."""
    if if_none_match is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def _since(headers: Headers) -> datetime | None:
    raw = headers.get("if-modified-since")
    if raw is None:
        return None
    try:
        since = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None  # RFC 9110: an invalid date is ignored
    return since if since.tzinfo is not None else since.replace(tzinfo=UTC)


def not_modified(request: Request, found: Validators) -> Response | None:
    """The 304 for ``request`` when its validators say it has this version; else None."""
    if "if-none-match" in request.headers:
        fresh = matches(request.headers["if-none-match"], found.etag)
    else:
        since = _since(request.headers)
        fresh = since is not None and found.unchanged_since(since)
    return Response(status_code=304, headers=found.headers()) if fresh else None
