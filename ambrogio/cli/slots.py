"""``ambrogio slots``: publish bookable slots of a service."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from typing import Any

from ambrogio.settings import Settings


def _slots(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import date

    from ambrogio.availability.publishing import checked_range, publish_slots, recurring_ranges
    from ambrogio.db.session import create_engine, create_sessionmaker
    from ambrogio.errors import AmbrogioError
    from ambrogio.ids import record_key

    try:
        if args.rule:
            first = date.fromisoformat(args.first) if args.first else date.today()
            ranges = recurring_ranges(args.rule, first, args.days, args.minutes)
        else:
            if not (args.start and args.end):
                print("ambrogio: give --rule, or --start and --end", file=sys.stderr)
                return 2
            ranges = [
                checked_range(datetime.fromisoformat(args.start), datetime.fromisoformat(args.end))
            ]

        async def run() -> int:
            engine = create_engine(settings)
            try:
                async with create_sessionmaker(engine)() as session, session.begin():
                    location = (
                        record_key(args.location, "Location", "--location")
                        if args.location
                        else None
                    )
                    service = record_key(args.service, "Service", "service")
                    return await publish_slots(session, service, ranges, args.capacity, location)
            finally:
                await engine.dispose()

        created = asyncio.run(run())
    except (AmbrogioError, ValueError) as error:
        print(f"ambrogio: {error}", file=sys.stderr)
        return 2
    print(f"{created} new slots of {len(ranges)}")
    return 0


def register(commands: Any) -> None:
    slots = commands.add_parser("slots", help="publish bookable slots of a service")
    slots.add_argument("service", help="the service: its id from the API, or its uuid")
    slots.add_argument(
        "--rule", help="recurring hours in opening_hours syntax, e.g. 'Mo-Fr 09:00-12:00'"
    )
    slots.add_argument("--from", dest="first", help="first local day of the rule (default today)")
    slots.add_argument("--days", type=int, default=28, help="days the rule covers (default 28)")
    slots.add_argument("--minutes", type=int, default=60, help="slot length (default 60)")
    slots.add_argument("--start", help="one slot: start (ISO 8601 with offset)")
    slots.add_argument("--end", help="one slot: end (ISO 8601 with offset)")
    slots.add_argument("--capacity", type=int, default=1, help="seats per slot (default 1)")
    slots.add_argument(
        "--location", help="the location (id from the API, or uuid) when the service has several"
    )
    slots.set_defaults(run=_slots)
