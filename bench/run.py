"""Ambrogio under load: nearby, text search, map clusters and vector tiles, against a ceiling.

For each size N (default 100 000 and 1 000 000 providers), in a database of its own on the
project-local cluster (``ambrogio_bench``; never ``ambrogio``, never a test database):
``ambrogio demo-data --scale N`` and VACUUM ANALYZE; ``ambrogio serve`` on 127.0.0.1:8100
with a pool of 16 connections; the requests of 8 points checked one by one (HTTP 200, no
``errors``, the nearby ids equal to the ceiling's); then ``wrk -t1 -c16 -d20s`` after a 3 s
warm-up on each workload, every request taking the next of the 256 fixed points of
``points.csv``; and the ceiling, ``ceiling.py``: the nearby query's own SQL as an asyncpg
prepared statement on 16 connections. Then the peers' harness (their ``run.sh --rows 100000``,
in the folder passed with ``--peers-dir`` or ``$AMBROGIO_BENCH_PEERS_DIR``: raw SQL,
PostGraphile, tipg on their own single-table data) in the same session.

Writes ``results-<date>.md`` and ``.jsonl`` here (the peers' report beside them, as
``peers-<date>.md``). Stops what it started and drops the bench database at the end, unless
``--keep-db``.

    .venv/bin/python bench/run.py --peers-dir PEERS_DIR
    .venv/bin/python bench/run.py --sizes 100000 --no-peers --keep-db --only nearby
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ceiling
import procstat
import report
from report import SizeRun, Window
from target import BIN, Ambrogio, Db, Server
from workloads import WORKLOADS, Workload, check, missing, request_lines

HERE = Path(__file__).resolve().parent
POINTS = HERE / "points.csv"
PEERS_DIR_ENV = "AMBROGIO_BENCH_PEERS_DIR"
QUIET_PCT = 15.0  # machine busy % (of one core) under which a window may start
SETTLE_S = 180  # longest wait for a quiet machine before a window
CANCEL_AFTER_S = 15  # statements still running this long after their clients left: cancelled


@dataclass(frozen=True)
class Config:
    sizes: list[int]
    database: str
    port: int
    conns: int
    duration: int
    warmup: int
    keep_db: bool
    peers_rows: str | None
    peers_dir: Path | None
    out: Path
    only: set[str] | None


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def settle(db: Db) -> tuple[float, int]:
    """Wait for no statement of ours in flight and a quiet machine; (busy %, cancelled).

    After a window whose requests outlived wrk's timeout the server is still running them
    for clients that have gone: past CANCEL_AFTER_S they are cancelled, so that they do not
    spill into the next window."""
    started, cancelled, busy = time.monotonic(), 0, 100.0
    while time.monotonic() - started < SETTLE_S:
        if db.active_queries():
            if time.monotonic() - started > CANCEL_AFTER_S:
                cancelled += db.cancel_server_queries()
            time.sleep(1)
            continue
        busy = procstat.busy_pct()
        if busy < QUIET_PCT:
            return busy, cancelled
    log(f"machine still busy ({busy:.0f}%) or statements in flight; measuring anyway")
    return busy, cancelled


def _cpu(wall: float, machine: float, **parts: float) -> dict[str, float]:
    pct = {name: 100 * seconds / wall for name, seconds in parts.items()}
    pct["rest"] = 100 * machine / wall - sum(pct.values())
    return {name: round(value, 1) for name, value in pct.items()}


def _json_line(stdout: str, tag: str) -> dict[str, Any] | None:
    for line in stdout.splitlines():
        if line.startswith(tag + " "):
            result: dict[str, Any] = json.loads(line.split(" ", 1)[1])
            return result
    return None


def wrk_window(
    cfg: Config, server: Server, db: Db, workload: Workload, requests: Path, answer: str
) -> Window:
    url = server.url + ("/graphql" if workload.query else "")
    env = {**os.environ, "MODE": workload.method, "REQUESTS": str(requests)}
    wrk = ["wrk", "-t1", f"-c{cfg.conns}", "--timeout", "10s", "-s", str(HERE / "wrk.lua")]
    subprocess.run([*wrk, f"-d{cfg.warmup}s", url], env=env, capture_output=True, check=False)
    busy, cancelled = settle(db)
    backends = db.server_backends()
    before = (procstat.machine_s(), procstat.tree_s(server.pid), procstat.pids_s(backends))
    loadgen = procstat.children_s()
    t0 = time.perf_counter()
    done = subprocess.run(
        [*wrk, f"-d{cfg.duration}s", url], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t0
    after = (procstat.machine_s(), procstat.tree_s(server.pid), procstat.pids_s(backends))
    loadgen = procstat.children_s() - loadgen
    result = _json_line(done.stdout, "WRKJSON")
    if result is None:
        log(f"wrk failed: {done.stdout}{done.stderr}")
    machine, server_s, backends_s = (b - a for a, b in zip(before, after, strict=True))
    cpu = _cpu(wall, machine, server=server_s, pg_backends=backends_s, loadgen=loadgen)
    window = Window(workload.label, workload.request, answer, result, cpu, busy)
    if cancelled:
        window.notes.append(f"{cancelled} statements of the warm-up cancelled before")
    if len(backends) != cfg.conns:
        window.notes.append(f"{len(backends)} server connections")
    if result and result.get("timeouts"):
        window.notes.append(f"{result['timeouts']} requests timed out (10 s)")
    return window


def ceiling_window(cfg: Config, db: Db, fetch: bool) -> Window:
    command = [str(BIN / "python"), str(HERE / "ceiling.py"), "--dsn", db.dsn]
    command += ["--points", str(POINTS), "--conns", str(cfg.conns)]
    command += ["--fetch"] if fetch else []
    subprocess.run([*command, "--duration", str(cfg.warmup)], capture_output=True, check=True)
    busy, _ = settle(db)
    done = subprocess.run(
        [*command, "--duration", str(cfg.duration)], capture_output=True, text=True, check=False
    )
    result = _json_line(done.stdout, "CEILINGJSON")
    cpu = {name: float("nan") for name in ("server", "pg_backends", "loadgen", "rest")}
    if result is None:
        log(f"ceiling.py failed: {done.stdout}{done.stderr}")
    else:  # ceiling.py measures its own window
        cpu.update(pg_backends=result["backends_cpu_pct"], loadgen=result["client_cpu_pct"])
        cpu["rest"] = round(result["machine_busy_pct"] - cpu["pg_backends"] - cpu["loadgen"], 1)
    if fetch:
        label = "ceiling + fetch"
        request = "the same, then `SELECT organization.* … WHERE id IN (…)` (the former read)"
    else:
        label = "ceiling"
        request = "the SQL of `geo.nearby.nearby_providers_query`, prepared, over asyncpg"
    window = Window(label, request, "see the nearby check", result, cpu, busy)
    if result and result.get("widened"):
        window.notes.append(f"candidates widened {result['widened']}×")
    return window


def run_size(cfg: Config, ambrogio: Ambrogio, db: Db, n: int, logs: Path) -> SizeRun:
    log(f"loading {n} providers: ambrogio demo-data --scale {n}")
    t0 = time.perf_counter()
    output = ambrogio("demo-data", "--scale", str(n))
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    db.vacuum()
    run = SizeRun(n, load_s, output, time.perf_counter() - t0, db.summary())
    log(f"loaded in {load_s:.1f} s ({output}); VACUUM ANALYZE {run.vacuum_s:.1f} s; {run.data}")

    points = ceiling.load_points(str(POINTS))
    server = Server(ambrogio, cfg.port, logs / f"server-{n}.log")
    server.start()
    try:
        skip = missing(server.url)
        planned: list[tuple[Workload, Path, str]] = []
        for workload in WORKLOADS:
            if cfg.only and workload.key not in cfg.only:
                continue
            if workload.key in skip:
                run.messages.append(f"SKIPPED {workload.label}: {skip[workload.key]}")
                log(run.messages[-1])
                continue
            lines = request_lines(workload, points)
            requests = logs / f"{workload.key}.requests"
            requests.write_text("\n".join(lines) + "\n")
            log(f"checking {workload.label}")
            result = check(server.url, workload, lines, points, db.dsn)
            for problem in result.problems:
                run.messages.append(f"CHECK {workload.label}: {problem}")
                log(run.messages[-1])
            if result.problems:
                run.messages.append(f"SKIPPED {workload.label}: its answers failed the check")
                continue
            if workload.key == "nearby":
                run.messages.append(
                    "CHECK nearby: on 8 points, the server's ids and their order equal the "
                    "ceiling statement's"
                )
            planned.append((workload, requests, result.answer))
        if not cfg.only or "nearby" in cfg.only:
            for fetch in (False, True):
                log(f"measuring the ceiling{' + fetch' if fetch else ''}")
                run.windows.append(ceiling_window(cfg, db, fetch))
        for workload, requests, answer in planned:
            log(f"measuring {workload.label}")
            run.windows.append(wrk_window(cfg, server, db, workload, requests, answer))
        _, cancelled = settle(db)
        if cancelled:
            run.messages.append(f"{cancelled} abandoned statements cancelled after the last window")
    finally:
        server.stop()
    run.server_log = log_summary(server.log.read_text(errors="replace"))
    return run


def log_summary(text: str) -> list[str]:
    """How many tracebacks the server logged, and their most frequent last lines."""
    tracebacks = text.count("Traceback (most recent call last)")
    errors = len(re.findall(r"\bERROR\b", text))
    if not tracebacks and not errors:
        return ["no ERROR line, no traceback"]
    # The last line of a traceback names the exception; digits vary (ids, pids, timings).
    last = re.findall(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Exit)\b.*)$", text, re.M)
    counts: dict[str, int] = {}
    for line in last:
        key = re.sub(r"\d+", "N", line)[:160]
        counts[key] = counts.get(key, 0) + 1
    top = sorted(counts.items(), key=lambda item: -item[1])[:5]
    return [
        f"{errors} ERROR lines, {tracebacks} tracebacks",
        *[f"{n}× `{line}`" for line, n in top],
    ]


def run_peers(cfg: Config) -> list[str]:
    assert cfg.peers_rows is not None and cfg.peers_dir is not None
    out = cfg.out.with_name(cfg.out.name.replace("results", "peers", 1))
    args = ["--rows", cfg.peers_rows, "--out", str(out), "--duration", str(cfg.duration)]
    args += ["--conns", str(cfg.conns), "--warmup", str(cfg.warmup), "--destroy-db"]
    # The report names the script, not where this machine keeps it.
    shown = " ".join(["run.sh", *args]).replace(f"{HERE.parent}/", "")
    log(f"peers: {cfg.peers_dir / 'run.sh'} {' '.join(args)}")
    t0 = time.perf_counter()
    done = subprocess.run(["bash", str(cfg.peers_dir / "run.sh"), *args], check=False)
    took = time.perf_counter() - t0
    if not out.exists():
        return [f"The peers' run failed (exit {done.returncode}) after {took:.0f} s."]
    status = "" if done.returncode == 0 else f", exit {done.returncode}"
    return [
        f"The peers' `{shown}` (from `--peers-dir`): {took:.0f} s{status}; their full report: "
        f"`{out.name}`.",
        *report.peers_table(out),
    ]


def parse_args(argv: Sequence[str] | None) -> Config:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        description=doc.split("\n\n")[0],
        epilog=doc.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="100000,1000000", help="providers, comma-separated")
    parser.add_argument("--database", default="ambrogio_bench", help="must be ambrogio_bench*")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--conns", type=int, default=16, help="wrk and pool connections")
    parser.add_argument("--duration", type=int, default=20, help="seconds per window")
    parser.add_argument("--warmup", type=int, default=3, help="seconds before each window")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the bench database")
    parser.add_argument("--peers-rows", default="100000", help="--rows of the peers' run.sh")
    parser.add_argument("--no-peers", action="store_true", help="skip the peers' run")
    parser.add_argument(
        "--peers-dir",
        type=Path,
        default=os.environ.get(PEERS_DIR_ENV) or None,
        help=f"the peers' folder, holding their run.sh (default: ${PEERS_DIR_ENV})",
    )
    keys = ",".join(w.key for w in WORKLOADS)
    parser.add_argument("--only", help=f"some of {keys} (the ceiling runs with nearby)")
    parser.add_argument("--out", type=Path, help="default: bench/results-<date>.md")
    a = parser.parse_args(argv)
    peers_dir = Path(a.peers_dir) if a.peers_dir else None
    if not a.no_peers:
        if peers_dir is None:
            parser.error(
                f"the peers' run needs their folder: pass --peers-dir DIR (or set "
                f"{PEERS_DIR_ENV}), or --no-peers to skip it"
            )
        if not (peers_dir / "run.sh").is_file():
            parser.error(f"--peers-dir {peers_dir}: no run.sh there")
    return Config(
        sizes=[int(s) for s in a.sizes.split(",") if s],
        database=a.database,
        port=a.port,
        conns=a.conns,
        duration=a.duration,
        warmup=a.warmup,
        keep_db=a.keep_db,
        peers_rows=None if a.no_peers else a.peers_rows,
        peers_dir=peers_dir,
        out=a.out or HERE / f"results-{dt.date.today():%Y-%m-%d}.md",
        only=set(a.only.split(",")) if a.only else None,
    )


@contextlib.contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so that the server is stopped and the database dropped."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    ambrogio = Ambrogio(cfg.database, cfg.conns)
    logs = Path(tempfile.mkdtemp(prefix="ambrogio-bench-"))
    db: Db | None = None
    ok = False
    started = time.perf_counter()
    with sigterm_unwinds():
        try:
            log(ambrogio("db", "start"))
            ambrogio("migrate")
            dsn = ambrogio("db", "url").replace("postgresql+asyncpg://", "postgresql://")
            db = Db(dsn, cfg.database)
            command = " ".join(["bench/run.py", *(argv if argv is not None else sys.argv[1:])])
            head = report.header(
                command, db.versions(), cfg.port, cfg.conns, cfg.duration, cfg.warmup
            )
            runs: list[SizeRun] = []
            for n in cfg.sizes:
                runs.append(run_size(cfg, ambrogio, db, n, logs))
                report.write(cfg.out, head, runs, [])
            if cfg.peers_rows:
                report.write(cfg.out, head, runs, run_peers(cfg))
            log(f"wrote {cfg.out} in {time.perf_counter() - started:.0f} s")
            ok = True
        finally:
            if db is not None and not cfg.keep_db:
                log(f"dropping database {cfg.database}")
                db.drop()
            if ok:
                shutil.rmtree(logs, ignore_errors=True)
            else:
                log(f"logs kept in {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
