"""Coded GraphQL errors: Ambrogio's errors keep their message and get ``extensions.code``;
the database not answering is ``UNAVAILABLE`` (``ambrogio.db.faults``); everything else
unexpected is masked (no traceback, no SQL) and logged with the request id."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension

from ambrogio.db import faults
from ambrogio.errors import AmbrogioError, BadUserInputs, Unavailable

log = logging.getLogger("ambrogio.graphql")

TOO_DEEP = "exceeds maximum operation depth"
# How graphql-core words an input field the input type does not have: the error names it.
UNKNOWN_INPUT_FIELD = re.compile(
    r"not to include unknown field '(\w+)'|Field '(\w+)' is not defined by type"
)
# How graphql-core words a variable or argument that does not coerce to its type.
COERCION = ("Variable ", "Argument ", "Expected ", "Int cannot", "Float cannot", "String cannot")


def _coded(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    if isinstance(original, AmbrogioError):
        extensions = {"code": original.code, **original.extensions}
        message = original.message
    elif original is None and "code" in (error.extensions or {}):
        # A validation rule of ours that already names its code (and field).
        return error
    elif original is None or (error.path is None and error.message.startswith(COERCION)):
        # Not raised while resolving a field: the document or its variables did not validate.
        # (An exception of ours with no path, e.g. from a subscription's generator, is not
        # the client's doing: it is masked below.)
        message = error.message
        if TOO_DEEP in message:
            code = "QUERY_TOO_COMPLEX"
        elif message.startswith(
            (
                "Syntax Error",
                "Cannot query field",
                "Unknown",
                "Cannot spread",
                "GraphQL introspection",
            )
        ):
            code = "GRAPHQL_VALIDATION_FAILED"
        else:
            code = "BAD_USER_INPUT"
        extensions = {"code": code}
        unknown = UNKNOWN_INPUT_FIELD.search(message)
        if unknown is not None:
            extensions["field"] = unknown[1] or unknown[2]
    elif faults.unavailable(original):
        log.warning("database unavailable [request %s]: %r", request_id, original)
        extensions = {"code": Unavailable.code, "requestId": request_id}
        message = faults.MESSAGE
    else:
        log.error("unexpected error [request %s]", request_id, exc_info=original)
        message = "Internal server error."
        extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


def _each(error: GraphQLError, request_id: str | None) -> list[GraphQLError]:
    """The coded error, or one per problem of a ``BadUserInputs`` (every bad field at once)."""
    original = error.original_error
    if not isinstance(original, BadUserInputs):
        return [_coded(error, request_id)]
    return [
        _coded(
            GraphQLError(
                problem.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                original_error=problem,
            ),
            request_id,
        )
        for problem in original.problems
    ]


def is_expected(error: GraphQLError) -> bool:
    """Coded errors and invalid requests: the client's business, not worth an error log."""
    original = error.original_error
    return (
        isinstance(original, AmbrogioError)
        or error.path is None
        or (original is not None and faults.unavailable(original))
    )


def code_result_errors(result: object, request_id: str | None) -> None:
    errors = getattr(result, "errors", None)
    if errors and not all("code" in (error.extensions or {}) for error in errors):
        result.errors = [  # type: ignore[attr-defined]
            coded
            for error in errors
            for coded in (
                [error] if "code" in (error.extensions or {}) else _each(error, request_id)
            )
        ]


class CodedErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None)
        result.errors = [coded for error in errors for coded in _each(error, request_id)]
