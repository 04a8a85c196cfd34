"""The nearby query served by 1, 2 and 4 worker processes (``ambrogio serve --workers N``).

    .venv/bin/python bench/workers.py --size 100000 --workers 1,2,4 --keep-db

Uses ``bench/run.py``'s pieces: the bench database (``ambrogio_bench``, loaded with
``ambrogio demo-data --scale N`` unless already there), the nearby workload and its check,
and its wrk window with the CPU split. Each worker count runs one window, side by side in one
run, with the same 16 database connections in all (each worker's pool gets its share) and the
same wrk (``-t1 -c16``). Writes ``bench/workers-<date>.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import ceiling
import report
from run import POINTS, Config, log, settle, sigterm_unwinds, wrk_window
from target import Ambrogio, Db, Server
from workloads import WORKLOADS, check, request_lines

HERE = Path(__file__).resolve().parent


def parse_args(argv: Sequence[str] | None) -> tuple[Config, list[int]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="providers")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--database", default="ambrogio_bench")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--out", type=Path)
    a = parser.parse_args(argv)
    cfg = Config(
        sizes=[a.size],
        database=a.database,
        port=a.port,
        conns=a.conns,
        duration=a.duration,
        warmup=a.warmup,
        keep_db=a.keep_db,
        peers_rows=None,
        peers_dir=None,
        out=a.out or HERE / f"workers-{dt.date.today():%Y-%m-%d}.md",
        only={"nearby"},
    )
    return cfg, [int(n) for n in a.workers.split(",") if n]


def table(rows: list[tuple[int, report.Window]]) -> list[str]:
    lines = [
        "| workers | req/s | p50 ms | p99 ms | errors | CPU server | CPU PostgreSQL | CPU wrk "
        "| CPU rest | busy before |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for workers, window in rows:
        r, cpu = window.result or {}, window.cpu
        if not r:
            lines.append(f"| {workers} | wrk failed | | | | | | | | |")
            continue
        lines.append(
            f"| {workers} | {r['rps']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
            f"| {report.errors(r)} | {cpu['server']:.0f} % | {cpu['pg_backends']:.0f} % "
            f"| {cpu['loadgen']:.0f} % | {cpu['rest']:.0f} % | {window.busy_before:.0f} % |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    cfg, counts = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: make bench-tools (apt-get install wrk)")
    ambrogio = Ambrogio(cfg.database, cfg.conns)
    logs = Path(tempfile.mkdtemp(prefix="ambrogio-bench-workers-"))
    nearby = next(workload for workload in WORKLOADS if workload.key == "nearby")
    db: Db | None = None
    with sigterm_unwinds():
        try:
            log(ambrogio("db", "start"))
            ambrogio("migrate")
            dsn = ambrogio("db", "url").replace("postgresql+asyncpg://", "postgresql://")
            db = Db(dsn, cfg.database)
            n = cfg.sizes[0]
            t0 = time.perf_counter()
            log(f"loading {n} providers: {ambrogio('demo-data', '--scale', str(n))}")
            db.vacuum()
            load_s = time.perf_counter() - t0
            points = ceiling.load_points(str(POINTS))
            lines = request_lines(nearby, points)
            requests = logs / "nearby.requests"
            requests.write_text("\n".join(lines) + "\n")
            rows = []
            for workers in counts:
                server = Server(ambrogio, cfg.port, logs / f"server-{workers}.log", workers)
                server.start()
                try:
                    result = check(server.url, nearby, lines, points, db.dsn)
                    if result.problems:
                        raise SystemExit(f"nearby failed its check: {result.problems}")
                    log(f"measuring nearby with {workers} workers")
                    window = wrk_window(cfg, server, db, nearby, requests, result.answer)
                    rows.append((workers, window))
                    settle(db)
                finally:
                    server.stop()
            out = [
                f"# The nearby query by worker processes, {dt.date.today():%Y-%m-%d}",
                "",
                f"`bench/workers.py {' '.join(argv if argv is not None else sys.argv[1:])}`: "
                f"{n} providers ({db.summary()}, loaded and analysed in {load_s:.0f} s), "
                f"{db.versions()}; `ambrogio serve --workers N` on 127.0.0.1:{cfg.port}, "
                f"{cfg.conns} database connections in all, `wrk -t1 -c{cfg.conns} "
                f"-d{cfg.duration}s` after a {cfg.warmup} s warm-up, one window per row, "
                "side by side. CPU is % of one core over the window (the machine has 2): the "
                "server's process tree, its PostgreSQL backends, wrk, everything else.",
                "",
                nearby.request,
                "",
                *table(rows),
                "",
            ]
            cfg.out.write_text("\n".join(out))
            log(f"wrote {cfg.out}")
        finally:
            if db is not None and not cfg.keep_db:
                db.drop()
    shutil.rmtree(logs, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
