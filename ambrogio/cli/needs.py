"""``ambrogio needs import|purge|delete``: need records from a CSV file, the retention purge
(daily), and a record deleted on request. The command line acts as an admin: audit events
name it ``cli``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ambrogio.settings import Settings

ACTOR = "cli"


def _run(settings: Settings, work: Callable[[Any], Awaitable[str]]) -> int:
    """Run ``work(session)`` in one transaction; print its summary, or the error (exit 2)."""
    from ambrogio.db.session import create_engine, create_sessionmaker
    from ambrogio.errors import AmbrogioError, UnreadableFile

    async def run() -> str:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    try:
        print(asyncio.run(run()))
    except (AmbrogioError, UnreadableFile, ValueError) as error:
        print(f"ambrogio: {getattr(error, 'message', error)}", file=sys.stderr)
        return 2
    return 0


def _import(settings: Settings, args: argparse.Namespace) -> int:
    import uuid
    from datetime import UTC, datetime

    from ambrogio.auth.needs import RecordScope
    from ambrogio.needs import analysis, records, writing
    from ambrogio.needs.csv import read_needs

    data = Path(args.file).read_bytes()

    async def work(session: Any) -> str:
        today = analysis.today_in_rome(datetime.now(UTC))
        earliest = records.retention_start(today, settings.needs_retention_months)
        known = await analysis.known_values(session)
        read = read_needs(data, known, today, earliest)
        if read.errors:
            lines = [f"row {e.row}, {e.field} {e.value!r}: {e.reason}" for e in read.errors]
            raise ValueError("nothing imported:\n" + "\n".join(lines))
        point = await writing.checked_point(
            session, RecordScope(None), uuid.UUID(args.welfare_point), "--welfare-point"
        )
        if args.dry_run:
            return f"{len(read.rows)} needs would be imported (dry run)"
        created, updated = await writing.import_rows(session, point, read.rows, ACTOR, None)
        return f"{created} needs created, {updated} updated"

    return _run(settings, work)


def _purge(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ambrogio.needs import analysis, records, writing

    months = args.months or settings.needs_retention_months

    async def work(session: Any) -> str:
        before = records.retention_start(analysis.today_in_rome(datetime.now(UTC)), months)
        gone = await writing.purge(session, before)
        return f"{gone} needs recorded before {before} purged"

    return _run(settings, work)


def _delete(settings: Settings, args: argparse.Namespace) -> int:
    import uuid

    from ambrogio import ids
    from ambrogio.auth.needs import RecordScope
    from ambrogio.needs import writing

    async def work(session: Any) -> str:
        try:
            key = uuid.UUID(args.id)
        except ValueError:
            key = ids.decode(args.id, "Need", "id")
        await writing.remove(session, RecordScope(None), key, ACTOR, None)
        return f"need {key} deleted"

    return _run(settings, work)


def register(commands: Any) -> None:
    needs = commands.add_parser("needs", help="need records of the welfare points")
    actions = needs.add_subparsers(dest="action", required=True)
    load = actions.add_parser("import", help="import a CSV file of needs (all or nothing)")
    load.add_argument("file", help="CSV: category, comune, urgency, recorded_on, outcome, …")
    load.add_argument("--welfare-point", required=True, help="the welfare point's uuid")
    load.add_argument("--dry-run", action="store_true", help="check the file, write nothing")
    load.set_defaults(run=_import)
    purge = actions.add_parser("purge", help="drop the needs past their retention (daily)")
    purge.add_argument(
        "--months", type=int, help="keep this many months (default AMBROGIO_NEEDS_RETENTION_MONTHS)"
    )
    purge.set_defaults(run=_purge)
    delete = actions.add_parser("delete", help="delete one need record on request")
    delete.add_argument("id", help="the record's id (uuid or Need global id)")
    delete.set_defaults(run=_delete)
