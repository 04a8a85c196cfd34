"""How far long work has got, told to whoever shows it (the command line's bars) or nobody.

A ``Report`` is called with the step under way, how much of it is done and its total (None
when unknown): ``report("validating rows", 5000, 100000)``. A new step ends the one before.
It may be called from a worker thread (the import validates in one).
"""

from __future__ import annotations

from collections.abc import Callable

Report = Callable[[str, int, "int | None"], None]


def silent(step: str, done: int, total: int | None) -> None:
    """The report of work nobody watches."""
