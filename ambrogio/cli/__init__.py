"""The ``ambrogio`` command: local database, migrations, demo data, imports and exports,
server, schema, accounts."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ambrogio.cli import accounts
from ambrogio.settings import Settings


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.db.cluster import LocalCluster
    from ambrogio.db.session import database_url, ensure_database

    if not settings.uses_local_cluster:
        if args.action in {"start", "stop"}:
            print(f"DATABASE_URL is set: using that server, nothing to {args.action}.")
        if args.action == "start":
            asyncio.run(ensure_database(settings))
        if args.action in {"status", "url"}:
            print(database_url(settings))
        return 0
    cluster = LocalCluster(settings)
    if args.action == "start":
        cluster.start()
        asyncio.run(ensure_database(settings))
        print(cluster.status())
    elif args.action == "stop":
        cluster.stop()
        print(cluster.status())
    elif args.action == "status":
        print(cluster.status())
        return 0 if cluster.running() else 3
    elif args.action == "url":
        print(cluster.url())
    return 0


async def _load_reference(settings: Settings) -> None:
    from ambrogio.db.session import create_engine, create_sessionmaker
    from ambrogio.reference import load_reference

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            await load_reference(session)
            await session.commit()
    finally:
        await engine.dispose()


async def _refresh(settings: Settings, now: datetime | None = None) -> str:
    from ambrogio.db.session import create_engine, create_sessionmaker
    from ambrogio.hours.intervals import refresh_open_intervals

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return str(await refresh_open_intervals(session, now))
    finally:
        await engine.dispose()


def _refresh_hours(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.hours.calendar import local

    try:
        now = local(datetime.fromisoformat(args.at)) if args.at else None
    except ValueError:
        print(f"ambrogio: --at {args.at!r} is not an ISO date and time", file=sys.stderr)
        return 2
    started = time.perf_counter()
    report = asyncio.run(_refresh(settings, now))
    print(f"{report} in {time.perf_counter() - started:.1f} s")
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.db import migrate
    from ambrogio.db.session import database_url

    if args.downgrade:
        migrate.downgrade(database_url(settings), args.revision or "-1")
        return 0
    revision = args.revision or "head"
    migrate.upgrade(database_url(settings), revision)
    # Reference data follows the newest schema only: an older revision may lack its columns.
    if revision == "head":
        asyncio.run(_load_reference(settings))
        print("Reference data (comuni, taxonomy) is up to date.")
        print(f"Opening hours: {asyncio.run(_refresh(settings))}")
    return 0


def _demo_data(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.demo import load_demo, load_scale

    started = time.perf_counter()
    if args.scale is not None:
        count = asyncio.run(load_scale(settings, args.scale, seed=args.seed))
        print(f"{count} synthetic providers in {time.perf_counter() - started:.1f} s")
        print(f"Opening hours: {asyncio.run(_refresh(settings))}")
    else:
        summary = asyncio.run(load_demo(settings, seed=args.seed, force=args.force))
        print(f"{summary} in {time.perf_counter() - started:.1f} s")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from ambrogio.app import build_app

    uvicorn.run(
        build_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level="info",
        proxy_headers=False,
    )
    return 0


def _schema(settings: Settings, args: argparse.Namespace) -> int:
    from ambrogio.schema.build import schema_sdl

    sys.stdout.write(schema_sdl())
    return 0


def _slots(settings: Settings, args: argparse.Namespace) -> int:
    import uuid
    from datetime import date, datetime

    from ambrogio.availability.publishing import checked_range, publish_slots, recurring_ranges
    from ambrogio.db.session import create_engine, create_sessionmaker
    from ambrogio.errors import AmbrogioError

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
                    location = uuid.UUID(args.location) if args.location else None
                    return await publish_slots(
                        session, uuid.UUID(args.service), ranges, args.capacity, location
                    )
            finally:
                await engine.dispose()

        created = asyncio.run(run())
    except (AmbrogioError, ValueError) as error:
        print(f"ambrogio: {error}", file=sys.stderr)
        return 2
    print(f"{created} new slots of {len(ranges)}")
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    import os
    from pathlib import Path
    from typing import BinaryIO

    from ambrogio.db.session import create_engine, create_sessionmaker
    from ambrogio.export import ExportFormat, chunks

    async def run(out: BinaryIO) -> None:
        engine = create_engine(settings)
        try:
            async for chunk in chunks(create_sessionmaker(engine), ExportFormat(args.format)):
                out.write(chunk)
        finally:
            await engine.dispose()

    if args.output in (None, "-"):
        try:
            asyncio.run(run(sys.stdout.buffer))
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            # The reader stopped early (``| head``); keep Python from complaining at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        return 0
    # Written aside and renamed: a failed export never leaves half a file under the name.
    target = Path(args.output)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("wb") as out:
            asyncio.run(run(out))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    print(f"{target}: {target.stat().st_size} bytes", file=sys.stderr)
    return 0


def _import(settings: Settings, args: argparse.Namespace) -> int:
    """Import a file as the command-line operator: published at once, like a reviewer's."""
    import getpass
    from pathlib import Path

    from ambrogio.db.session import create_engine, create_sessionmaker
    from ambrogio.enums import ImportFormat
    from ambrogio.errors import AmbrogioError
    from ambrogio.importing.pipeline import ImportOptions, format_of, run_import

    if args.timings:
        import logging

        logging.basicConfig(format="%(message)s")
        logging.getLogger("ambrogio.importing").setLevel(logging.INFO)
    path = Path(args.file)
    fmt = ImportFormat(args.format) if args.format else format_of(path.name)
    if fmt is None:
        print(f"ambrogio: cannot tell the format of {path.name}: give --format", file=sys.stderr)
        return 2
    try:
        data = path.read_bytes()
    except OSError as error:
        print(f"ambrogio: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 2
    options = ImportOptions(
        source=args.source,
        format=fmt,
        filename=path.name,
        dry_run=args.dry_run,
        skip_bad_rows=args.skip_bad_rows,
        actor=f"cli:{getpass.getuser()}",
    )

    async def run() -> Any:
        engine = create_engine(settings)
        try:
            return await run_import(create_sessionmaker(engine), settings, data, options)
        finally:
            await engine.dispose()

    started = time.perf_counter()
    try:
        job = asyncio.run(run())
    except AmbrogioError as error:
        print(f"ambrogio: {error.message}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    what = "dry run" if job.dry_run else "import"
    print(
        f"{what} {job.id} {job.status}: {job.rows} rows, {job.created} created, "
        f"{job.updated} updated, {job.unchanged} unchanged, {job.skipped} skipped, "
        f"{len(job.errors)} errors, {len(job.warnings)} warnings, "
        f"{job.duplicates_flagged} likely duplicates flagged in {seconds:.1f} s"
    )
    for kind, issues in (("error", job.errors), ("warning", job.warnings)):
        for issue in issues[: args.show]:
            row, field, value = issue["row"], issue["field"], issue["value"]
            print(f"  {kind} row {row} {field}: {value!r} {issue['reason']}")
        if len(issues) > args.show:
            print(f"  … and {len(issues) - args.show} more {kind}s")
    if job.failure:
        print(f"ambrogio: {job.failure}", file=sys.stderr)
    return 0 if job.status == "succeeded" else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ambrogio", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="the project-local PostGIS cluster")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.set_defaults(run=_db)

    migrate = commands.add_parser("migrate", help="apply the alembic migrations")
    migrate.add_argument("revision", nargs="?", help="target revision (default: head, or -1)")
    migrate.add_argument("--downgrade", action="store_true", help="go down instead of up")
    migrate.set_defaults(run=_migrate)

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

    serve = commands.add_parser("serve", help="serve GraphQL on HTTP")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=_serve)

    slots = commands.add_parser("slots", help="publish bookable slots of a service")
    slots.add_argument("service", help="the service's uuid")
    slots.add_argument(
        "--rule", help="recurring hours in opening_hours syntax, e.g. 'Mo-Fr 09:00-12:00'"
    )
    slots.add_argument("--from", dest="first", help="first local day of the rule (default today)")
    slots.add_argument("--days", type=int, default=28, help="days the rule covers (default 28)")
    slots.add_argument("--minutes", type=int, default=60, help="slot length (default 60)")
    slots.add_argument("--start", help="one slot: start (ISO 8601 with offset)")
    slots.add_argument("--end", help="one slot: end (ISO 8601 with offset)")
    slots.add_argument("--capacity", type=int, default=1, help="seats per slot (default 1)")
    slots.add_argument("--location", help="the location's uuid, when the service has several")
    slots.set_defaults(run=_slots)

    export = commands.add_parser(
        "export", help="write the published catalogue as HSDS 3.0 JSON or GeoJSON"
    )
    export.add_argument("--format", choices=["hsds", "geojson"], default="hsds")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(run=_export)

    imports = commands.add_parser(
        "import", help="import providers from a GeoJSON, CSV or Open Referral HSDS file"
    )
    imports.add_argument("file", help="the file to import")
    imports.add_argument("--source", required=True, help="the source's name: records match on it")
    imports.add_argument(
        "--format",
        choices=["geojson", "csv", "hsds_json", "hsds_csv"],
        help="default: from the file name (.geojson/.json, .csv, .zip)",
    )
    imports.add_argument("--dry-run", action="store_true", help="report, write nothing")
    imports.add_argument(
        "--skip-bad-rows", action="store_true", help="import the good rows, report the bad ones"
    )
    imports.add_argument("--show", type=int, default=20, help="errors shown (default 20)")
    imports.add_argument("--timings", action="store_true", help="print each phase's seconds")
    imports.set_defaults(run=_import)

    schema = commands.add_parser("schema", help="print the GraphQL SDL")
    schema.set_defaults(run=_schema)

    accounts.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    if getattr(args, "seed", None) is None and hasattr(args, "seed"):
        args.seed = settings.demo_seed
    from ambrogio.db.cluster import ClusterError

    try:
        result: int = args.run(settings, args)
    except ClusterError as error:
        print(f"ambrogio: {error}", file=sys.stderr)
        return 2
    return result
