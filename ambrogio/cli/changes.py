"""``ambrogio changes purge``: drop the change feed's entries older than the days kept."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from ambrogio.settings import Settings


def _purge(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.catalogue import changes
    from ambrogio.db.session import create_engine, create_sessionmaker

    async def run() -> int:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                before = datetime.now(UTC) - timedelta(days=args.keep_days)
                last = (await session.execute(changes.purged_through(before))).first()
                if last is None:
                    return 0
                mark, gone = changes.purge(*last)
                await session.execute(mark)
                deleted = await session.execute(gone)
                return int(getattr(deleted, "rowcount", 0) or 0)
        finally:
            await engine.dispose()

    print(f"{asyncio.run(run())} changes older than {args.keep_days} days purged")
    return 0


def register(commands: Any) -> None:
    from ambrogio.catalogue.changes import KEEP_DAYS

    feed = commands.add_parser("changes", help="the change feed that clients sync from")
    actions = feed.add_subparsers(dest="action", required=True)
    purge = actions.add_parser("purge", help="drop the changes older than --keep-days (daily)")
    purge.add_argument("--keep-days", type=int, default=KEEP_DAYS, help=f"default {KEEP_DAYS}")
    purge.set_defaults(run=_purge)
