"""Two servers on the same database under the same load, window after window: the req/s of a
workload before and after a change, measured side by side.

    .venv/bin/python bench/pair.py http://127.0.0.1:8211 http://127.0.0.1:8212 \\
        --only text,text_services --duration 10 --rounds 2

For each workload, ``wrk`` (16 connections, ``wrk.lua`` over the 256 points) loads A, then B,
then B, then A, … (``--rounds`` pairs, the order alternating), each window after a warm-up;
it prints each side's req/s and p99 (the median over its windows), their ratio, and the
answers that timed out (10 s) or held ``errors``. ``alone.py`` says how to start the two
servers; start them with ``AMBROGIO_RATE_LIMIT_ANONYMOUS=0`` (wrk is one client address).
``--pids A_PID,B_PID`` (the servers' processes; a ``--workers`` supervisor counts its workers)
adds each side's server CPU per request, user + system time over the window's requests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ceiling
import procstat
from run import _json_line
from workloads import HERE, WORKLOADS, request_lines


def _window(url: str, requests: Path, seconds: int, conns: int) -> dict[str, Any]:
    env = {**os.environ, "MODE": "graphql", "REQUESTS": str(requests)}
    wrk = ["wrk", "-t1", f"-c{conns}", "--timeout", "10s", "-s", str(HERE / "wrk.lua")]
    done = subprocess.run(
        [*wrk, f"-d{seconds}s", url + "/graphql"], env=env, capture_output=True, text=True
    )
    result = _json_line(done.stdout, "WRKJSON")
    if result is None:
        raise SystemExit(f"wrk failed against {url}: {done.stdout}{done.stderr}")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--only", required=True, help="workload keys, comma-separated")
    parser.add_argument("--duration", type=int, default=10, help="seconds per window")
    parser.add_argument("--warmup", type=int, default=3, help="seconds before each window")
    parser.add_argument("--rounds", type=int, default=1, help="pairs of windows per workload")
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument(
        "--pids",
        help="A_PID,B_PID: the servers' processes, for their CPU ms per request (with workers)",
    )
    args = parser.parse_args(argv)
    pids = (
        dict(zip((args.a, args.b), map(int, args.pids.split(",")), strict=True))
        if args.pids
        else {}
    )
    points = ceiling.load_points(str(HERE / "points.csv"))
    for workload in WORKLOADS:
        if workload.key not in args.only.split(",") or workload.query is None:
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as requests:
            requests.write("\n".join(request_lines(workload, points)) + "\n")
            requests.flush()
            path = Path(requests.name)
            runs: dict[str, list[dict[str, Any]]] = {args.a: [], args.b: []}
            for round_ in range(args.rounds):
                order = (args.a, args.b) if round_ % 2 == 0 else (args.b, args.a)
                for url in order:
                    _window(url, path, args.warmup, args.conns)
                    before = procstat.tree_s(pids[url]) if pids else 0.0
                    run = _window(url, path, args.duration, args.conns)
                    if pids and run["requests"]:
                        run["cpu_ms"] = (
                            (procstat.tree_s(pids[url]) - before) / run["requests"] * 1e3
                        )
                    runs[url].append(run)
        rps = {url: statistics.median(r["rps"] for r in runs[url]) for url in runs}
        p99 = {url: statistics.median(r["p99_ms"] for r in runs[url]) for url in runs}
        bad = {
            url: sum(r["timeouts"] + r["gql_errors"] + r["non2xx"] for r in runs[url])
            for url in runs
        }
        ratio = rps[args.b] / rps[args.a] if rps[args.a] else float("inf")
        print(
            f"{workload.key:<18} A {rps[args.a]:7.1f} req/s p99 {p99[args.a]:7.0f} ms  "
            f"B {rps[args.b]:7.1f} req/s p99 {p99[args.b]:7.0f} ms  B/A {ratio:5.1f}  "
            f"timeouts+errors A {bad[args.a]} B {bad[args.b]}"
        )
        if pids:
            cpu = {url: statistics.median(r.get("cpu_ms", 0.0) for r in runs[url]) for url in runs}
            print(f"{'':<18} server CPU ms/request A {cpu[args.a]:.2f} B {cpu[args.b]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
