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
