"""The import benchmark: ``ambrogio import`` of N providers from GeoJSON into a fresh database.

    DATABASE_URL=postgresql://postgres@127.0.0.1:54342/ambrogio \\
        .venv/bin/python bench/import_bench.py --providers 100000

It generates a deterministic GeoJSON file (``--seed``): providers around the Lecco comuni
(gaussian offsets from their centroids, as the demo data), each with one location, full
provider fields (name, kind, partita IVA, address, CAP, comune, phone, e-mail, website, opening
hours) and 1–3 services of the taxonomy with prices; one provider in ten has no coordinates
and is placed at its comune's centroid. Then, in a database of its own (``ambrogio_imp_bench``,
dropped and created; the one named by ``DATABASE_URL`` is never written), it times the
command line three times — the first import, a re-import of the same file (every provider
unchanged), and a dry run — and writes the figures to ``bench/import-results.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "ambrogio_imp_bench"
HOURS = (
    "Mo-Fr 08:30-12:30,14:00-18:00; Sa 09:00-12:00; PH off",
    "Mo-Fr 09:00-13:00,14:00-17:00; PH off",
    "Mo-Fr 07:30-18:00; PH off",
    "Tu,Th 15:00-19:00",
    "24/7",
)
PREFIXES = (
    ("Cooperativa Sociale", "social_cooperative"),
    ("Associazione", "association"),
    ("Studio", "business"),
    ("Centro", "business"),
    ("Fondazione", "third_sector"),
)
STREETS = ("Via Roma", "Via Garibaldi", "Via Manzoni", "Piazza XX Settembre", "Corso Matteotti")


def _partita_iva(n: int) -> str:
    """A valid partita IVA (Luhn check digit) from a number."""
    body = f"{n % 10_000_000:07d}097"
    total = 0
    for index, digit in enumerate(int(ch) for ch in body):
        if index % 2:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return body + str((10 - total % 10) % 10)


def generate(n: int, seed: int = 42) -> bytes:
    """A GeoJSON FeatureCollection of ``n`` providers, the same for the same seed."""
    from ambrogio.demo.archetypes import COOP_NAMES, SURNAMES
    from ambrogio.demo.territory import places
    from ambrogio.taxonomy import LEAVES

    rng = random.Random(seed)
    towns = places()
    weights = [town.population for town in towns]
    leaves = [leaf for leaf in LEAVES if leaf.profile is not None]
    features: list[dict[str, Any]] = []
    for index in range(1, n + 1):
        town = rng.choices(towns, weights)[0]
        prefix, kind = PREFIXES[index % len(PREFIXES)]
        services = []
        for k, leaf in enumerate(rng.sample(leaves, rng.choice((1, 1, 2, 2, 3)))):
            profile = leaf.profile
            assert profile is not None
            price = round(rng.uniform(profile.price_min, profile.price_max), 2)
            services.append(
                {
                    "service_id": f"s{k + 1}",
                    "name": profile.service_names[0],
                    "category": leaf.slug,
                    "price_eur": 0 if profile.unit.value == "free" else price,
                    "price_unit": profile.unit.value,
                    "welfare_eligible": leaf.tuir.value != "none",
                    "tuir_category": leaf.tuir.value,
                    "delivery": [mode.value for mode in profile.delivery],
                    "target_groups": [group.value for group in profile.target_groups],
                    "min_age": profile.min_age,
                    "max_age": profile.max_age,
                    "languages": ["it"] if rng.random() < 0.9 else ["it", "en"],
                }
            )
        geometry = None
        if rng.random() >= 0.1:
            spread = 1.5 * math.sqrt(-2 * math.log(1 - rng.random()))
            angle = rng.uniform(0, 2 * math.pi)
            lat = town.lat + spread * math.sin(angle) / 110.574
            lon = town.lon + spread * math.cos(angle) / (111.320 * math.cos(math.radians(town.lat)))
            geometry = {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "external_id": f"prov-{index:07d}",
                    "name": f"{prefix} {rng.choice(COOP_NAMES)} {rng.choice(SURNAMES)}",
                    "kind": kind,
                    "tax_code": _partita_iva(index),
                    "address": f"{STREETS[index % len(STREETS)]} {1 + index % 150}",
                    "cap": town.cap,
                    "comune_istat": town.istat_code,
                    "phone": f"+39 0341 {100000 + index % 900000}",
                    "email": f"info{index}@example.org",
                    "website": f"https://www.provider{index}.example.org",
                    "opening_hours": HOURS[index % len(HOURS)],
                    "services": services,
                },
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _timed_import(env: dict[str, str], path: Path, *extra: str) -> tuple[float, str]:
    command = [sys.executable, "-m", "ambrogio.cli", "import", str(path), "--source", "bench",
               "--timings", *extra]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"import failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    phases = "; ".join(
        line.split(": ", 1)[1] for line in done.stderr.splitlines() if line.startswith("import ")
    )
    return seconds, f"{done.stdout.strip().splitlines()[0].split(': ', 1)[1]} ({phases})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--providers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "import-results.md")
    args = parser.parse_args()

    from ambrogio.db.session import database_url, drop_database
    from ambrogio.settings import Settings

    settings = Settings()
    url = database_url(settings, DATABASE)
    env = {**os.environ, "DATABASE_URL": url.replace("postgresql+asyncpg://", "postgresql://")}
    asyncio.run(drop_database(settings, DATABASE))
    for step in (["db", "start"], ["migrate"]):
        subprocess.run([sys.executable, "-m", "ambrogio.cli", *step], cwd=ROOT, env=env,
                       check=True, capture_output=True)  # fmt: skip

    started = time.perf_counter()
    data = generate(args.providers, args.seed)
    generated = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"providers-{args.providers}.geojson"
        path.write_bytes(data)
        runs = [
            ("first import", *_timed_import(env, path)),
            ("re-import (same file)", *_timed_import(env, path)),
            ("dry run (same file)", *_timed_import(env, path, "--dry-run")),
        ]
    lines = [
        "# Import benchmark",
        "",
        "```sh",
        "DATABASE_URL=postgresql://postgres@127.0.0.1:54342/ambrogio \\",
        f"    .venv/bin/python bench/import_bench.py --providers {args.providers} "
        f"--seed {args.seed}",
        "```",
        "",
        f"{args.providers:,} providers in one GeoJSON file of {len(data) / 2**20:.1f} MiB "
        f"(generated in {generated:.1f} s), each with one location and 1–3 services; 10% "
        "without coordinates (comune centroid). Each line is one `ambrogio import` process "
        "(start-up, read, parse, validate, locate, COPY, merge, open intervals, duplicates, "
        f"commit) on {platform.machine()} with {os.cpu_count()} cores, PostgreSQL on the same "
        "machine.",
        "",
        "| run | seconds | providers/s | report (phases) |",
        "| --- | ---: | ---: | --- |",
        *(
            f"| {name} | {seconds:.1f} | {args.providers / seconds:,.0f} | {summary} |"
            for name, seconds, summary in runs
        ),
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    asyncio.run(drop_database(settings, DATABASE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
