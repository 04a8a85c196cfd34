"""Progress of the long commands: steps and rows reported, bars on a terminal only."""

from __future__ import annotations

import argparse
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.console import Console

from ambrogio.cli.progress import bars
from ambrogio.enums import ImportFormat
from ambrogio.importing.pipeline import ImportOptions, run_import
from ambrogio.importing.validate import PROGRESS_EVERY, VALIDATING
from ambrogio.settings import Settings
from tests.support.import_db import ImportDb, import_db
from tests.support.import_files import feature, geojson


@pytest.fixture(scope="module")
async def imp(settings: Settings, template_db: str) -> AsyncIterator[ImportDb]:
    async for db in import_db(settings, f"ambrogio_progress_{os.getpid()}", template_db):
        yield db


def _draw(console: Console) -> None:
    with bars(console) as report:
        report(VALIDATING, 0, 2000)
        report(VALIDATING, 1000, 2000)
        report(VALIDATING, 2000, 2000)
        report("writing", 0, None)


def test_bars_draw_each_step_on_a_terminal() -> None:
    out = io.StringIO()
    _draw(Console(file=out, force_terminal=True, width=120))
    drawn = out.getvalue()
    assert VALIDATING in drawn
    assert "2000/2000" in drawn
    assert "writing" in drawn


def test_bars_print_nothing_off_a_terminal_or_when_told_not_to() -> None:
    piped = io.StringIO()
    _draw(Console(file=piped, force_terminal=False))
    assert piped.getvalue() == ""
    hidden = io.StringIO()
    with bars(Console(file=hidden, force_terminal=True), show=False) as report:
        report(VALIDATING, 1, 1)
    assert hidden.getvalue() == ""


async def test_an_import_reports_its_steps_and_the_rows_validated(imp: ImportDb) -> None:
    rows = PROGRESS_EVERY + 5
    data = geojson(*[feature(f"p{n}", lat=45.80 + n / 100000) for n in range(rows)])
    seen: list[tuple[str, int, int | None]] = []
    options = ImportOptions(
        source="progress",
        format=ImportFormat.GEOJSON,
        dry_run=True,
        progress=lambda step, done, total: seen.append((step, done, total)),
    )

    job = await run_import(imp.sessionmaker, imp.settings, data, options)

    assert job.rows == rows
    steps = list(dict.fromkeys(step for step, _, _ in seen))
    assert steps == [
        "reading the file",
        VALIDATING,
        "locating places",
        "writing",
        "opening hours",
        "looking for duplicates",
    ]
    validated = [(done, total) for step, done, total in seen if step == VALIDATING]
    assert validated == [(0, rows), (PROGRESS_EVERY, rows), (rows, rows)]


def test_the_import_command_piped_prints_its_summary_and_no_bars(
    imp: ImportDb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ambrogio.cli.transfer import _import

    path = tmp_path / "providers.geojson"
    path.write_bytes(geojson(feature("piped")))
    args = argparse.Namespace(
        file=str(path), source="piped", format=None, dry_run=True, skip_bad_rows=False,
        show=5, timings=False,
    )  # fmt: skip

    assert _import(imp.settings, args) == 0

    out = capsys.readouterr()
    assert "dry run" in out.out and "1 rows" in out.out
    assert out.err == ""
