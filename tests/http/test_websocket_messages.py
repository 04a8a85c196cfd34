"""Websocket messages (``graphql-transport-ws`` on ``/graphql``) are bounded like HTTP bodies:
JSON nested deeper than ``AMBROGIO_MAX_JSON_DEPTH`` closes the connection as invalid (4400),
never a RecursionError in the log, and the server goes on serving. Over a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from tests.support.servers import serving

SUBSCRIBE = "subscription($s: ID) { slotAvailabilityChanged(serviceId: $s) { remaining } }"


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """One ``ambrogio serve`` on the test database, once it answers ``/readyz``; and its log."""
    logs = tmp_path_factory.mktemp("ws")
    with serving(db_url, logs) as (port,):
        yield port, logs / f"serve-{port}.log"


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
