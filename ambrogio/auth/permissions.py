"""What a caller may do: permissions by role, API-key scopes, and a mapper's comuni."""

from __future__ import annotations

from enum import StrEnum

from ambrogio.context import Caller, Role
from ambrogio.errors import Forbidden, Unauthenticated


class Scope(StrEnum):
    """What an API key may do beyond reading the public catalogue."""

    READ = "read"
    EDIT = "edit"
    IMPORT = "import"


class Permission(StrEnum):
    EDIT = "edit"  # create, update, archive (mappers' edits become drafts)
    IMPORT = "import"  # bulk import (mappers' imports wait for a reviewer)
    REVIEW = "review"  # publish, reject, merge, duplicates, freshness queue, audit trail
    ADMIN = "admin"  # users and API keys
    PLAN = "plan"  # the aggregates of needs: gaps and trends (k-anonymous)


_ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PUBLIC: frozenset(),
    Role.MAPPER: frozenset({Permission.EDIT, Permission.IMPORT, Permission.PLAN}),
    Role.REVIEWER: frozenset(
        {Permission.EDIT, Permission.IMPORT, Permission.REVIEW, Permission.PLAN}
    ),
    Role.PLANNER: frozenset({Permission.PLAN}),
    Role.ADMIN: frozenset(Permission),
    Role.API_CLIENT: frozenset(),
}
_SCOPE_PERMISSIONS = {Scope.EDIT: Permission.EDIT, Scope.IMPORT: Permission.IMPORT}


def permissions(caller: Caller) -> frozenset[Permission]:
    granted = set(_ROLE_PERMISSIONS[caller.role])
    if caller.role is Role.API_CLIENT:
        granted |= {
            permission for scope, permission in _SCOPE_PERMISSIONS.items() if scope in caller.scopes
        }
    return frozenset(granted)


def require(caller: Caller, permission: Permission) -> None:
    """UNAUTHENTICATED for anonymous callers, FORBIDDEN for those without the permission."""
    if caller.anonymous:
        raise Unauthenticated(
            f"{permission.value} needs a signed-in user or an API key: send "
            "'Authorization: Bearer <token>' or 'X-API-Key: <key>'"
        )
    if permission not in permissions(caller):
        raise Forbidden(
            f"{caller.role.value} {caller.subject!r} may not {permission.value}",
            permission=permission.value,
        )


def reviews_directly(caller: Caller) -> bool:
    """Reviewers' and admins' edits are published at once; everyone else's become drafts."""
    return Permission.REVIEW in permissions(caller)


def in_scope(caller: Caller, comuni: set[str] | frozenset[str]) -> bool:
    """Whether a mapper limited to some comuni may touch a record in these comuni."""
    return caller.comuni is None or bool(caller.comuni & comuni)


def require_scope(caller: Caller, comuni: set[str] | frozenset[str], what: str) -> None:
    if not in_scope(caller, comuni):
        raise Forbidden(
            f"{caller.subject!r} may edit only records in the comuni of their welfare point; "
            f"{what} is elsewhere"
        )
