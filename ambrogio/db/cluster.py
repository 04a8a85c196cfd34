"""The project-local PostgreSQL + PostGIS cluster behind ``ambrogio db start|stop|status``.

PostgreSQL refuses to run as root, and development machines and CI often run as root: the
cluster then runs as the ``postgres`` system user through ``runuser``. That user must be able to
reach the data folder, which it never can under a mode-700 home such as ``/root``; the cluster
then lives under ``/var/lib/ambrogio/<key>/`` instead, keyed by the checkout's path so that two
checkouts on one machine never share a cluster. Each cluster picks its own free port once and
keeps it, so two clusters never collide either.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ambrogio.settings import Settings

APT_PACKAGES = ("postgresql-15", "postgresql-contrib", "postgresql-15-postgis-3")
EXTENSIONS_DIR = Path("/usr/share/postgresql/15/extension")
SYSTEM_USER = "postgres"
FALLBACK_ROOT = Path("/var/lib/ambrogio")
PORT_BASE = 54300


class ClusterError(RuntimeError):
    """The local cluster cannot be set up; the message says what to do."""


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _as_cluster_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", SYSTEM_USER, "--", *args] if _running_as_root() else args


def _run(args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=check, text=True, capture_output=True)


def ensure_postgis_installed(settings: Settings) -> None:
    """Install PostgreSQL 15 and PostGIS with apt when they are missing (and allowed)."""
    missing = (
        not (settings.pg_bin_dir / "initdb").exists()
        or not (EXTENSIONS_DIR / "postgis.control").exists()
    )
    if not missing:
        return
    command = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y " + " ".join(
        APT_PACKAGES
    )
    if not settings.apt_install:
        raise ClusterError(
            f"PostgreSQL 15 with PostGIS is not installed. Install it with:\n  sudo {command}\n"
            "(AMBROGIO_APT_INSTALL=0 stops Ambrogio from running apt itself.)"
        )
    if not _running_as_root() or shutil.which("apt-get") is None:
        raise ClusterError(f"PostgreSQL 15 with PostGIS is missing; run as root:\n  {command}")
    print(f"Installing {' '.join(APT_PACKAGES)} with apt…", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", *APT_PACKAGES], check=True, env=env)


def _postgres_can_use(folder: Path) -> bool:
    if not _running_as_root():
        return True
    probe = _run(
        _as_cluster_user(["test", "-w", str(folder), "-a", "-x", str(folder)]), check=False
    )
    return probe.returncode == 0


def _prepare_folder(folder: Path) -> bool:
    """Create ``folder`` owned by the cluster user; False when that user cannot reach it."""
    folder.mkdir(parents=True, exist_ok=True)
    if _running_as_root():
        user = pwd.getpwnam(SYSTEM_USER)
        os.chown(folder, user.pw_uid, user.pw_gid)
        folder.chmod(0o700)
    return _postgres_can_use(folder)


@dataclass(frozen=True)
class LocalCluster:
    """A PostgreSQL cluster in its own folder, on its own port and socket."""

    settings: Settings

    @property
    def preferred_dir(self) -> Path:
        return self.settings.data_dir.resolve() / "pg"

    @property
    def fallback_dir(self) -> Path:
        key = hashlib.sha1(str(self.settings.data_dir.resolve()).encode()).hexdigest()[:12]
        return FALLBACK_ROOT / key / "pg"

    @property
    def pointer_file(self) -> Path:
        """Records where the cluster lives when it had to move out of the data folder."""
        return self.settings.data_dir / "cluster-location"

    @property
    def dir(self) -> Path:
        if self.pointer_file.exists():
            return Path(self.pointer_file.read_text().strip())
        return self.preferred_dir

    @property
    def bin(self) -> Path:
        return self.settings.pg_bin_dir

    @property
    def port(self) -> int:
        conf = self.dir / "ambrogio.conf"
        for line in conf.read_text().splitlines() if conf.exists() else []:
            name, _, value = line.partition("=")
            if name.strip() == "port":
                return int(value.strip())
        raise ClusterError(f"No cluster in {self.dir}: run `ambrogio db start` first.")

    @property
    def initialized(self) -> bool:
        return (self.dir / "PG_VERSION").exists()

    def url(self, database: str | None = None) -> str:
        name = database or self.settings.database_name
        return f"postgresql+asyncpg://{SYSTEM_USER}@127.0.0.1:{self.port}/{name}"

    def _choose_dir(self) -> Path:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        if _prepare_folder(self.preferred_dir):
            self.pointer_file.unlink(missing_ok=True)
            return self.preferred_dir
        self.preferred_dir.rmdir()
        FALLBACK_ROOT.mkdir(parents=True, exist_ok=True)
        FALLBACK_ROOT.chmod(0o755)
        self.fallback_dir.parent.mkdir(parents=True, exist_ok=True)
        self.fallback_dir.parent.chmod(0o755)
        if not _prepare_folder(self.fallback_dir):
            raise ClusterError(f"User {SYSTEM_USER} cannot write to {self.fallback_dir}")
        self.pointer_file.write_text(f"{self.fallback_dir}\n")
        return self.fallback_dir

    def _free_port(self) -> int:
        key = int(hashlib.sha1(str(self.dir).encode()).hexdigest(), 16)
        for offset in range(500):
            port = PORT_BASE + (key + offset) % 500
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                if probe.connect_ex(("127.0.0.1", port)) != 0:
                    return port
        raise ClusterError("No free port for the local cluster between 54300 and 54799")

    def init(self) -> None:
        ensure_postgis_installed(self.settings)
        if self.initialized:
            return
        folder = self._choose_dir()
        initdb = [str(self.bin / "initdb"), "-D", str(folder), "-U", SYSTEM_USER]
        initdb += ["--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]
        result = _run(_as_cluster_user(initdb), check=False)
        if result.returncode != 0:
            raise ClusterError(f"initdb failed in {folder}:\n{result.stderr}")
        self._write_conf(folder, self._free_port())
        with (folder / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude = 'ambrogio.conf'\n")

    def _write_conf(self, folder: Path, port: int) -> None:
        """``ambrogio.conf``, from the settings; rewritten at each start (keeping the port)."""
        # Only loopback and our own socket folder: the cluster is private to this checkout.
        # Commits are durable unless AMBROGIO_PG_SYNCHRONOUS_COMMIT=off (bulk loads only: a
        # crash then loses the last transactions, acknowledged reservations and edits too).
        # wal_level=replica and the senders let pg_basebackup copy it and replicas follow it.
        (folder / "ambrogio.conf").write_text(
            f"port = {port}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{folder}'\n"
            f"max_connections = {self.settings.pg_max_connections}\n"
            "shared_buffers = 512MB\n"
            "work_mem = 16MB\n"
            "maintenance_work_mem = 512MB\n"
            f"synchronous_commit = {self.settings.pg_synchronous_commit}\n"
            "max_wal_size = 4GB\n"
            "wal_level = replica\n"
            "max_wal_senders = 10\n"
        )
        if _running_as_root():
            user = pwd.getpwnam(SYSTEM_USER)
            os.chown(folder / "ambrogio.conf", user.pw_uid, user.pw_gid)

    def init_replica(self, primary_port: int) -> None:
        """This cluster as a streaming replica of the local cluster on ``primary_port``: a
        ``pg_basebackup -R`` of it (``standby.signal`` and ``primary_conninfo``), on a port of
        its own. It then follows the primary, read-only, until promoted."""
        ensure_postgis_installed(self.settings)
        if self.initialized:
            return
        folder = self._choose_dir()
        # A fast checkpoint: the default spreads it over checkpoint_timeout, minutes during
        # which the copy waits on an idle primary.
        backup = [str(self.bin / "pg_basebackup"), "-D", str(folder), "-R", "-X", "stream"]
        backup += ["--checkpoint", "fast"]
        backup += ["-h", "127.0.0.1", "-p", str(primary_port), "-U", SYSTEM_USER]
        result = _run(_as_cluster_user(backup), check=False)
        if result.returncode != 0:
            raise ClusterError(f"pg_basebackup failed into {folder}:\n{result.stderr}")
        self._write_conf(folder, self._free_port())

    def running(self) -> bool:
        if not self.initialized:
            return False
        status = _run(
            _as_cluster_user([str(self.bin / "pg_ctl"), "status", "-D", str(self.dir)]), check=False
        )
        return status.returncode == 0

    def start(self) -> None:
        self.init()
        if self.running():
            return
        self._write_conf(self.dir, self.port)
        log = self.dir.parent / "postgres.log"
        if _running_as_root() and not log.exists():
            log.touch()
            user = pwd.getpwnam(SYSTEM_USER)
            os.chown(log, user.pw_uid, user.pw_gid)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise ClusterError(
                    f"Port {self.port} of the cluster in {self.dir} is taken by another process. "
                    f"Stop it, or change `port` in {self.dir / 'ambrogio.conf'}."
                )
        start = [str(self.bin / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.dir)]
        result = _run(_as_cluster_user([*start, "-l", str(log)]), check=False)
        if result.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise ClusterError(f"PostgreSQL did not start ({shlex.join(start)}):\n{tail}")

    def stop(self, mode: str = "fast") -> None:
        """Stop the cluster: ``fast`` (sessions ended, a clean shutdown) or ``immediate`` (as a
        crash: the next start replays the WAL)."""
        if self.running():
            stop = [str(self.bin / "pg_ctl"), "stop", "-m", mode, "-w", "-D", str(self.dir)]
            _run(_as_cluster_user(stop))

    def status(self) -> str:
        if not self.initialized:
            return f"no cluster (it will be created in {self.dir})"
        state = "running" if self.running() else "stopped"
        return f"{state}: {self.dir}, port {self.port}, url {self.url()}"
