"""Graceful shutdown: SIGTERM first takes the server out of its load balancer's rotation.

On SIGTERM, ``/readyz`` answers 503 at once, while the server keeps answering every request,
in flight or new, for ``AMBROGIO_SHUTDOWN_DRAIN_SECONDS``: the time a load balancer (or
Kubernetes' endpoints) polling ``/readyz`` needs to stop sending it traffic, so that no caller
meets a closed port. Then uvicorn's own graceful shutdown runs: no new connections, running
requests finish within ``AMBROGIO_SHUTDOWN_TIMEOUT_SECONDS``, websockets close (1012), the
database connections close. A second SIGTERM skips what is left of the wait; SIGINT (Ctrl-C)
stops at once, as before.

Only a server's process drains: the handler goes in front of the one uvicorn installed in its
main thread. An application run some other way (the tests' in-process clients), or with 0
seconds, stops as uvicorn alone would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

log = logging.getLogger("ambrogio")


class Drain:
    """Whether this process is draining, and the SIGTERM handler that starts it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.draining = False

    @contextlib.contextmanager
    def on_sigterm(self) -> Iterator[None]:
        """While the application runs (its lifespan): SIGTERM drains before it stops."""
        previous = signal.getsignal(signal.SIGTERM)
        if (
            self.seconds <= 0
            or threading.current_thread() is not threading.main_thread()
            or not callable(previous)
        ):
            yield
            return
        stop = previous
        loop = asyncio.get_running_loop()

        def handle(sig: int, frame: FrameType | None) -> None:
            if self.draining:
                stop(sig, frame)
                return
            self.draining = True
            log.info("SIGTERM: /readyz says 503; stopping in %.1f s", self.seconds)
            loop.call_soon_threadsafe(loop.call_later, self.seconds, stop, sig, frame)

        signal.signal(signal.SIGTERM, handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)
