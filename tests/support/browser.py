"""Headless Chromium for the map preview's end-to-end tests: Debian's ``chromium`` (``make
chromium`` installs it), driven by Playwright's async API on the tests' event loop. Playwright's
own browser builds are never used.

WebGL: with ``--disable-gpu`` Chromium still offers WebGL 2 through ANGLE on SwiftShader (the
CPU Vulkan driver it ships); ``--enable-unsafe-swiftshader`` says that software WebGL is
wanted, rather than relying on the automatic fallback Chromium is phasing out.

Every request the browser makes goes through ``Recorder``: each is logged, and any whose host
is not 127.0.0.1 is aborted. ``--host-resolver-rules`` resolves no other name either, so nothing
leaves the machine even from Chromium's own machinery.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    BrowserContext,
    Page,
    Request,
    Response,
    Route,
    async_playwright,
)

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
LOCAL_SCHEMES = {"data", "blob", "about"}


@dataclass
class Recorder:
    """Every request of a browser context, and which of them would have left 127.0.0.1."""

    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    # (url, status, content type) of every response
    responses: list[tuple[str, int, str]] = field(default_factory=list)
    # (url, Authorization header) of every request that carried one
    authorised: list[tuple[str, str]] = field(default_factory=list)

    @staticmethod
    def is_local(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in LOCAL_SCHEMES or parts.hostname == "127.0.0.1"

    async def route(self, route: Route) -> None:
        url = route.request.url
        if self.is_local(url):
            await route.continue_()
        else:
            self._outside(url)
            await route.abort("blockedbyclient")

    def answered(self, response: Response) -> None:
        kind = response.headers.get("content-type", "")
        self.responses.append((response.url, response.status, kind))

    def seen(self, request: Request) -> None:
        self.requests.append(request.url)
        authorization = request.headers.get("authorization")
        if authorization is not None:
            self.authorised.append((request.url, authorization))
        if not self.is_local(request.url):
            self._outside(request.url)

    def _outside(self, url: str) -> None:
        # the request event and the route both see it: list it once
        if url not in self.outside:
            self.outside.append(url)


@dataclass
class Console:
    """What the page printed as errors, and the exceptions it did not catch."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))


@contextlib.asynccontextmanager
async def chromium(user_data_dir: Path, recorder: Recorder) -> AsyncIterator[BrowserContext]:
    """A fresh Chromium profile in ``user_data_dir`` whose every request ``recorder`` sees."""
    if not CHROMIUM.exists():  # noqa: ASYNC240 (one stat, before the browser starts)
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium")
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 800},
            locale="it-IT",
            timezone_id="Europe/Rome",
        )
        try:
            await context.route("**/*", recorder.route)
            context.on("request", recorder.seen)
            context.on("response", recorder.answered)
            yield context
        finally:
            await context.close()


async def until(page: Page, expression: str, arg: Any = None, seconds: float = 20.0) -> Any:
    """Poll ``expression`` (a JavaScript function) in the page until it returns a truthy value.

    Playwright's ``wait_for_function`` evaluates strings, which the page's CSP forbids;
    ``evaluate`` runs through the DevTools protocol, which the CSP does not govern."""
    deadline = time.monotonic() + seconds
    while True:
        value = await page.evaluate(expression, arg)
        if value:
            return value
        assert time.monotonic() < deadline, f"still false after {seconds} s: {expression}"
        await asyncio.sleep(0.1)
