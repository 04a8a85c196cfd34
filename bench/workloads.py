"""The measured requests, one per fixed point, and the check of their answers.

Every workload turns each point of ``points.csv`` into one request line — a GraphQL body to
POST or a path to GET — written to a file that ``wrk.lua`` cycles over. The check sends the
requests of a few points one at a time, before the load, and looks at the answers: HTTP 200,
no ``errors``, something found; and for the nearby query, the same ids in the same order as
the ceiling's statement.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ceiling

HERE = Path(__file__).resolve().parent
QUERIES = HERE / "queries"
CHECK_POINTS = 8
VIEW_PX = (1280, 800)  # the map view whose bbox mapClusters is asked for
TILE_ZOOM = 14
LECCO_TILE = "/tiles/providers/14/8619/5838.mvt"  # the peers' tile: Lecco centre


@dataclass(frozen=True)
class Workload:
    key: str
    label: str
    request: str  # for the table
    query: str | None = None  # GraphQL document under queries/; None: a tile GET
    zoom: int | None = None  # mapClusters: the zoom of the view

    @property
    def method(self) -> str:
        return "get" if self.query is None else "graphql"


WORKLOADS = (
    Workload(
        "nearby",
        "nearby providers",
        "`providers(near, radiusMeters: 2000, first: 20) "
        "{ edges { distanceMeters node { id name } } }`",
        "nearby.graphql",
    ),
    Workload(
        "text",
        "filtered text search",
        '`providers(text: "assistenza", near, radiusMeters: 5000, '
        "filter: {delivery: [AT_HOME]}, first: 20)`, same selection",
        "text.graphql",
    ),
    Workload(
        "text_services",
        "services text search near",
        '`services(text: "fisioterapia", near, radiusMeters: 3000, first: 20) '
        "{ totalCount edges { distanceMeters node { id name } } }`",
        "text_services.graphql",
    ),
    Workload(
        "text_badante",
        "providers text search",
        '`providers(text: "badante", first: 20) { edges { node { id name } } }`',
        "text_badante.graphql",
    ),
    Workload(
        "text_services_all",
        "services text search",
        '`services(text: "fisioterapia", first: 20) { edges { node { id name } } }`',
        "text_services_all.graphql",
    ),
    Workload(
        "facets",
        "facets",
        "`facets(near, radiusMeters: 3000) { total categories comuni targetGroups delivery }`",
        "facets.graphql",
    ),
    Workload(
        "clusters10",
        "mapClusters z10",
        "`mapClusters(bbox: the 1280×800 px view around the point, zoom: 10) "
        "{ cell count providerCount lat lon }`",
        "clusters.graphql",
        10,
    ),
    Workload("clusters14", "mapClusters z14", "the same at zoom 14", "clusters.graphql", 14),
    Workload(
        "tile14", "vector tile z14", "`GET /tiles/providers/14/{x}/{y}.mvt`: the point's tile"
    ),
)


def tile_xy(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    """Fractional XYZ tile column and row of a point."""
    n = 1 << zoom
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return (lon + 180) / 360 * n, y


def _row_lat(y: float, zoom: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / (1 << zoom)))))


def view_bbox(lat: float, lon: float, zoom: int) -> dict[str, float]:
    """The bbox of a VIEW_PX map of 256-px tiles centred on the point."""
    x, y = tile_xy(lat, lon, zoom)
    half_w, half_h = VIEW_PX[0] / 512, VIEW_PX[1] / 512
    n = 1 << zoom
    return {
        "west": round((x - half_w) / n * 360 - 180, 6),
        "east": round((x + half_w) / n * 360 - 180, 6),
        "north": round(_row_lat(y - half_h, zoom), 6),
        "south": round(_row_lat(y + half_h, zoom), 6),
    }


def request_lines(workload: Workload, points: Sequence[tuple[float, float]]) -> list[str]:
    """One request per point: a JSON body to POST, or a path to GET."""
    if workload.query is None:
        lines = []
        for lat, lon in points:
            x, y = tile_xy(lat, lon, TILE_ZOOM)
            lines.append(f"/tiles/providers/{TILE_ZOOM}/{int(x)}/{int(y)}.mvt")
        return lines
    document = (QUERIES / workload.query).read_text()
    bodies = []
    for lat, lon in points:
        variables: dict[str, Any] = {"lat": lat, "lon": lon}
        if workload.zoom is not None:
            variables = {"zoom": workload.zoom, **view_bbox(lat, lon, workload.zoom)}
        bodies.append(json.dumps({"query": document, "variables": variables}))
    return bodies


def http(url: str, body: str | None = None, timeout: float = 120) -> tuple[int, bytes]:
    """GET, or POST a JSON body; (status, body) also for error statuses."""
    data = body.encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def missing(url: str) -> dict[str, str]:
    """Workloads the server at ``url`` cannot serve yet: key -> why they are skipped."""
    skip = {}
    _, body = http(
        url + "/graphql", json.dumps({"query": "{ __schema { queryType { fields { name } } } }"})
    )
    fields = {f["name"] for f in json.loads(body)["data"]["__schema"]["queryType"]["fields"]}
    if "mapClusters" not in fields:
        for key in ("clusters10", "clusters14"):
            skip[key] = "`mapClusters` is not in the schema yet (`ambrogio schema`)"
    status, _ = http(url + LECCO_TILE)
    if status != 200:
        skip["tile14"] = f"`{LECCO_TILE}` answers HTTP {status}: no tiles yet"
    return skip


def _list_in(data: Any) -> list[Any] | None:
    """The first list in a GraphQL ``data`` tree (the edges, or the clusters)."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for value in data.values():
            found = _list_in(value)
            if found is not None:
                return found
    return None


