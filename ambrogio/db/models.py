"""SQLAlchemy models of the catalogue, aligned with Open Referral HSDS where it fits.

Geometry or geography? Points are stored once, as ``geometry(Point, 4326)``, with two GiST
indexes: one on the geometry (bounding boxes, vector tiles and clusters work in planar
coordinates and want it) and one on the expression ``geom::geography`` (metre radii and
distances on the WGS84 ellipsoid want it). Storing geography alone would make every tile and
bbox query cast back; storing both columns would let them drift apart.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REAL, TSTZRANGE, TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from ambrogio.enums import (
    Delivery,
    GeocodePrecision,
    PriceUnit,
    ProviderKind,
    Status,
    TargetGroup,
    TuirCategory,
    WelfarePointKind,
)
from ambrogio.needs.vocabulary import AgeBand, Employment, Household, Outcome, Urgency

SRID = 4326
# The territory's metric plane (UTM zone 32N) and the locations it holds: lon 3°..15°, lat
# 36°..56° (ambrogio/geo/planar.py says why).
PLANAR_SRID = 32632
PLANAR_REGION = (3.0, 36.0, 15.0, 56.0)
PLANAR_POINT = (
    "CASE WHEN ST_X(geom) BETWEEN {0} AND {2} AND ST_Y(geom) BETWEEN {1} AND {3} "
    "THEN ST_Transform(geom, {4}) END"
).format(*PLANAR_REGION, PLANAR_SRID)

# Text search: Italian stemming over unaccented text. ``ambrogio_unaccent`` is an IMMUTABLE
# wrapper of ``unaccent`` (migration 0002), which generated columns and indexes require.
SEARCH_CONFIG = "italian"


def _search_document(*weighted: tuple[str, str]) -> str:
    parts = [
        f"setweight(to_tsvector('{SEARCH_CONFIG}', ambrogio_unaccent(coalesce({column}, ''))), "
        f"'{weight}')"
        for column, weight in weighted
    ]
    return " || ".join(parts)


def _trigram_index(table: str) -> Index:
    normalized = func.ambrogio_unaccent(func.lower(literal_column("name"))).label("name_norm")
    return Index(
        f"ix_{table}_name_trgm",
        normalized,
        postgresql_using="gin",
        postgresql_ops={"name_norm": "gin_trgm_ops"},
    )


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, enum: type[StrEnum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


def _all_of(column: str, enum: type[StrEnum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} <@ ARRAY[{values}]::text[]"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012


class Provenance:
    """Where a record came from, when it changed, who verified it, and whether it is public."""

    __tablename__: str

    source: Mapped[str] = mapped_column(Text, default="ambrogio", server_default="ambrogio")
    external_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(Text)
    # Optimistic concurrency: an edit names the version it read and fails if it moved on.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    status: Mapped[str] = mapped_column(
        Text, default=Status.DRAFT.value, server_default=Status.DRAFT.value
    )

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            UniqueConstraint(
                "source", "external_id", name=f"uq_{cls.__tablename__}_source_external_id"
            ),
            CheckConstraint(_one_of("status", Status), name="status"),
            *cls.__extra_table_args__(),
        )

    @classmethod
    def __extra_table_args__(cls) -> tuple[Any, ...]:
        return ()


def _point() -> Any:
    return mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=True)


def _point_indexes(table: str) -> tuple[Index, Index]:
    return (
        Index(f"ix_{table}_geom", "geom", postgresql_using="gist"),
        Index(
            f"ix_{table}_geog",
            text("(geom::geography)"),
            postgresql_using="gist",
        ),
    )


class Comune(Base):
    """An Italian municipality, keyed by its 6-digit ISTAT code (reference data, not edited)."""

    __tablename__ = "comune"

    istat_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    province_code: Mapped[str] = mapped_column(String(2))
    cadastral_code: Mapped[str] = mapped_column(String(4))
    caps: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    centroid: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=False), nullable=True
    )
    # Where the centroid came from, or why there is none (never an invented coordinate).
    centroid_source: Mapped[str | None] = mapped_column(Text)
    centroid_missing_reason: Mapped[str | None] = mapped_column(Text)
    # Deferred: a comune is read for its name and centroid far more often than for its shape.
    boundary: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=True, deferred=True
    )
    boundary_source: Mapped[str | None] = mapped_column(Text)
    province_name: Mapped[str | None] = mapped_column(Text)
    # The region's two-digit ISTAT code ("03" Lombardia) and its name.
    region_code: Mapped[str | None] = mapped_column(String(2))
    region_name: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __table_args__ = (
        CheckConstraint("istat_code ~ '^[0-9]{6}$'", name="istat_code"),
        CheckConstraint(
            "(centroid IS NULL) = (centroid_missing_reason IS NOT NULL)", name="centroid_reason"
        ),
        Index("ix_comune_centroid", "centroid", postgresql_using="gist"),
        Index("ix_comune_boundary", "boundary", postgresql_using="gist"),
        Index("ix_comune_province_code", "province_code"),
        Index("ix_comune_region_code", "region_code"),
    )


class TaxonomyTerm(Provenance, Base):
    """A category of the welfare taxonomy (a tree), or an external term kept from an import."""

    __tablename__ = "taxonomy_term"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(Text, unique=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("taxonomy_term.id", ondelete="RESTRICT")
    )
    vocabulary: Mapped[str] = mapped_column(Text, default="ambrogio", server_default="ambrogio")
    label_it: Mapped[str] = mapped_column(Text)
    label_en: Mapped[str] = mapped_column(Text)
    description_it: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    tuir_category: Mapped[str] = mapped_column(
        Text, default=TuirCategory.NONE.value, server_default=TuirCategory.NONE.value
    )
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Other names people give the category (``taxonomy.SYNONYMS``), searched like its labels.
    synonyms: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")

    @classmethod
    def __extra_table_args__(cls) -> tuple[Any, ...]:
        return (
            CheckConstraint(_one_of("tuir_category", TuirCategory), name="tuir_category"),
            CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]*$'", name="slug"),
            Index("ix_taxonomy_term_parent_id", "parent_id"),
        )


class Organization(Provenance, Base):
    """A provider: social cooperative, association, business or public body (HSDS organization)."""

    __tablename__ = "organization"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    # Codice fiscale (16 characters) or partita IVA (11 digits).
    tax_code: Mapped[str | None] = mapped_column(Text)
    # Registro Unico Nazionale del Terzo Settore, for third-sector bodies.
    runts_id: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(Text)
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(_search_document(("name", "A"), ("description", "C")), persisted=True),
        deferred=True,
    )
    # Set when a reviewer merged this provider into another: its id then resolves there.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL")
    )

    @classmethod
    def __extra_table_args__(cls) -> tuple[Any, ...]:
        return (
            CheckConstraint(_one_of("kind", ProviderKind), name="kind"),
            Index("ix_organization_tax_code", "tax_code"),
            Index(
                "ix_organization_runts_id",
                "runts_id",
                postgresql_where=text("runts_id IS NOT NULL"),
            ),
            Index("ix_organization_search", "search", postgresql_using="gin"),
            _trigram_index("organization"),
            Index("ix_organization_name_id", "name", "id"),
            Index("ix_organization_updated_at", "updated_at"),
            # The self-referencing foreign key: without it every deleted provider scans the table.
            Index(
                "ix_organization_merged_into_id",
                "merged_into_id",
                postgresql_where=text("merged_into_id IS NOT NULL"),
            ),
        )


class TaxonomyTermWords(Base):
    """A category's words as text search reads them: the labels and synonyms of the category
    and of each of its ancestors (published ones). Rebuilt by a trigger on ``taxonomy_term``
    (migration 0013)."""

    __tablename__ = "taxonomy_term_words"

    term_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("taxonomy_term.id", ondelete="CASCADE"), primary_key=True
    )
    words: Mapped[str] = mapped_column(Text)
    document: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(f"to_tsvector('{SEARCH_CONFIG}', ambrogio_unaccent(words))", persisted=True),
    )


class ProviderSearch(Base):
    """One provider's search document: its name (A), its published services' names (B), their
    categories' words and its description (C), their descriptions (D); and the unaccented
    names, its own and its services', for trigram search. Maintained on every write by
    statement-level triggers (migration 0013), never written by the application."""

    __tablename__ = "provider_search"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[Any] = mapped_column(TSVECTOR)
    names: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_provider_search_document", "document", postgresql_using="gin"),
        Index(
            "ix_provider_search_names_trgm",
            "names",
            postgresql_using="gin",
            postgresql_ops={"names": "gin_trgm_ops"},
        ),
    )


class SearchLexemeBound(Base):
    """Per lexeme, a rank no provider document (``provider``) and no service document
    (``service``) exceeds for that lexeme alone: the sum of the weights of its positions,
    which ``ts_rank_cd`` of a one-lexeme query adds up. Raised by statement-level triggers on
    ``provider_search`` and ``service`` (migration 0025), never lowered, never written by the
    application."""

    __tablename__ = "search_lexeme_bound"

    lexeme: Mapped[str] = mapped_column(Text, primary_key=True)
    provider: Mapped[float | None] = mapped_column(REAL)
    service: Mapped[float | None] = mapped_column(REAL)


class ImportDigest(Base):
    """The digest of the input a provider's last import wrote (``importing.digests``): the
    next import skips the provider when its input has the same digest. Deleted by statement
    triggers on any other write of the provider's records (migration 0021)."""

    __tablename__ = "import_digest"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    # The provider's warnings then, [{at, field, value, reason}], ``at`` its place in the rows.
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")


