"""The four kinds of record people edit, and the words of review (actions, statuses)."""

from __future__ import annotations

from enum import StrEnum

from ambrogio.db.models import Location, Organization, Service, WelfarePoint

Record = Organization | Location | Service | WelfarePoint


class Entity(StrEnum):
    """An editable record kind; the value is ``change_request.entity_type`` and the audit's."""

    PROVIDER = "provider"
    LOCATION = "location"
    SERVICE = "service"
    WELFARE_POINT = "welfare_point"

    @property
    def model(self) -> type[Record]:
        return _MODELS[self]

    @property
    def type_name(self) -> str:
        """The GraphQL type, which names the record in its global id."""
        return _TYPE_NAMES[self]


_MODELS: dict[Entity, type[Record]] = {
    Entity.PROVIDER: Organization,
    Entity.LOCATION: Location,
    Entity.SERVICE: Service,
    Entity.WELFARE_POINT: WelfarePoint,
}
_TYPE_NAMES = {
    Entity.PROVIDER: "Provider",
    Entity.LOCATION: "Location",
    Entity.SERVICE: "Service",
    Entity.WELFARE_POINT: "WelfarePoint",
}


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    ARCHIVE = "archive"


class ChangeStatus(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    # Withdrawn by its author, or overtaken by a merge.
    SUPERSEDED = "superseded"
