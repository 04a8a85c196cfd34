"""``ambrogio demo-data`` and ``ambrogio refresh-hours``: the demo network and the open
intervals."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import datetime
from typing import Any

from ambrogio.cli.database import refresh_intervals
from ambrogio.settings import Settings


def _demo_data(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.cli.progress import bars
    from ambrogio.demo import load_demo, load_scale

    started = time.perf_counter()
    if args.scale is not None:
        with bars() as progress:
            count = asyncio.run(load_scale(settings, args.scale, seed=args.seed, progress=progress))
        print(f"{count} synthetic providers in {time.perf_counter() - started:.1f} s")
        print(f"Opening hours: {asyncio.run(refresh_intervals(settings))}")
    else:
        summary = asyncio.run(load_demo(settings, seed=args.seed, force=args.force))
        print(f"{summary} in {time.perf_counter() - started:.1f} s")
    return 0


def _refresh_hours(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.hours.calendar import local

    try:
        now = local(datetime.fromisoformat(args.at)) if args.at else None
    except ValueError:
        print(f"ambrogio: --at {args.at!r} is not an ISO date and time", file=sys.stderr)
        return 2
    started = time.perf_counter()
    report = asyncio.run(refresh_intervals(settings, now))
    print(f"{report} in {time.perf_counter() - started:.1f} s")
    return 0


def register(commands: Any) -> None:
    demo = commands.add_parser("demo-data", help="load the Lecco demo network")
    demo.add_argument("--scale", type=int, metavar="N", help="generate N synthetic providers")
    demo.add_argument("--seed", type=int, default=None, help="random seed (AMBROGIO_DEMO_SEED)")
    demo.add_argument("--force", action="store_true", help="reload even if already loaded")
    demo.set_defaults(run=_demo_data)

    hours = commands.add_parser(
        "refresh-hours", help="recompute the open intervals of every opening_hours (daily)"
    )
    hours.add_argument("--at", help="compute the window around this ISO time instead of now")
    hours.set_defaults(run=_refresh_hours)