class Location(Provenance, Base):
    """A place where a provider works (HSDS location); the point may be unknown."""

    __tablename__ = "location"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE")
    )
    name: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = _point()
    geocode_precision: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    cap: Mapped[str | None] = mapped_column(String(5))
    comune_istat: Mapped[str | None] = mapped_column(ForeignKey("comune.istat_code"))
    # How the comune was found: "given", "boundary" (the point lies in it) or "centroid" (the
    # nearest centroid, where no boundary holds the point).
    comune_precision: Mapped[str | None] = mapped_column(Text)
    wheelchair_accessible: Mapped[bool | None] = mapped_column(Boolean)
    accessibility: Mapped[str | None] = mapped_column(Text)
    # OSM opening_hours syntax, e.g. "Mo-Fr 08:30-12:30,14:00-18:00; PH off".
    opening_hours: Mapped[str | None] = mapped_column(Text)
    # When ``opening_hours`` last changed: the freshness queue compares it with ``verified_at``.
    hours_changed_at: Mapped[datetime | None]
    # The point lies outside the configured territory envelope (kept, but flagged for review).
    outside_territory: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # The point in the territory's metric plane, for the planar KNN of nearby searches
    # (ambrogio/geo/planar.py); NULL outside the plane's region.
    geom_utm: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=PLANAR_SRID, spatial_index=False),
        Computed(PLANAR_POINT, persisted=True),
        deferred=True,
    )

    @classmethod
    def __extra_table_args__(cls) -> tuple[Any, ...]:
        return (
            CheckConstraint(
                "geocode_precision IS NULL OR " + _one_of("geocode_precision", GeocodePrecision),
                name="geocode_precision",
            ),
            CheckConstraint("(geom IS NULL) = (geocode_precision IS NULL)", name="geom_precision"),
            CheckConstraint(
                "comune_precision IN ('given', 'boundary', 'centroid')", name="comune_precision"
            ),
            *_point_indexes("location"),
            Index("ix_location_geom_utm", "geom_utm", postgresql_using="gist"),
            Index("ix_location_organization_id", "organization_id"),
            Index("ix_location_comune_istat", "comune_istat"),
        )


