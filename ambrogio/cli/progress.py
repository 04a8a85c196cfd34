"""Progress bars of the long commands (``import``, ``demo-data --scale``, ``export``), drawn
with rich on standard error, and only on a terminal: piped or redirected, a command prints
what it printed before and nothing else.

Each step of a ``Report`` is a line: a spinner while its total is unknown, else a bar with
done/total, the rate, the time spent and the time left. A new step ends the one before.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from ambrogio.progress import Report


class _Rate(ProgressColumn):
    """Items per second, while there is a total to count against."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if task.total is None or not speed:
            return Text("")
        return Text(f"{speed:,.0f}/s", style="progress.data.speed")


@contextmanager
def bars(console: Console | None = None, *, show: bool = True) -> Iterator[Report]:
    """A ``Report`` that draws its steps while the block runs: nothing off a terminal, nor
    when not ``show`` (the command writes its output on the same terminal)."""
    console = console or Console(stderr=True)
    progress = Progress(
        SpinnerColumn(finished_text="✓"),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("left"),
        console=console,
        disable=not (show and console.is_terminal),
    )
    lock = threading.Lock()
    steps: dict[str, TaskID] = {}
    # The step under way and how much of it is done.
    current: list[tuple[TaskID, int]] = []

    def finish() -> None:
        if current:
            task, done = current.pop()
            progress.update(task, completed=max(done, 1), total=max(done, 1))

    def report(step: str, done: int, total: int | None) -> None:
        with lock:
            task = steps.get(step)
            if task is None:
                finish()
                task = steps[step] = progress.add_task(step, total=total)
            current[:] = [(task, done)]
            progress.update(task, completed=done, total=total)

    with progress:
        try:
            yield report
        finally:
            with lock:
                finish()
