"""One typed settings object, read from ``AMBROGIO_*`` variables and ``DATABASE_URL``."""

from __future__ import annotations

import json
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class PersistedQueries(StrEnum):
    """Which operations run: any (``apq``, clients may register their documents by hash as
    they go), or only registered ones (``trusted``, for production front ends)."""

    APQ = "apq"
    TRUSTED = "trusted"


class Settings(BaseSettings):
    """Every value has a default that works on a fresh machine, except production secrets."""

    model_config = SettingsConfigDict(env_prefix="AMBROGIO_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    # When set, Ambrogio uses this server and starts no cluster of its own.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "AMBROGIO_DATABASE_URL")
    )
    database_name: str = "ambrogio"
    data_dir: Path = PROJECT_ROOT / ".data"
    # Installing PostgreSQL/PostGIS with apt when they are missing; 0 prints the command instead.
    apt_install: bool = True
    pg_bin_dir: Path = Path("/usr/lib/postgresql/15/bin")
    pg_max_connections: int = 400

    host: str = "127.0.0.1"
    port: int = 8000
    db_pool_size: int = 10
    db_max_overflow: int = 20

    default_page_size: int = 20
    max_page_size: int = 100
    demo_seed: int = 42

    # Signs bearer tokens. Required in production; development generates one per data folder.
    token_secret: str | None = None
    token_ttl_hours: float = 12.0

    # The territory: points outside this envelope (west, south, east, north) are kept but
    # flagged ``outsideTerritory`` for review. The default is the Province of Lecco, with margin.
    territory_bbox: tuple[float, float, float, float] = (9.0, 45.55, 9.75, 46.25)
    # The network's own territory, for what an import calls "outside the territory": province
    # codes ("LC", "BG") and region names or ISTAT codes ("Lombardia", "03"). A located place
    # whose comune is known is outside when its comune is in none of them.
    territory: tuple[str, ...] = ("LC",)

    # Bulk import: the largest upload accepted, and the rows of a file.
    import_max_bytes: int = 10 * 1024 * 1024
    import_max_rows: int = 500_000

    # An optional Nominatim-compatible geocoder for rows with an address but no coordinates,
    # e.g. http://127.0.0.1:8080/search. Without it, rows fall back to the comune or CAP centroid.
    geocoder_url: str | None = None
    geocoder_min_interval_seconds: float = 1.0
    geocoder_timeout_seconds: float = 5.0

    # Records not verified for this many months appear in the reviewers' freshness queue.
    freshness_months: int = 12

    # Needs and gaps (ambrogio.needs): a published cell holds at least ``needs_k`` needs; need
    # records are kept this many months (``ambrogio needs purge`` drops older ones); on-site
    # services reach a comune within this many metres of its centroid; free seats are counted
    # over this many coming weeks.
    needs_k: int = Field(default=5, ge=2)
    needs_retention_months: int = Field(default=24, ge=1)
    needs_onsite_radius_m: float = Field(default=5_000.0, gt=0)
    needs_capacity_weeks: int = Field(default=4, ge=1, le=26)
    # A need entered this many days after its week ended still counts; a later (back-dated)
    # one counts in no aggregate, so that published figures never change.
    needs_late_entry_days: int = Field(default=14, ge=0, le=90)

    # The transport of /graphql (ambrogio.http.transport): the largest JSON body, and how
    # deeply JSON (the body, variables, multipart operations) may nest.
    max_body_bytes: int = 1024 * 1024
    max_json_depth: int = 32

    # Vector tiles kept per server process until the catalogue changes (ambrogio.http.tile_cache).
    tile_cache_bytes: int = 64 * 1024 * 1024

    # Origins whose browser pages may call the API (CORS): "*" (any, the default: the read API
    # is public and no credentials are cookies), a comma-separated list or a JSON list; empty
    # turns CORS off.
    cors_origins: Annotated[list[str], NoDecode] = ["*"]

    # The map preview page at /map (ambrogio.http.map_preview): unset, it is served except in
    # production; true or false decides in any environment.
    map_preview: bool | None = None
    # Operations (docs/deploy.md). Waits on the database end in time: connecting, a pooled
    # connection (every one busy), a statement (PostgreSQL's statement_timeout on every
    # connection of a server), and the whole request until its response starts. Past any of
    # them the caller gets UNAVAILABLE (HTTP 503 on the REST routes), never a hung request.
    db_connect_timeout_seconds: float = 3.0
    db_pool_timeout_seconds: float = 5.0
    db_statement_timeout_ms: int = 15_000
    request_timeout_seconds: float = 20.0
    # How long a stopping server waits for the requests it is answering.
    shutdown_timeout_seconds: float = 15.0
    # After SIGTERM, how long the server answers on with /readyz at 503, before it stops
    # (ambrogio.http.draining): a load balancer's time to stop sending it requests.
    shutdown_drain_seconds: float = Field(default=5.0, ge=0)
    # The project-local cluster's commits are durable (synchronous_commit = on); "off" trades
    # the last transactions before a crash for speed, for a cluster that only takes bulk loads.
    pg_synchronous_commit: Literal["on", "off", "local", "remote_write", "remote_apply"] = "on"
    # Read replicas (PostgreSQL streaming replicas of DATABASE_URL): queries go to one,
    # mutations and a caller's reads for ``replica_sticky_seconds`` after its write to the
    # primary; a replica more than ``replica_max_lag_seconds`` behind, or unreachable, is
    # skipped until it catches up.
    database_replica_urls: Annotated[list[str], NoDecode] = []
    replica_max_lag_seconds: float = 5.0
    replica_sticky_seconds: float = 10.0
    replica_check_seconds: float = 1.0
    # Request logs: one JSON line per request ("json"), or uvicorn's plain access log ("text").
    log_format: Literal["json", "text"] = "json"
    # The HTTP server of ``ambrogio serve`` (its --server): uvicorn, or granian (HTTP in Rust,
    # the same ASGI application; what only uvicorn does is in ambrogio.cli.server).
    http_server: Literal["uvicorn", "granian"] = "uvicorn"

    # Operation limits (ambrogio.schema.limits), checked before anything runs; the cost is the
    # objects an operation may return (ambrogio.schema.cost). AMBROGIO_COST_ENFORCE=0 measures
    # and reports the cost without refusing.
    max_depth: int = 15
    max_aliases: int = 15
    max_directives: int = 50
    max_tokens: int = 2000
    max_fields: int = 500
    max_repeats: int = 5
    max_list_items: int = 250
    max_cost: int = 25_000
    cost_enforce: bool = True

    # Cost points a minute (ambrogio.auth.rate_limit): anonymous callers per client address,
    # signed-in users each; API keys have their own. 0 turns a limit off.
    rate_limit_anonymous: int = 60_000
    rate_limit_user: int = 120_000

    # Persisted operations (ambrogio.http.persisted): "apq", or "trusted" (registered documents
    # only); and how long a CDN may keep an anonymous persisted GET's answer.
    persisted_queries: PersistedQueries = PersistedQueries.APQ
    persisted_max_age_seconds: int = 60
    # Queries whose selection is plain data answered by a compiled plan, without graphql-core's
    # execution (ambrogio.schema.planned); off, every operation takes the regular path.
    compiled_plans: bool = True

    # Housekeeping (ambrogio.db.housekeeping): documents clients registered by their hash and
    # not used for this many days are purged (registered ones never), and so are the rate
    # buckets idle long enough to be full; each server process does it this often (0: never,
    # leave it to `ambrogio housekeeping`).
    persisted_retention_days: int = Field(default=30, ge=1)
    housekeeping_interval_seconds: float = Field(default=3600.0, ge=0)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("database_replica_urls", mode="before")
    @classmethod
    def _replicas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_replica_urls")
    @classmethod
    def _replicas_async(cls, value: list[str]) -> list[str]:
        urls = (asyncpg_url(item, "AMBROGIO_DATABASE_REPLICA_URLS") for item in value)
        return [url for url in urls if url]

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        return asyncpg_url(value, "DATABASE_URL")

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            if not self.token_secret:
                raise ValueError("AMBROGIO_TOKEN_SECRET must be set when AMBROGIO_ENV=production")
            if not self.database_url:
                raise ValueError("DATABASE_URL must be set when AMBROGIO_ENV=production")
        west, south, east, north = self.territory_bbox
        if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south < north <= 90):
            raise ValueError(
                "AMBROGIO_TERRITORY_BBOX must be [west, south, east, north] in degrees"
            )
        for origin in self.cors_origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(
                    f"AMBROGIO_CORS_ORIGINS: {origin!r} is not an origin such as https://example.it"
                )
        if self.max_json_depth < 4 or self.max_body_bytes < 1024:
            raise ValueError(
                "AMBROGIO_MAX_JSON_DEPTH must be at least 4 and AMBROGIO_MAX_BODY_BYTES 1024"
            )
        if not 1 <= self.default_page_size <= self.max_page_size:
            raise ValueError(
                "AMBROGIO_DEFAULT_PAGE_SIZE must be between 1 and AMBROGIO_MAX_PAGE_SIZE"
            )
        return self

    @property
    def uses_local_cluster(self) -> bool:
        return self.database_url is None

    @property
    def graphiql(self) -> bool:
        return self.env is not Environment.PRODUCTION

    @property
    def map_preview_enabled(self) -> bool:
        if self.map_preview is not None:
            return self.map_preview
        return self.env is not Environment.PRODUCTION

    @property
    def introspection(self) -> bool:
        return self.env is not Environment.PRODUCTION

    @property
    def field_suggestions(self) -> bool:
        """ "Did you mean …" in error messages: they would show the schema that introspection
        hides in production."""
        return self.env is not Environment.PRODUCTION

    @cached_property
    def signing_key(self) -> str:
        """The token signing key; in development, generated once and kept in the data folder."""
        if self.token_secret:
            return self.token_secret
        path = self.data_dir / "token-secret"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def asyncpg_url(value: str | None, name: str) -> str | None:
    """Accept the conventional ``postgresql://`` form and use asyncpg for it."""
    if value is None or value == "":
        return None
    for prefix in ("postgresql://", "postgres://"):
        if value.startswith(prefix):
            return "postgresql+asyncpg://" + value[len(prefix) :]
    if not value.startswith("postgresql+asyncpg://"):
        raise ValueError(
            f"{name} must be a PostgreSQL URL, e.g. postgresql://user@127.0.0.1:5432/ambrogio"
        )
    return value