class Service(Provenance, Base):
    """What a provider offers (HSDS service), with the welfare attributes front ends filter on."""

    __tablename__ = "service"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    welfare_eligible: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    tuir_category: Mapped[str] = mapped_column(
        Text, default=TuirCategory.NONE.value, server_default=TuirCategory.NONE.value
    )
    target_groups: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    # ISO 639-1 codes.
    languages: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    delivery: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(_search_document(("name", "A"), ("description", "C")), persisted=True),
        deferred=True,
    )
    # Where an at-home service goes: an explicit area, or a list of comuni (or both).
    service_area: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=True
    )
    service_area_comuni: Mapped[list[str]] = mapped_column(
        ARRAY(String(6)), default=list, server_default="{}"
    )
    # When the cost options last changed: the freshness queue compares it with ``verified_at``.
    prices_changed_at: Mapped[datetime | None]

    @classmethod
    def __extra_table_args__(cls) -> tuple[Any, ...]:
        return (
            CheckConstraint(_one_of("tuir_category", TuirCategory), name="tuir_category"),
            CheckConstraint(_all_of("target_groups", TargetGroup), name="target_groups"),
            CheckConstraint(_all_of("delivery", Delivery), name="delivery"),
            CheckConstraint(
                "min_age IS NULL OR max_age IS NULL OR min_age <= max_age", name="age_range"
            ),
            CheckConstraint("min_age IS NULL OR min_age >= 0", name="min_age"),
            Index("ix_service_organization_id", "organization_id"),
            Index("ix_service_search", "search", postgresql_using="gin"),
            _trigram_index("service"),
            Index("ix_service_name_id", "name", "id"),
            Index("ix_service_updated_at", "updated_at"),
            Index("ix_service_target_groups", "target_groups", postgresql_using="gin"),
            Index("ix_service_languages", "languages", postgresql_using="gin"),
            Index("ix_service_delivery", "delivery", postgresql_using="gin"),
            Index("ix_service_area_comuni", "service_area_comuni", postgresql_using="gin"),
            Index("ix_service_service_area", "service_area", postgresql_using="gist"),
        )


