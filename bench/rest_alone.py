"""The REST routes one request at a time against two servers, interleaved: what a change costs
each route, measured side by side (say, the rate limit of the REST routes off and on).

    .venv/bin/python bench/rest_alone.py http://127.0.0.1:8201 http://127.0.0.1:8202 \\
        --rounds 200

Each path of ``PATHS`` (or ``--paths``) goes to A and to B in turn, the order alternating,
``--rounds`` times, after one warm-up request each (the tile cache fills); the median time of
each side and their ratio are printed, with the status codes seen. Start the servers yourself
and stop them after.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

from workloads import http

PATHS = (
    "/tiles/providers/14/8619/5838.mvt",
    "/tiles/providers.json",
    "/hsds/services?per_page=20",
    "/hsds/taxonomies?per_page=5",
)


def _timed(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    status, _ = http(url)
    return (time.perf_counter() - started) * 1000, status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--paths", help="comma-separated paths (default: a tile, TileJSON, HSDS)")
    args = parser.parse_args(argv)
    paths = args.paths.split(",") if args.paths else PATHS
    print("| path | A ms | B ms | B / A | statuses |\n|---|---|---|---|---|")
    for path in paths:
        times: dict[str, list[float]] = {args.a: [], args.b: []}
        statuses: set[int] = set()
        for url in (args.a, args.b):
            _timed(url + path)
        for round_ in range(args.rounds):
            order = (args.a, args.b) if round_ % 2 == 0 else (args.b, args.a)
            for url in order:
                elapsed, status = _timed(url + path)
                times[url].append(elapsed)
                statuses.add(status)
        a, b = (statistics.median(times[url]) for url in (args.a, args.b))
        print(f"| `{path}` | {a:.2f} | {b:.2f} | {b / a:.2f} | {sorted(statuses)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
