"""``ambrogio serve --workers 2``: one port, metrics added up over the workers, and a SIGTERM
that lets running requests finish and closes subscriptions with a close frame."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from tests.support.servers import free_port, ready

QUERY = "query Counted { providers(first: 1) { totalCount } }"
SUBSCRIBE = (
    "subscription { catalogueChanged(near: {lat: 45.85, lon: 9.39}, radiusMeters: 5000) { id } }"
)


def requests_of(text: str, operation: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "ambrogio_requests_total" and sample.labels["operation"] == operation
    )


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


async def test_two_workers_share_the_port_the_metrics_and_stop_gracefully(
    db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "AMBROGIO_ENV": "test"}
    env["AMBROGIO_SHUTDOWN_DRAIN_SECONDS"] = "0"
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    (tmp_path / "metrics").mkdir()
    log = (tmp_path / "serve.log").open("wb")
    command = [sys.executable, "-m", "ambrogio.cli", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: ASYNC220
    try:
        deadline = time.monotonic() + 60
        while not (ready(port) and len(children(server.pid)) >= 2):
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "not ready"
            await asyncio.sleep(0.3)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=20) as http:
            # New connections each: the kernel spreads them over both workers' accept().
            for _ in range(20):
                async with httpx.AsyncClient(timeout=20) as one:
                    assert (
                        await one.post(f"{url}/graphql", json={"query": QUERY})
                    ).status_code == 200
            assert requests_of((await http.get(f"{url}/metrics")).text, "Counted") == 20

            ws = await websockets.connect(
                f"ws://127.0.0.1:{port}/graphql",
                subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
            )
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            payload = {"query": SUBSCRIBE}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            await asyncio.sleep(0.5)

            async with http.stream("GET", f"{url}/export/hsds.json") as export:
                assert export.status_code == 200
                server.send_signal(signal.SIGTERM)
                body = b"".join([chunk async for chunk in export.aiter_bytes()])
            # the export under way when the server was told to stop finished whole
            assert json.loads(body)
        messages = []
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                messages.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=30)))
        assert messages == []  # the subscription was running, no error, until the close
        assert closed.value.rcvd is not None  # a close frame, not a dropped connection
        assert await asyncio.to_thread(server.wait, 30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in text


def workers(pid: int) -> list[int]:
    """The server's worker processes (multiprocessing's resource tracker is a child too)."""

    def spawned(child: int) -> bool:
        try:
            return b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            return False

    return [child for child in children(pid) if spawned(child)]


async def until(check: Callable[[], bool], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.2)


async def test_the_workers_metrics_folder_goes_with_them_and_a_dead_worker_stops_counting(
    db_url: str, tmp_path: Path
) -> None:
    # given two workers whose metrics folder serve makes (in TMPDIR)
    port = free_port()
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "DATABASE_URL": db_url, "AMBROGIO_ENV": "test"}
    env["TMPDIR"] = str(tmp_path / "tmp")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env["AMBROGIO_SHUTDOWN_DRAIN_SECONDS"] = "0"
    log = (tmp_path / "serve.log").open("wb")
    command = [sys.executable, "-m", "ambrogio.cli", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: ASYNC220
    try:
        await until(lambda: ready(port) and len(workers(server.pid)) == 2, "not ready")
        (folder,) = (tmp_path / "tmp").glob("ambrogio-metrics-*")
        victim, survivor = workers(server.pid)

        # a worker's live gauge (the pool it samples every second) is in the folder ...
        def live(pid: int) -> bool:
            return any(folder.glob(f"gauge_live*_{pid}.db"))

        await until(lambda: live(victim) and live(survivor), "no live gauges")
        # when it dies, uvicorn replaces it, and its live gauges are dropped
        os.kill(victim, signal.SIGKILL)
        await until(
            lambda: victim not in workers(server.pid) and len(workers(server.pid)) == 2,
            "not replaced",
        )
        await until(lambda: not live(victim), "the dead worker still counts")
        assert live(survivor)
        # when the server stops, the folder goes
        server.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(server.wait, 30) == 0
        assert not folder.exists()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()


def readiness(port: int) -> int:
    return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code


async def test_sigterm_says_not_ready_at_once_and_keeps_answering_for_the_drain(
    db_url: str, tmp_path: Path
) -> None:
    # given a server that drains for a while before it stops
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "AMBROGIO_ENV": "test"}
    env["AMBROGIO_SHUTDOWN_DRAIN_SECONDS"] = "10"
    log = (tmp_path / "serve.log").open("wb")
    command = [sys.executable, "-m", "ambrogio.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: ASYNC220
    url = f"http://127.0.0.1:{port}"
    try:
        await until(lambda: ready(port), "not ready")
        async with httpx.AsyncClient(timeout=20) as http:
            async with http.stream("GET", f"{url}/export/hsds.json") as export:
                assert export.status_code == 200
                # when it is told to stop, with a response under way
                server.send_signal(signal.SIGTERM)
                # then /readyz says so ...
                await until(lambda: readiness(port) == 503, "still ready", within=10)
                body = b"".join([chunk async for chunk in export.aiter_bytes()])
            assert json.loads(body), "the response under way finished whole"
            # ... while new connections and requests are still answered
            async with httpx.AsyncClient(timeout=20) as fresh:
                answer = await fresh.post(f"{url}/graphql", json={"query": QUERY})
                assert answer.status_code == 200
                assert answer.json()["data"]["providers"]["totalCount"] > 0
                assert (await fresh.get(f"{url}/healthz")).status_code == 200
        # and then it stops by itself (uvicorn's graceful shutdown)
        await asyncio.to_thread(server.wait, 60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in text
    assert "stopping in 10.0 s" in text


NEARBY = """query Nearby($near: LatLonInput!) {
  providers(near: $near, radiusMeters: 5000, first: 20) {
    edges { distanceMeters node { id name } }
  }
}"""


async def test_granian_serves_the_same_answers_headers_limits_and_log_lines(
    db_url: str, tmp_path: Path
) -> None:
    # given the same application served by uvicorn and by granian (two workers)
    env = {**os.environ, "DATABASE_URL": db_url, "AMBROGIO_ENV": "test"}
    env["AMBROGIO_SHUTDOWN_DRAIN_SECONDS"] = "0"
    env["AMBROGIO_RATE_LIMIT_ANONYMOUS"] = "0"
    env["AMBROGIO_MAX_BODY_BYTES"] = "4096"
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    ports = {"uvicorn": free_port(), "granian": free_port()}
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ports}
    servers = {
        name: subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "ambrogio.cli", "serve", "--port", str(port), "--server", name]
            + (["--workers", "2"] if name == "granian" else []),
            env=env,
            stdout=logs[name],
            stderr=subprocess.STDOUT,
        )
        for name, port in ports.items()
    }
    try:
        await until(lambda: all(ready(port) for port in ports.values()), "not ready", within=90)
        answers = {}
        request = {"query": NEARBY, "variables": {"near": {"lat": 45.8566, "lon": 9.3977}}}
        async with httpx.AsyncClient(timeout=20) as http:
            for name, port in ports.items():
                url = f"http://127.0.0.1:{port}"
                # when each answers the nearby page (a compiled plan), compressed or not
                plain = await http.post(f"{url}/graphql", json=request)
                packed = await http.post(
                    f"{url}/graphql", json=request, headers={"Accept-Encoding": "gzip"}
                )
                too_large = await http.post(
                    f"{url}/graphql",
                    content=b'{"query": "' + b"x" * 5000 + b'"}',
                    headers={"content-type": "application/json"},
                )
                tile = await http.get(f"{url}/tiles/providers/14/8619/5838.mvt")
                assert plain.status_code == packed.status_code == 200
                assert plain.headers["x-request-id"] and plain.headers["content-type"] == (
                    "application/json"
                )
                assert packed.headers["content-encoding"] == "gzip"
                assert packed.json()["data"] == plain.json()["data"]
                assert too_large.status_code == 413
                assert too_large.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
                assert tile.status_code == 200 and tile.content
                answers[name] = (plain.json()["data"], tile.content)
        # then the answers are the same, byte for byte in the tile
        edges = answers["uvicorn"][0]["providers"]["edges"]
        assert len(edges) > 1  # guard: a page worth comparing
        assert answers["granian"] == answers["uvicorn"]
        # and granian stops on SIGTERM with every worker
        servers["granian"].send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(servers["granian"].wait, 30) == 0
    finally:
        for server in servers.values():
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=30)
        for log in logs.values():
            log.close()
    text = (tmp_path / "granian.log").read_text()
    assert "Traceback" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "ambrogio.access"]
    assert [line["operation"] for line in requests if line["path"] == "/graphql"][:2] == [
        "Nearby",
        "Nearby",
    ]
    assert len({line["pid"] for line in lines if line["logger"] == "ambrogio.notifications"}) == 2