class ServiceCategory(Base):
    """A service's categories (HSDS service attribute on a taxonomy term)."""

    __tablename__ = "service_category"

    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    )
    term_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("taxonomy_term.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_service_category_term_id", "term_id", "service_id"),)


class CostOption(Base):
    """A price of a service (HSDS cost_option); ``amount`` is in ``currency`` per ``unit``."""

    __tablename__ = "cost_option"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    unit: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_one_of("unit", PriceUnit), name="unit"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount"),
        CheckConstraint("unit <> 'free' OR coalesce(amount, 0) = 0", name="free_is_zero"),
        Index("ix_cost_option_service_id", "service_id"),
        Index("ix_cost_option_unit_amount", "unit", "amount"),
    )


class ServiceAtLocation(Base):
    """Where a service is offered on site (HSDS service_at_location)."""

    __tablename__ = "service_at_location"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id", ondelete="CASCADE"))

    __table_args__ = (
        UniqueConstraint("service_id", "location_id", name="uq_service_at_location_pair"),
        Index("ix_service_at_location_location_id", "location_id"),
    )


class WelfarePoint(Provenance, Base):
    """A welfare hub or point: a desk where operators meet citizens and map local services."""

    __tablename__ = "welfare_point"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    geom: Mapped[Any] = _point()
    geocode_precision: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    cap: Mapped[str | None] = mapped_column(String(5))
    comune_istat: Mapped[str | None] = mapped_column(ForeignKey("comune.istat_code"))
    opening_hours: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    comuni_served: Mapped[list[str]] = mapped_column(
        ARRAY(String(6)), default=list, server_default="{}"
    )
    hours_changed_at: Mapped[datetime | None]
    outside_territory: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")

    @classmethod
    def __extra_table_args__(cls) -> tuple[Any, ...]:
        return (
            CheckConstraint(_one_of("kind", WelfarePointKind), name="kind"),
            CheckConstraint(
                "geocode_precision IS NULL OR " + _one_of("geocode_precision", GeocodePrecision),
                name="geocode_precision",
            ),
            *_point_indexes("welfare_point"),
            Index("ix_welfare_point_name_id", "name", "id"),
            Index("ix_welfare_point_comuni_served", "comuni_served", postgresql_using="gin"),
        )


class AuditEvent(Base):
    """One change to one record: who, when, what it was before and after (JSON snapshots)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_audit_event_entity", "entity_type", "entity_id", "at"),
        Index("ix_audit_event_at", "at"),
    )


class AppUser(Base):
    """A person who signs in with a bearer token: a mapper, a reviewer or an admin."""

    __tablename__ = "app_user"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # The login name; it is the token's subject and the ``actor`` of audit events.
    name: Mapped[str] = mapped_column(Text, unique=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    # A mapper of a welfare point may edit only the providers in the comuni it serves.
    welfare_point_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("welfare_point.id", ondelete="SET NULL")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    # Tokens issued before this instant are refused ("sign out everywhere").
    tokens_valid_after: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("role IN ('mapper', 'reviewer', 'admin', 'planner')", name="role"),
        CheckConstraint("name ~ '^[A-Za-z0-9._@-]{1,64}$'", name="name"),
    )


class ApiKey(Base):
    """A third-party client's key. Only a SHA-256 digest of the secret is kept."""

    __tablename__ = "api_key"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(Text)
    # The public part of the key (``amb_<prefix>_<secret>``), used to find the row.
    prefix: Mapped[str] = mapped_column(Text, unique=True)
    secret_hash: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    rate_limit_per_minute: Mapped[int] = mapped_column(
        Integer, default=60_000, server_default="60000"
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("rate_limit_per_minute > 0", name="rate_limit"),)


