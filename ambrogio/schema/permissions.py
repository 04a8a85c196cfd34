"""Strawberry permission classes over ``ambrogio.auth.permissions``: UNAUTHENTICATED, FORBIDDEN."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission

from ambrogio.auth.permissions import Permission, require
from ambrogio.context import Context


class _Requires(BasePermission):
    permission: ClassVar[Permission]

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        context: Context = info.context
        # Raises the coded error itself, so the client sees UNAUTHENTICATED or FORBIDDEN.
        require(context.caller, self.permission)
        return True


class CanEdit(_Requires):
    """Create, update and archive records (mappers' edits become drafts)."""

    permission = Permission.EDIT


class CanImport(_Requires):
    permission = Permission.IMPORT


class CanReview(_Requires):
    """Publish, reject, merge; the review queues and the audit trail."""

    permission = Permission.REVIEW


class IsAdmin(_Requires):
    permission = Permission.ADMIN
