"""Settings validation and where the local cluster lives."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from ambrogio.db.cluster import FALLBACK_ROOT, LocalCluster
from ambrogio.settings import Settings


def test_database_url_accepts_the_conventional_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://me@127.0.0.1:5432/catalogue")

    settings = Settings()

    assert settings.database_url == "postgresql+asyncpg://me@127.0.0.1:5432/catalogue"
    assert not settings.uses_local_cluster


def test_database_url_rejects_other_databases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///catalogue.db")

    with pytest.raises(ValidationError, match="PostgreSQL URL"):
        Settings()


def test_production_requires_the_signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMBROGIO_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://me@127.0.0.1/catalogue")
    monkeypatch.delenv("AMBROGIO_TOKEN_SECRET", raising=False)

    with pytest.raises(ValidationError, match="AMBROGIO_TOKEN_SECRET"):
        Settings()


def test_development_generates_one_signing_key_per_data_folder(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).signing_key
    again = Settings(data_dir=tmp_path).signing_key
    elsewhere = Settings(data_dir=tmp_path / "other").signing_key

    assert first == again != elsewhere
    assert stat.S_IMODE((tmp_path / "token-secret").stat().st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback only applies when running as root")
def test_cluster_moves_out_of_a_folder_postgres_cannot_reach(tmp_path: Path) -> None:
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    settings = Settings(data_dir=private / "checkout" / ".data")
    cluster = LocalCluster(settings)

    chosen = cluster._choose_dir()

    assert chosen == cluster.fallback_dir and chosen.is_relative_to(FALLBACK_ROOT)
    assert cluster.dir == chosen, "the choice is remembered in the data folder"
    other = LocalCluster(Settings(data_dir=private / "other-checkout" / ".data"))
    assert other.fallback_dir != chosen, "two checkouts never share a cluster"
    chosen.rmdir()


def test_replica_urls_take_the_conventional_form_and_refuse_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "AMBROGIO_DATABASE_REPLICA_URLS",
        "postgresql://me@replica-1:5432/ambrogio, postgres://me@replica-2/ambrogio",
    )
    assert Settings().database_replica_urls == [
        "postgresql+asyncpg://me@replica-1:5432/ambrogio",
        "postgresql+asyncpg://me@replica-2/ambrogio",
    ]
    monkeypatch.setenv("AMBROGIO_DATABASE_REPLICA_URLS", "mysql://replica/ambrogio")
    with pytest.raises(ValidationError, match="AMBROGIO_DATABASE_REPLICA_URLS"):
        Settings()


def test_the_cluster_commits_durably_unless_told_otherwise(tmp_path: Path) -> None:
    def written(**values: str) -> str:
        cluster = LocalCluster(Settings(data_dir=tmp_path, **values))  # type: ignore[arg-type]
        cluster._write_conf(tmp_path, 54321)
        conf = dict(
            (part.strip() for part in line.split("=", 1))
            for line in (tmp_path / "ambrogio.conf").read_text().splitlines()
        )
        assert conf["port"] == "54321"  # guard: the file was read
        return conf["synchronous_commit"]

    assert written() == "on"
    assert written(pg_synchronous_commit="off") == "off"
    with pytest.raises(ValidationError):
        Settings(pg_synchronous_commit="sometimes")  # type: ignore[arg-type]