def provider_uuid(global_id: str) -> uuid.UUID:
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    return uuid.UUID(raw.split(":", 1)[1])


@dataclass
class Check:
    answer: str  # what the answers held and how long one took, for the table
    problems: list[str] = field(default_factory=list)


def sample(lines: Sequence[str]) -> list[int]:
    """Indexes of the CHECK_POINTS points whose requests are checked."""
    step = max(1, len(lines) // CHECK_POINTS)
    return list(range(0, len(lines), step))[:CHECK_POINTS]


def check(
    url: str,
    workload: Workload,
    lines: Sequence[str],
    points: Sequence[tuple[float, float]],
    dsn: str,
) -> Check:
    """Send the sampled requests one at a time and look at every answer."""
    problems: list[str] = []
    sizes: list[int] = []
    seconds: list[float] = []
    nearby: dict[int, list[uuid.UUID]] = {}
    for i in sample(lines):
        started = time.perf_counter()
        if workload.query is None:
            status, body = http(url + lines[i])
        else:
            status, body = http(url + "/graphql", lines[i])
        seconds.append(time.perf_counter() - started)
        where = f"point {points[i][0]},{points[i][1]}"
        if status != 200:
            problems.append(f"HTTP {status} at {where}: {body[:300]!r}")
            continue
        if workload.query is None:
            sizes.append(len(body))
            continue
        answer = json.loads(body)
        if answer.get("errors") or "data" not in answer:
            problems.append(f"errors at {where}: {json.dumps(answer.get('errors'))[:400]}")
            continue
        items = _list_in(answer["data"]) or []
        if not items:
            problems.append(f"nothing found at {where}")
        sizes.append(len(items))
        if workload.key == "nearby":
            nearby[i] = [provider_uuid(edge["node"]["id"]) for edge in items]
    if nearby:
        problems += _against_ceiling(dsn, nearby, points)
    seconds.sort()
    if not sizes:
        summary = "no answer"
    elif workload.query is None:
        summary = f"{min(sizes) / 1e3:.0f}–{max(sizes) / 1e3:.0f} kB"
    else:
        noun = "clusters" if workload.zoom is not None else "edges"
        summary = f"{min(sizes)}–{max(sizes)} {noun}"
    summary += f", {seconds[len(seconds) // 2] * 1000:.0f} ms alone"
    return Check(summary, problems)


def _against_ceiling(
    dsn: str, got: dict[int, list[uuid.UUID]], points: Sequence[tuple[float, float]]
) -> list[str]:
    """The server's nearby ids against the ceiling statement's, on the same points."""
    where = [points[i] for i in got]
    pages = asyncio.run(ceiling.pages(dsn, where, 2000.0, 20))
    return [
        f"nearby ids differ from the ceiling statement's at {lat},{lon}"
        for (lat, lon), page, ids in zip(where, pages, got.values(), strict=True)
        if ids != [key for key, _ in page][:20]
    ]
