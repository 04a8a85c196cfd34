"""uvicorn's supervisor of ``ambrogio serve --workers N``, telling prometheus_client of each
worker it retires: dead and replaced, replaced on SIGHUP, one fewer on SIGTTOU. A retired
worker's live gauges (pooled connections, subscriptions) would otherwise count on in
``/metrics``."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import multiprocess
from uvicorn.supervisors.multiprocess import Multiprocess


class Workers(Multiprocess):
    def _retiring(self, step: Callable[[], None]) -> None:
        before = {process.pid for process in self.processes}
        try:
            step()
        finally:
            for pid in before - {process.pid for process in self.processes}:
                if pid is not None:
                    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]

    def keep_subprocess_alive(self) -> None:
        self._retiring(super().keep_subprocess_alive)

    def restart_all(self) -> None:
        self._retiring(super().restart_all)

    def handle_ttou(self) -> None:
        self._retiring(super().handle_ttou)
