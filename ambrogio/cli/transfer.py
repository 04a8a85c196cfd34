"""``ambrogio import`` and ``ambrogio export``: files in, the published catalogue out."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from ambrogio.settings import Settings


def _import(settings: Settings, args: argparse.Namespace) -> int:
    """Import a file as the command-line operator: published at once, like a reviewer's."""
    import getpass
    from pathlib import Path

    from ambrogio.cli.progress import bars
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

    async def run(options: ImportOptions) -> Any:
        engine = create_engine(settings)
        try:
            return await run_import(create_sessionmaker(engine), settings, data, options)
        finally:
            await engine.dispose()

    started = time.perf_counter()
    try:
        with bars() as progress:
            job = asyncio.run(
                run(
                    ImportOptions(
                        source=args.source,
                        format=fmt,
                        filename=path.name,
                        dry_run=args.dry_run,
                        skip_bad_rows=args.skip_bad_rows,
                        actor=f"cli:{getpass.getuser()}",
                        progress=progress,
                    )
                )
            )
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


def export_catalogue(settings: Settings, args: argparse.Namespace) -> int:
    import os
    from pathlib import Path
    from typing import BinaryIO

    from ambrogio.cli.progress import bars
    from ambrogio.db.session import create_engine, create_sessionmaker
    from ambrogio.export import ExportFormat, chunks

    async def run(out: BinaryIO) -> None:
        engine = create_engine(settings)
        written = 0
        try:
            # Not over the data itself when it goes to the terminal.
            with bars(show=not out.isatty()) as progress:
                async for chunk in chunks(create_sessionmaker(engine), ExportFormat(args.format)):
                    out.write(chunk)
                    written += len(chunk)
                    progress("writing (bytes)", written, None)
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


def register(commands: Any) -> None:
    export = commands.add_parser(
        "export", help="write the published catalogue as HSDS 3.0 JSON or GeoJSON"
    )
    export.add_argument("--format", choices=["hsds", "geojson"], default="hsds")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(run=export_catalogue)

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
