"""What the benchmark runs against: the bench database and ``ambrogio serve``.

Both belong to the benchmark alone: the database is ``ambrogio_bench*`` on the project-local
cluster (never ``ambrogio``, never a test database), and the server is started in its own
process group and stopped by its PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
# Application names that tell the server's connections from everybody else's: the server's are
# "ambrogio" or "ambrogio <request id>" (ambrogio.db.tagging).
SERVER_APP = "ambrogio"
OF_SERVER = "(application_name = $2 OR application_name LIKE $2 || ' %')"
BENCH_APP = "ambrogio-bench"
SCALE_TABLES = (
    "organization",
    "location",
    "service",
    "service_category",
    "cost_option",
    "service_at_location",
)


def guarded_name(name: str) -> str:
    if not re.fullmatch(r"ambrogio_bench[a-z0-9_]*", name):
        raise SystemExit(f"refusing database {name!r}: the bench database must be ambrogio_bench*")
    return name


class Ambrogio:
    """The ``ambrogio`` command, pointed at the bench database with a pool of ``conns``."""

    def __init__(self, database: str, conns: int) -> None:
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "AMBROGIO_DATABASE_URL")  # the local cluster only
        }
        self.env.update(
            AMBROGIO_DATABASE_NAME=guarded_name(database),
            AMBROGIO_DB_POOL_SIZE=str(conns),
            AMBROGIO_DB_MAX_OVERFLOW="0",
            AMBROGIO_APT_INSTALL="0",
            # wrk is one client address: the per-address limit would answer most of a window
            # with RATE_LIMITED (bench/limits.py measures the limits themselves).
            AMBROGIO_RATE_LIMIT_ANONYMOUS="0",
        )

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "ambrogio"), *args], env=self.env, capture_output=True, text=True, cwd=ROOT
        )
        if done.returncode != 0:
            raise SystemExit(f"ambrogio {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout.strip()


class Db:
    """The bench database, over asyncpg; every call opens and closes its own connection."""

    def __init__(self, dsn: str, name: str) -> None:
        if not dsn.endswith("/" + guarded_name(name)):
            raise SystemExit(f"unexpected database URL {dsn}")
        self.dsn = dsn
        self.name = name
        self.admin_dsn = dsn.rsplit("/", 1)[0] + "/postgres"

    def _fetch(self, sql: str, *args: Any, admin: bool = False) -> list[asyncpg.Record]:
        async def go() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(
                self.admin_dsn if admin else self.dsn,
                server_settings={"application_name": BENCH_APP},
            )
            try:
                return list(await conn.fetch(sql, *args))
            finally:
                await conn.close()

        return asyncio.run(go())

    def vacuum(self) -> None:
        self._fetch("VACUUM (ANALYZE) " + ", ".join(SCALE_TABLES))

    def summary(self) -> dict[str, Any]:
        return dict(
            self._fetch(
                "SELECT (SELECT count(*) FROM organization) AS organizations, "
                "(SELECT count(*) FROM location) AS locations, "
                "(SELECT count(*) FROM service) AS services, "
                "pg_size_pretty(pg_database_size(current_database())) AS size"
            )[0]
        )

    def versions(self) -> str:
        row = self._fetch("SELECT version() AS pg, postgis_lib_version() AS postgis")[0]
        return f"{row['pg'].split(' on ')[0]}, PostGIS {row['postgis']}"

    def server_backends(self) -> list[int]:
        rows = self._fetch(
            f"SELECT pid FROM pg_stat_activity WHERE datname = $1 AND {OF_SERVER}",
            self.name,
            SERVER_APP,
        )
        return [row["pid"] for row in rows]

    def active_queries(self) -> int:
        rows = self._fetch(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 "
            "AND state = 'active' AND application_name <> $2",
            self.name,
            BENCH_APP,
        )
        return int(rows[0]["n"])

    def cancel_server_queries(self) -> int:
        """Cancel the server's statements still running for clients that have gone."""
        rows = self._fetch(
            "SELECT pg_cancel_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 "
            f"AND {OF_SERVER} AND state = 'active'",
            self.name,
            SERVER_APP,
        )
        return sum(1 for row in rows if row["ok"])

    def drop(self) -> None:
        self._fetch(f'DROP DATABASE IF EXISTS "{guarded_name(self.name)}" WITH (FORCE)', admin=True)


class Server:
    """``ambrogio serve`` in its own process group, stopped by its PID."""

    def __init__(self, ambrogio: Ambrogio, port: int, log: Path, workers: int = 1) -> None:
        self.env = ambrogio.env
        self.workers = workers
        if workers > 1:
            # The same connections in all: each worker's pool gets its share.
            pool = int(self.env["AMBROGIO_DB_POOL_SIZE"]) // workers
            self.env = {**self.env, "AMBROGIO_DB_POOL_SIZE": str(max(1, pool))}
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", self.port)) == 0:
                raise SystemExit(f"port {self.port} is taken: stop what listens there first")
        command = [str(BIN / "ambrogio"), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(self.workers)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        for _ in range(120):
            if self.proc.poll() is not None:
                raise SystemExit(f"ambrogio serve exited; see {self.log}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/readyz", timeout=2) as r,
            ):
                if r.status == 200:
                    return
            time.sleep(0.5)
        raise SystemExit(f"ambrogio serve not ready after 60 s; see {self.log}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
