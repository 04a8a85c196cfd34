"""Running the alembic migrations from code (``ambrogio migrate``, tests)."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from geoalchemy2 import alembic_helpers

from ambrogio.settings import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Which database objects alembic compares with the models."""
    # PostGIS's own table is not ours.
    if type_ == "table" and name == "spatial_ref_sys":
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))  # type: ignore[no-untyped-call]
