"""``ambrogio housekeeping``: purge the persisted documents nobody uses and the idle rate buckets
once (``ambrogio.db.housekeeping``; each server process also does it periodically)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ambrogio.settings import Settings


def _days(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number of days, 1 or more")
    return int(raw)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.db.housekeeping import purge
    from ambrogio.db.session import create_engine

    async def run() -> str:
        engine = create_engine(settings)
        try:
            days = args.days or settings.persisted_retention_days
            purged = await purge(engine, days)
        finally:
            await engine.dispose()
        return (
            f"{purged.documents} persisted documents unused for {days} days and "
            f"{purged.buckets} idle rate buckets deleted"
        )

    print(asyncio.run(run()))
    return 0


def register(commands: Any) -> None:
    command = commands.add_parser(
        "housekeeping",
        help="delete unregistered persisted documents unused for N days and idle rate buckets",
    )
    command.add_argument(
        "--days",
        type=_days,
        help="retention of unused documents (default AMBROGIO_PERSISTED_RETENTION_DAYS, 30)",
    )
    command.set_defaults(run=_run)