class ChangeRequest(Base):
    """A mapper's edit waiting for a reviewer: the record's fields as proposed (a draft)."""

    __tablename__ = "change_request"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str] = mapped_column(Text)
    # The version the mapper edited; publishing a stale draft is a CONFLICT.
    base_version: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    status: Mapped[str] = mapped_column(Text, default="pending", server_default="pending")
    author: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(
            "entity_type IN ('provider', 'location', 'service', 'welfare_point')",
            name="entity_type",
        ),
        CheckConstraint("action IN ('create', 'update', 'archive')", name="action"),
        CheckConstraint(
            "status IN ('pending', 'published', 'rejected', 'superseded')", name="status"
        ),
        CheckConstraint("status <> 'rejected' OR reason IS NOT NULL", name="rejected_reason"),
        Index("ix_change_request_status_created_at", "status", "created_at"),
        Index("ix_change_request_entity", "entity_type", "entity_id"),
    )


class ImportJob(Base):
    """One run of a bulk import: who, when, what it did, and every row it refused."""

    __tablename__ = "import_job"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    source: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(Text)
    file_bytes: Mapped[int | None] = mapped_column(BigInteger)
    caller: Mapped[str] = mapped_column(Text)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    skip_bad_rows: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    status: Mapped[str] = mapped_column(Text, default="running", server_default="running")
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]
    rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # While it runs: the rows validated so far, of how many (None until the file is read).
    rows_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_total: Mapped[int | None] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # [{row, field, value, reason}], and warnings of the same shape.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    # A failure of the job itself (not of a row), as a person-readable message.
    failure: Mapped[str | None] = mapped_column(Text)
    # How many new likely-duplicate pairs the import flagged for review.
    duplicates_flagged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A mapper's import waits for review with its file here (cleared once decided).
    file_content: Mapped[bytes | None] = mapped_column(LargeBinary)
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    # Why a reviewer rejected the import.
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'pending_review', 'rejected')",
            name="status",
        ),
        Index("ix_import_job_started_at", "started_at"),
        Index("ix_import_job_source", "source", "started_at"),
        Index("ix_import_job_caller", "caller", "started_at"),
    )


class DuplicateCandidate(Base):
    """Two providers that look like one (``ambrogio.editing.pair_score`` says why and how much)."""

    __tablename__ = "duplicate_candidate"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # Ordered (provider_a < provider_b), so a pair is stored once.
    provider_a: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    provider_b: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    similarity: Mapped[float | None]
    distance_m: Mapped[float | None]
    # What ``ambrogio.editing.pair_score`` gave: the summed weights and each field's say.
    score: Mapped[float | None]
    reasons: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    status: Mapped[str] = mapped_column(Text, default="open", server_default="open")
    detected_at: Mapped[datetime] = mapped_column(server_default=func.now())
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("provider_a", "provider_b", name="uq_duplicate_candidate_pair"),
        CheckConstraint("provider_a < provider_b", name="ordered"),
        CheckConstraint("reason IN ('tax_code', 'runts_id', 'name_nearby')", name="reason"),
        CheckConstraint("status IN ('open', 'dismissed', 'merged')", name="status"),
        Index("ix_duplicate_candidate_provider_b", "provider_b"),
        Index("ix_duplicate_candidate_status", "status", "detected_at"),
    )


class GeocodeCache(Base):
    """Answers of the external geocoder, so an address is asked once."""

    __tablename__ = "geocode_cache"

    query: Mapped[str] = mapped_column(Text, primary_key=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    fetched_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Slot(Base):
    """A bookable time range of a service, with a capacity in seats.

    ``taken`` is kept on the row and only ever changed by conditional updates (see
    ``availability.reservations``), so the CHECK below is the last line against overbooking.
    """

    __tablename__ = "slot"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    location_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("location.id", ondelete="SET NULL")
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    during: Mapped[Any] = mapped_column(
        TSTZRANGE, Computed("tstzrange(starts_at, ends_at)", persisted=True)
    )
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(Text, default="open", server_default="open")
    source: Mapped[str] = mapped_column(Text, default="ambrogio", server_default="ambrogio")
    external_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_slot_source_external_id"),
        CheckConstraint("ends_at > starts_at", name="range"),
        CheckConstraint("capacity > 0", name="capacity"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="taken"),
        CheckConstraint("status IN ('open', 'cancelled')", name="status"),
        Index("ix_slot_service_id_starts_at", "service_id", "starts_at"),
        Index("ix_slot_during", "during", postgresql_using="gist"),
    )


