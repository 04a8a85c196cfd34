"""Who may read and write individual need records: the operators of their welfare point
(mappers tied to it) and admins. Nobody else, planners and reviewers included: they see the
k-anonymous aggregates (``Permission.PLAN``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ambrogio.context import Caller, Role
from ambrogio.errors import Forbidden, Unauthenticated


@dataclass(frozen=True)
class RecordScope:
    """The welfare point whose records a caller handles; None for admins (every point)."""

    welfare_point: uuid.UUID | None

    def covers(self, welfare_point: uuid.UUID) -> bool:
        return self.welfare_point is None or self.welfare_point == welfare_point


def record_scope(caller: Caller) -> RecordScope:
    """The caller's scope over need records; UNAUTHENTICATED or FORBIDDEN when they have none."""
    if caller.anonymous:
        raise Unauthenticated(
            "need records need a signed-in operator: send 'Authorization: Bearer <token>'"
        )
    if caller.role is Role.ADMIN:
        return RecordScope(None)
    if caller.role is Role.MAPPER and caller.welfare_point is not None:
        return RecordScope(caller.welfare_point)
    raise Forbidden(
        f"{caller.role.value} {caller.subject!r} may not read or write need records: only the "
        "operators of a welfare point and admins may; the aggregates are needsGaps and "
        "needsTrends",
        permission="need_records",
    )
