"""The Markdown report: one table per size, the peers' figures beside them."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from target import BIN


@dataclass
class Window:
    """One measured window: wrk on a workload, or ceiling.py."""

    label: str
    request: str
    answer: str
    result: dict[str, Any] | None
    cpu: dict[str, float]
    busy_before: float
    notes: list[str] = field(default_factory=list)


@dataclass
class SizeRun:
    n: int
    load_s: float
    load_output: str
    vacuum_s: float
    data: dict[str, Any]
    windows: list[Window] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    server_log: list[str] = field(default_factory=list)  # a summary of its errors


def _f(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def errors(result: dict[str, Any]) -> int:
    keys = ("errors", "non2xx", "sock_errors", "gql_errors")
    return sum(int(result.get(key, 0)) for key in keys)


def size_table(run: SizeRun) -> list[str]:
    ceiling = next((w.result for w in run.windows if w.label == "ceiling" and w.result), None)
    out = [
        "| workload | request | answers (checked) | req/s | p50 ms | p90 ms | p99 ms | errors "
        "| ÷ ceiling | CPU server % | CPU PG backends % | CPU loadgen % | CPU rest % "
        "| busy before % | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for w in run.windows:
        r = w.result
        notes = "; ".join(w.notes)
        if r is None:
            out.append(f"| {w.label} | {w.request} | {w.answer} | FAILED |||||||||||{notes} |")
            continue
        ratio = r["rps"] / ceiling["rps"] if ceiling else None
        c = w.cpu
        out.append(
            f"| {w.label} | {w.request} | {w.answer} | {r['rps']:.1f} | {_f(r['p50_ms'], 2)} "
            f"| {_f(r['p90_ms'], 2)} | {_f(r['p99_ms'], 2)} | {errors(r)} | {_f(ratio, 3)} "
            f"| {_f(c['server'])} | {_f(c['pg_backends'])} | {_f(c['loadgen'])} "
            f"| {_f(c['rest'])} | {w.busy_before:.0f} | {notes} |"
        )
    return out


def peers_table(report: Path) -> list[str]:
    """The throughput rows of the peers' report, with each path's ratio to their raw SQL."""
    out: list[str] = []
    size = ""
    raw: float | None = None
    for line in report.read_text().splitlines():
        if line.startswith("## "):
            size, raw = line[3:].strip(), None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 12 or not re.fullmatch(r"[0-9.]+", cells[2]):
            continue
        rps = float(cells[2])
        if cells[0].startswith("raw"):
            raw = rps
            out += [
                "",
                f"Peers, {size} (their single-table `provider`):",
                "",
                "| path | request | req/s | p50 ms | p99 ms | errors | ÷ their raw SQL "
                "| CPU server % | CPU postgres % | busy before % |",
                "|---|---|---|---|---|---|---|---|---|---|",
            ]
        ratio = _f(rps / raw, 3) if raw else "–"
        out.append(
            f"| {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} | {cells[5]} | {cells[6]} "
            f"| {ratio} | {cells[7]} | {cells[8]} | {cells[11]} |"
        )
    return out


def header(
    command: str, versions: str, port: int, conns: int, duration: int, warmup: int
) -> list[str]:
    def version(module: str) -> str:
        code = f"import importlib.metadata as m; print(m.version('{module}'))"
        out = subprocess.run([str(BIN / "python"), "-c", code], capture_output=True, text=True)
        return out.stdout.strip()

    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    wrk_version = (wrk.stdout + wrk.stderr).split("[")[0].strip()
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    return [
        f"# Ambrogio benchmark — {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%MZ}",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}); load generator, server and PostgreSQL share "
        "them, and so may other work on the box (see *busy before* and *CPU rest*).",
        f"Versions: {versions}; Python {platform.python_version()}, "
        f"uvicorn {version('uvicorn')}, strawberry-graphql {version('strawberry-graphql')}, "
        f"SQLAlchemy {version('sqlalchemy')}, asyncpg {version('asyncpg')}; {wrk_version}.",
        "",
        f"Server: `ambrogio serve` on 127.0.0.1:{port}, one process (uvicorn as the command "
        f"starts it: uvloop, httptools, access log on), AMBROGIO_DB_POOL_SIZE={conns}, "
        "AMBROGIO_DB_MAX_OVERFLOW=0, the project-local cluster over TCP.",
        f"Load: `wrk -t1 -c{conns} -d{duration}s --timeout 10s -s bench/wrk.lua` after a "
        f"{warmup} s warm-up; every request takes the next of the 256 fixed points of "
        "`bench/points.csv` (the peers' `queries/points.csv`), each connection from its own "
        "offset. Ceiling: `bench/ceiling.py`, the nearby statement as SQLAlchemy's asyncpg "
        f"dialect compiles it, prepared, {conns} connections, the same points and duration.",
        "",
        "*÷ ceiling*: req/s over the ceiling's req/s (for workloads other than nearby only a "
        "scale: they run other SQL). *answers*: what 8 checked requests returned, and the median "
        "time of one sent alone. *errors*: non-2xx + socket errors and timeouts + GraphQL "
        "answers holding `errors`. CPU columns, % of ONE core over the window: the server's "
        "process tree; the server's PostgreSQL backends (its pooled connections; for the ceiling "
        "rows, the ceiling's own); wrk or ceiling.py; *rest* = the rest of the machine's busy "
        "time (other PostgreSQL processes and databases, loopback networking, anything else "
        "running). *busy before*: machine busy % in the second before the window.",
    ]


def write(out: Path, head: list[str], runs: list[SizeRun], peers: list[str]) -> None:
    lines = [*head]
    for run in runs:
        d = run.data
        lines += [
            "",
            f"## {run.n:,} providers".replace(",", " "),
            "",
            f"Load: `ambrogio demo-data --scale {run.n}` {run.load_s:.1f} s wall "
            f"(it printed “{run.load_output.splitlines()[0]}”), then VACUUM ANALYZE "
            f"{run.vacuum_s:.1f} s: "
            f"{d['organizations']} organizations, {d['locations']} locations, "
            f"{d['services']} services; database {d['size']}.",
            "",
            *size_table(run),
            "",
            *[f"- {m}" for m in run.messages],
            *[f"- server log: {line}" for line in run.server_log],
        ]
    if peers:
        lines += ["", "## Peers, same session", "", *peers]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    with open(out.with_suffix(".jsonl"), "w") as f:
        for run in runs:
            for w in run.windows:
                cpu = {k: None if math.isnan(v) else v for k, v in w.cpu.items()}  # strict JSON
                record = {"rows": run.n, "label": w.label, "result": w.result, "cpu": cpu}
                busy = round(w.busy_before, 1)
                f.write(json.dumps({**record, "busy_before_pct": busy}) + "\n")