class Reservation(Base):
    __tablename__ = "reservation"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("slot.id", ondelete="CASCADE"))
    seats: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text, default="confirmed", server_default="confirmed")
    # Who reserved (``Caller.key``): only they may cancel.
    caller: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    cancelled_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("seats > 0", name="seats"),
        CheckConstraint("status IN ('confirmed', 'cancelled')", name="status"),
        Index("ix_reservation_slot_id", "slot_id"),
    )


class IdempotencyKey(Base):
    """The first outcome of a mutation under a caller's key, replayed for its retries."""

    __tablename__ = "idempotency_key"

    caller: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    operation: Mapped[str] = mapped_column(Text)
    # A digest of the arguments: the same key with other arguments is refused.
    request_hash: Mapped[str] = mapped_column(Text)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (Index("ix_idempotency_key_created_at", "created_at"),)


class OpeningHoursSet(Base):
    """A distinct ``opening_hours`` string in a comune, whose open intervals are computed once
    for every location and welfare point that has it (see ``ambrogio.hours.intervals``)."""

    __tablename__ = "opening_hours_set"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    hours: Mapped[str] = mapped_column(Text)
    # '' without a comune: part of the unique key, so not NULL. The comune matters for its
    # patron saint's day; no foreign key, reference rows are never deleted anyway.
    comune_istat: Mapped[str] = mapped_column(String(6), server_default="")
    # The span the intervals were computed for (the rolling window).
    computed_for: Mapped[Any] = mapped_column(TSTZRANGE)
    computed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Why ``hours`` does not parse (stored before validation): such a set is never open.
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("hours", "comune_istat", name="uq_opening_hours_set_key"),
        CheckConstraint("comune_istat ~ '^([0-9]{6})?$'", name="comune_istat"),
    )


class OpenInterval(Base):
    """When an opening-hours set is open, within its window: ``[opens, closes)``."""

    __tablename__ = "open_interval"

    set_id: Mapped[int] = mapped_column(
        ForeignKey("opening_hours_set.id", ondelete="CASCADE"), primary_key=True
    )
    during: Mapped[Any] = mapped_column(TSTZRANGE, primary_key=True)

    # ``openAt`` asks which sets are open at an instant: ``during @> t`` on this index.
    __table_args__ = (Index("ix_open_interval_during", "during", postgresql_using="gist"),)


class ChangeEvent(Base):
    """One change of a provider, location, service or welfare point, written by a trigger in
    the same transaction (migration 0007; once per statement since 0021), so no write path can
    forget it.

    ``txid`` is the writing transaction's id: the change feed reads only the changes of
    transactions older than every running one (``pg_snapshot_xmin``), in ``(txid, seq)`` order,
    so a transaction that commits late can never land behind a cursor already handed out.
    """

    __tablename__ = "change_event"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    txid: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id()::text)::bigint")
    )
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    entity: Mapped[str] = mapped_column(Text)
    record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    change: Mapped[str] = mapped_column(Text)
    # The provider a merged-away provider now lives in.
    survivor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Whether the record was published before and after: the public feed shows a change only
    # when one of the two holds (a draft's life stays private).
    published_before: Mapped[bool] = mapped_column(Boolean)
    published_after: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_change_event_txid_seq", "txid", "seq"),
        Index("ix_change_event_at", "at"),
        CheckConstraint(
            "entity IN ('provider', 'location', 'service', 'welfare_point')", name="entity"
        ),
        CheckConstraint(
            "change IN ('create', 'update', 'publish', 'archive', 'merge', 'delete')",
            name="change",
        ),
    )


