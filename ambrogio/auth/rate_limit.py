"""Requests a minute per API key."""

from __future__ import annotations

import time

from ambrogio.errors import RateLimited


class RateLimiter:
    """A per-process fixed window of one minute per key."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, limit: int) -> None:
        minute = int(time.monotonic() // 60)
        window, count = self._windows.get(key, (minute, 0))
        if window != minute:
            window, count = minute, 0
        if count >= limit:
            raise RateLimited(f"API key {key!r} is over its limit of {limit} requests a minute")
        self._windows[key] = (window, count + 1)
