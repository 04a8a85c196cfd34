"""The change feed's entries (``changes``), for clients that keep a copy in sync."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from ambrogio.catalogue.changes import TYPE_NAMES
from ambrogio.db import models
from ambrogio.ids import to_global_id
from ambrogio.schema.types.enums import describe_values


@strawberry.enum(description="What happened to the record.")
class ChangeKind(Enum):
    CREATE = "create"
    UPDATE = "update"
    PUBLISH = "publish"
    ARCHIVE = "archive"
    MERGE = "merge"
    DELETE = "delete"


describe_values(
    ChangeKind,
    {
        "CREATE": "Created.",
        "UPDATE": "Some of its fields changed.",
        "PUBLISH": "Made public.",
        "ARCHIVE": "Withdrawn from the public.",
        "MERGE": "Merged into another record: `survivorId` names it.",
        "DELETE": "Deleted.",
    },
)


@strawberry.type(
    description="One change of a provider, location, service or welfare point the public can "
    "see or could see before it. After it, `published` says whether the record is in the public "
    "catalogue: true, read it again (`node(id:)`); false, drop it from your copy."
)
class Change:
    type_name: str = strawberry.field(
        name="type", description="Provider, Location, Service or WelfarePoint."
    )
    id: strawberry.ID = strawberry.field(description="The record's global id.")
    change: ChangeKind = strawberry.field(description="What happened to the record.")
    published: bool = strawberry.field(description="Whether the record is published after it.")
    survivor_id: strawberry.ID | None = strawberry.field(
        description="For a MERGE, the provider the record now lives in."
    )
    at: datetime = strawberry.field(description="When the change's transaction wrote it.")

    @classmethod
    def from_row(cls, row: models.ChangeEvent) -> Change:
        type_name = TYPE_NAMES[row.entity]
        survivor = row.survivor_id
        return cls(
            type_name=type_name,
            id=strawberry.ID(to_global_id(type_name, row.record_id)),
            change=ChangeKind(row.change),
            published=row.published_after,
            survivor_id=strawberry.ID(to_global_id("Provider", survivor)) if survivor else None,
            at=row.at,
        )
