"""Websocket messages (``graphql-transport-ws`` on ``/graphql``) are bounded like HTTP bodies:
JSON nested deeper than ``AMBROGIO_MAX_JSON_DEPTH`` closes the connection as invalid (4400),
never a RecursionError in the log, and the server goes on serving. Over a real server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

SUBSCRIBE = "subscription($s: ID) { slotAvailabilityChanged(serviceId: $s) { remaining } }"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """One ``ambrogio serve`` on the test database, once it answers ``/readyz``; and its log."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("ws") / "serve.log"
    env = {**os.environ, "DATABASE_URL": db_url, "AMBROGIO_ENV": "test"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ambrogio.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not _ready(port):
            assert process.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.2)
        yield port, log_path
    finally:
        process.terminate()
        process.wait(timeout=10)


def subscribe(variables: str) -> str:
    return (
        '{"id": "1", "type": "subscribe", "payload": {"query": '
        + json.dumps(SUBSCRIBE)
        + ', "variables": '
        + variables
        + "}}"
    )


async def _connected(port: int) -> websockets.ClientConnection:
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/graphql",
        subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
    )
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv()) == {"type": "connection_ack"}
    return ws


async def test_a_deeply_nested_message_closes_as_invalid(server: tuple[int, Path]) -> None:
    port, log = server
    ws = await _connected(port)
    await ws.send(subscribe('{"s": ' + "[" * 5_000 + "]" * 5_000 + "}"))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await ws.recv()

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    # guard: the server still answers an ordinary subscription (a coded error for a bad id)
    ws = await _connected(port)
    await ws.send(subscribe('{"s": "not-an-id"}'))
    answer = json.loads(await ws.recv())
    await ws.close()
    errors = answer["payload"] if answer["type"] == "error" else answer["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and "RecursionError" not in text
