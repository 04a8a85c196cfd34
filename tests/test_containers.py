"""The container files, read as a container runtime would read them (none runs here): the
image is slim, runs as a non-root user and holds the package and its runtime only; compose
runs a PostGIS primary, a streaming replica made with ``pg_basebackup -R``, the migrations,
and two Ambrogio servers whose every setting is one Ambrogio has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from ambrogio.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined), as (KEYWORD, arguments)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_the_image_is_slim_non_root_and_holds_the_package_only() -> None:
    steps = instructions()
    assert len(steps) > 5  # guard: the file was read
    froms = [args for keyword, args in steps if keyword == "FROM"]
    assert froms and all("slim" in image for image in froms)
    users = [args for keyword, args in steps if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    last_user = max(i for i, (keyword, _) in enumerate(steps) if keyword == "USER")
    last_run = max(i for i, (keyword, _) in enumerate(steps) if keyword == "RUN")
    assert last_user > last_run  # the user is switched after the last build step
    copied = [shlex.split(args)[:-1] for keyword, args in steps if keyword == "COPY"]
    sources = {source for sources in copied for source in sources}
    assert sources <= {"pyproject.toml", "README.md", "alembic.ini", "ambrogio", "migrations"}
    assert all((ROOT / source).exists() for source in sources)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".data", "tests", "bench", ".git"} <= set(ignored)
    entry = dict(steps)
    assert "ambrogio" in entry["ENTRYPOINT"] and "serve" in entry["CMD"]
    assert "/readyz" in entry["HEALTHCHECK"]


def test_compose_runs_a_primary_a_replica_and_two_ambrogio_servers() -> None:
    services = compose()["services"]
    assert {"primary", "replica", "migrate"} <= set(services)
    for name in ("primary", "replica"):
        assert services[name]["image"].startswith("postgis/postgis:")
    primary = " ".join(services["primary"]["command"])
    assert "wal_level=replica" in primary and "synchronous_commit=on" in primary
    replica_script = (ROOT / "deploy" / "replica-start.sh").read_text()
    assert "pg_basebackup" in replica_script and " -R " in replica_script
    mounts = [volume.split(":")[0] for volume in services["replica"]["volumes"]]
    assert "./deploy/replica-start.sh" in mounts
    for mount in (*mounts, *(v.split(":")[0] for v in services["primary"]["volumes"])):
        if mount.startswith("./"):
            assert (ROOT / mount).exists(), mount

    servers = {name: spec for name, spec in services.items() if name.startswith("ambrogio")}
    assert len(servers) == 2
    for spec in servers.values():
        assert spec["build"] == "." and spec["command"][0] == "serve"
        assert spec["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        env = spec["environment"]
        assert make_url(env["DATABASE_URL"]).host == "primary"
        assert make_url(env["AMBROGIO_DATABASE_REPLICA_URLS"]).host == "replica"
    assert services["migrate"]["command"] == ["migrate"]


def test_every_setting_compose_gives_ambrogio_is_one_it_reads() -> None:
    known = {f"AMBROGIO_{name.upper()}" for name in Settings.model_fields} | {"DATABASE_URL"}
    given = {
        key
        for name, spec in compose()["services"].items()
        if name.startswith("ambrogio") or name == "migrate"
        for key in spec["environment"]
    }
    assert len(given) > 3  # guard
    assert given <= known, given - known
