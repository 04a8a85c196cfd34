"""One request at a time against two servers on the same database, interleaved: the *alone*
time of a workload before and after a change, measured side by side.

    .venv/bin/python bench/alone.py http://127.0.0.1:8201 http://127.0.0.1:8202 \\
        --only text,text_services --rounds 2

Each of 8 of the fixed points (every 32nd of ``points.csv``) sends its request to A and to B
in turn, the order alternating, ``--rounds`` times; the median time of each side, their
ratio, and how many answers were identical are printed. Both servers must answer without
``errors``. Start them yourself (say, two checkouts on one ``ambrogio_bench`` database with
``AMBROGIO_DATABASE_NAME=ambrogio_bench ambrogio serve --port …``) and stop them after.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence

import ceiling
from workloads import HERE, WORKLOADS, http, request_lines

POINT_STEP = 32


def _timed(url: str, body: str) -> tuple[float, object]:
    started = time.perf_counter()
    status, answer = http(url + "/graphql", body)
    elapsed = (time.perf_counter() - started) * 1000
    parsed = json.loads(answer)
    if status != 200 or parsed.get("errors"):
        raise SystemExit(f"{url} answered HTTP {status}: {answer[:300]!r}")
    return elapsed, parsed["data"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--only", required=True, help="workload keys, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    points = ceiling.load_points(str(HERE / "points.csv"))[::POINT_STEP]
    for workload in WORKLOADS:
        if workload.key not in args.only.split(",") or workload.query is None:
            continue
        times: dict[str, list[float]] = {args.a: [], args.b: []}
        identical = 0
        lines = request_lines(workload, points)
        for round_ in range(args.rounds):
            for i, line in enumerate(lines):
                order = (args.a, args.b) if (i + round_) % 2 == 0 else (args.b, args.a)
                answers = {}
                for url in order:
                    elapsed, answers[url] = _timed(url, line)
                    times[url].append(elapsed)
                identical += answers[args.a] == answers[args.b]
        a, b = (statistics.median(times[url]) for url in (args.a, args.b))
        print(
            f"{workload.key:18} A {a:9.1f} ms  B {b:9.1f} ms  A/B {a / b:6.1f}  "
            f"identical answers {identical}/{len(lines) * args.rounds}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