class ChangeHorizon(Base):
    """How far the change feed was purged: a cursor before it cannot be continued."""

    __tablename__ = "change_horizon"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    purged_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class Need(Base):
    """A need a welfare point recorded: anonymous by construction (``needs.vocabulary``).

    Readable only by the operators of its welfare point and by admins; everyone else sees
    aggregates of at least k needs (``needs.anonymity``).
    """

    __tablename__ = "need"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    welfare_point_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("welfare_point.id", ondelete="CASCADE")
    )
    category_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("taxonomy_term.id", ondelete="RESTRICT")
    )
    comune_istat: Mapped[str] = mapped_column(ForeignKey("comune.istat_code"))
    age_band: Mapped[str | None] = mapped_column(Text)
    household: Mapped[str | None] = mapped_column(Text)
    employment: Mapped[str | None] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(Text)
    recorded_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(Text)
    referred_service_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("service.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(Text, default="ambrogio", server_default="ambrogio")
    external_id: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_need_source_external_id"),
        CheckConstraint("age_band IS NULL OR " + _one_of("age_band", AgeBand), name="age_band"),
        CheckConstraint(
            "household IS NULL OR " + _one_of("household", Household), name="household"
        ),
        CheckConstraint(
            "employment IS NULL OR " + _one_of("employment", Employment), name="employment"
        ),
        CheckConstraint(_one_of("urgency", Urgency), name="urgency"),
        CheckConstraint(_one_of("outcome", Outcome), name="outcome"),
        CheckConstraint(
            "referred_service_id IS NULL OR outcome = 'referred'", name="referred_service"
        ),
        Index("ix_need_welfare_point_id_recorded_on", "welfare_point_id", "recorded_on"),
        Index("ix_need_recorded_on", "recorded_on"),
        Index("ix_need_referred_service_id", "referred_service_id"),
    )


class RateBucket(Base):
    """A caller's token bucket of cost points (``ambrogio.auth.rate_limit``); unlogged."""

    __tablename__ = "rate_bucket"
    __table_args__ = {"prefixes": ["UNLOGGED"]}  # noqa: RUF012

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]
    # Whether the last charge was paid.
    granted: Mapped[bool] = mapped_column(Boolean)


class PersistedDocument(Base):
    """A GraphQL document known by its id, ``sha256:<hex digest of its text>``: registered
    by a client as it went (automatic persisted queries) or by an operator from a client's
    manifest (``registered``; in trusted mode only those run)."""

    __tablename__ = "persisted_document"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    registered: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    client: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The last request that ran it, to the hour (unregistered documents expire unused).
    used_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        Index(
            "ix_persisted_document_unregistered_used_at",
            "used_at",
            postgresql_where=text("NOT registered"),
        ),
    )


BAND_CARRIES = ["lon", "lat", "lon_numeric", "lat_numeric", "location_id", "provider_id"]


class MapGridPoint(Base):
    """A located, visible location under one grid key (``''``: no filter; ``c:<slug>``: its
    provider has a published service in the category or under it; ``d:<mode>``: one with
    that delivery mode), with its Web Mercator cell at ``geo.grid.FINE_ZOOM``. Maintained at
    commit by triggers (migration 0020), never written by the application."""

    __tablename__ = "map_grid_point"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    x: Mapped[int] = mapped_column(Integer)
    y: Mapped[int] = mapped_column(Integer)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    # What ``mapClusters`` sums exactly (0026).
    lon_numeric: Mapped[Decimal] = mapped_column(Numeric, Computed("lon::numeric", persisted=True))
    lat_numeric: Mapped[Decimal] = mapped_column(Numeric, Computed("lat::numeric", persisted=True))

    __table_args__ = (
        # By column and by row, carrying what the band of ``mapClusters`` reads (0023, 0026).
        Index(
            "ix_map_grid_point_key_x_y",
            "key",
            "x",
            "y",
            postgresql_include=BAND_CARRIES,
        ),
        Index(
            "ix_map_grid_point_key_y_x",
            "key",
            "y",
            "x",
            postgresql_include=BAND_CARRIES,
        ),
        Index("ix_map_grid_point_provider_id_key", "provider_id", "key"),
        Index("ix_map_grid_point_location_id", "location_id"),
    )


