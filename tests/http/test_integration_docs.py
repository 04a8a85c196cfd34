"""Every example in ``docs/integration.md`` (shell with curl, Python, JavaScript with Node) and
the README's tile example run against a real ``ambrogio serve`` and return data.

Each example prints what it got; a JSON line without ``errors`` and with something in it, or
for the tiles a 200 with features, is data. A JavaScript example that needs ``WebSocket`` runs
only where Node has it (22 and later); Node itself is optional.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import mapbox_vector_tile
import pytest

from ambrogio.settings import PROJECT_ROOT
from tests.support.servers import serving

DOC = PROJECT_ROOT / "docs" / "integration.md"
BLOCK = re.compile(r"```(sh|python|js)\n(.*?)```", re.S)
EXAMPLES = BLOCK.findall(DOC.read_text())
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(db_url, tmp_path_factory.mktemp("integration-docs")) as (port,):
        yield f"http://127.0.0.1:{port}"


def node_has_websocket() -> bool:
    assert NODE is not None
    probe = subprocess.run(
        [NODE, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"], check=False
    )
    return probe.returncode == 0


def command(language: str, code: str) -> list[str]:
    if language == "sh":
        return ["bash", "-c", code]
    if language == "python":
        return [sys.executable, "-c", code]
    if NODE is None:
        pytest.skip("node is not installed")
    if "WebSocket" in code and not node_has_websocket():
        pytest.skip("this Node has no WebSocket (22 and later do)")
    return [NODE, "--input-type=module", "-e", code]


def printed_data(stdout: str) -> Any:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    assert lines, stdout
    data = json.loads(lines[-1])
    return data.get("data", data)


def test_the_examples_are_all_here() -> None:
    languages = [language for language, _ in EXAMPLES]
    assert languages.count("sh") >= 3 and languages.count("python") >= 3
    assert languages.count("js") >= 2


@pytest.mark.parametrize(
    ("language", "code"), EXAMPLES, ids=[f"{n}-{lang}" for n, (lang, _) in enumerate(EXAMPLES)]
)
def test_each_example_returns_data(server: str, language: str, code: str) -> None:
    env = {**os.environ, "AMBROGIO_URL": server}

    run = subprocess.run(
        command(language, code), env=env, capture_output=True, text=True, timeout=60
    )

    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    if "/tiles/" in code:
        assert run.stdout.split() == ["200", "application/vnd.mapbox-vector-tile"]
        return
    data = printed_data(run.stdout)
    assert "errors" not in data and data and all(data.values()), data


def test_the_readmes_tile_example_shows_services_near_lecco(server: str) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    (example,) = re.findall(r"`(\?categories=[^`]*)`", readme)

    tile = httpx.get(f"{server}/tiles/services/10/538/364.mvt{example}", timeout=30)

    assert tile.status_code == 200, (example, tile.status_code)
    features = mapbox_vector_tile.decode(tile.content)["services"]["features"]
    assert features, example


def test_the_doc_is_where_the_readme_says() -> None:
    assert "docs/integration.md" in (PROJECT_ROOT / "README.md").read_text()