class MapGridCell(Base):
    """One non-empty Web Mercator cell (tile ``level``/``x``/``y``) of the map grid under a
    key: what ``mapClusters`` sums. ``shared`` lists the cell's providers that have points
    under the key in other cells of the level; the others (``providers - cardinality(shared)``)
    are in this cell only, so cells add up to the exact count of distinct providers."""

    __tablename__ = "map_grid_cell"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    y: Mapped[int] = mapped_column(Integer, primary_key=True)
    x: Mapped[int] = mapped_column(Integer, primary_key=True)
    locations: Mapped[int] = mapped_column(Integer)
    providers: Mapped[int] = mapped_column(Integer)
    shared: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    lon_sum: Mapped[Decimal] = mapped_column(Numeric)
    lat_sum: Mapped[Decimal] = mapped_column(Numeric)
    west: Mapped[float] = mapped_column(Float)
    south: Mapped[float] = mapped_column(Float)
    east: Mapped[float] = mapped_column(Float)
    north: Mapped[float] = mapped_column(Float)
    # The least location (provider) id as text: the only one when the cell holds one.
    location_id: Mapped[str] = mapped_column(Text)
    provider_id: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_map_grid_cell_key_level_x_y", "key", "level", "x", "y"),)


class MapGridDirty(Base):
    """What a transaction wrote that may move the map grid, refreshed at its commit."""

    __tablename__ = "map_grid_dirty"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    location_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # A category renamed or moved: every key may have changed.
    everything: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")

    __table_args__ = (Index("ix_map_grid_dirty_xid", "xid"),)


class MapGridFlush(Base):
    """One row per transaction with grid work pending: its deferred trigger runs the refresh
    once, at commit."""

    __tablename__ = "map_grid_flush"

    xid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class FacetCellService(Base):
    """A simple service of the facet cells (migration 0027): visible, with all its published
    located places in the one UTM cell ``cx``/``cy`` of ``catalogue.facet_cells.SIDE`` metres.
    Maintained at commit by triggers, never written by the application."""

    __tablename__ = "facet_cell_service"

    service_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    cx: Mapped[int] = mapped_column(Integer)
    cy: Mapped[int] = mapped_column(Integer)
    # What the service adds to its cell's sums (``FacetCell``'s arrays, for one service).
    facets: Mapped[list[str]] = mapped_column(ARRAY(Text))
    keys: Mapped[list[str]] = mapped_column(ARRAY(Text))
    counts: Mapped[list[int]] = mapped_column(ARRAY(Integer))

    __table_args__ = (Index("ix_facet_cell_service_cx_cy", "cx", "cy"),)


class FacetCellPlace(Base):
    """A published place of a simple service, filed under its level-0 cell: the rim of a
    circle reads these by cell, and tests each."""

    __tablename__ = "facet_cell_place"

    cy: Mapped[int] = mapped_column(Integer, primary_key=True)
    cx: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    geom_utm: Mapped[Any] = mapped_column(Geometry("POINT", srid=PLANAR_SRID, spatial_index=False))

    __table_args__ = (Index("ix_facet_cell_place_service_id", "service_id"),)


class FacetSpreadPoint(Base):
    """A published planar place of a visible service that is not simple (places in several
    cells, or one off the plane): ``facets`` tests these services exactly, always."""

    __tablename__ = "facet_spread_point"

    service_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    geom_utm: Mapped[Any] = mapped_column(Geometry("POINT", srid=PLANAR_SRID, spatial_index=False))

    __table_args__ = (Index("ix_facet_spread_point_geom_utm", "geom_utm", postgresql_using="gist"),)


class FacetCell(Base):
    """The facet counts of the simple services in one UTM cell of ``level`` (side
    ``SIDE · 2^level``): ``keys[i]`` of ``facets[i]`` counted ``counts[i]`` times."""

    __tablename__ = "facet_cell"

    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    cy: Mapped[int] = mapped_column(Integer, primary_key=True)
    cx: Mapped[int] = mapped_column(Integer, primary_key=True)
    facets: Mapped[list[str]] = mapped_column(ARRAY(Text))
    keys: Mapped[list[str]] = mapped_column(ARRAY(Text))
    counts: Mapped[list[int]] = mapped_column(ARRAY(Integer))


class FacetDirty(Base):
    """A service a transaction wrote that may change the facet cells, refreshed at commit."""

    __tablename__ = "facet_dirty"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger)
    service_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # A category moved in the taxonomy: every cell may have changed.
    everything: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")

    __table_args__ = (Index("ix_facet_dirty_xid", "xid"),)


class FacetFlush(Base):
    """One row per transaction with facet work pending: its deferred trigger refreshes once,
    at commit."""

    __tablename__ = "facet_flush"

    xid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
