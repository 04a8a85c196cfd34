"""The GraphQL schema: strawberry types, inputs and enums. No SQL here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.base import get_object_definition

from ambrogio.schema.errors import CodedErrors, code_result_errors, is_expected
from ambrogio.schema.limits import OperationLimits
from ambrogio.schema.reporting import OperationName
from ambrogio.schema.roots.accounts import AccountsMutation, AccountsQuery
from ambrogio.schema.roots.availability import AvailabilityMutation
from ambrogio.schema.roots.catalogue import CatalogueQuery
from ambrogio.schema.roots.changes import ChangesQuery
from ambrogio.schema.roots.editing import EditingMutation
from ambrogio.schema.roots.importing import ImportMutation, ImportQuery
from ambrogio.schema.roots.map import MapQuery
from ambrogio.schema.roots.needs import NeedsMutation, NeedsQuery
from ambrogio.schema.roots.review import ReviewMutation, ReviewQuery
from ambrogio.schema.roots.subscription import Subscription
from ambrogio.schema.routing import ReplicaReads
from ambrogio.schema.strings import TextLiterals
from ambrogio.schema.types.catalogue import Location, Provider, Service
from ambrogio.schema.types.category import Category
from ambrogio.schema.types.comune import Comune
from ambrogio.schema.types.welfare_point import WelfarePoint

try:
    from opentelemetry import trace
    from strawberry.extensions.tracing import OpenTelemetryExtension
except ImportError:  # opentelemetry-api is optional
    OpenTelemetryExtension = None  # type: ignore[assignment,misc]

# Each capability contributes its own root fields; they merge into one `Query`.
Query = merge_types(
    "Query",
    (
        CatalogueQuery,
        MapQuery,
        ChangesQuery,
        ReviewQuery,
        ImportQuery,
        AccountsQuery,
        NeedsQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AvailabilityMutation,
        EditingMutation,
        ReviewMutation,
        ImportMutation,
        AccountsMutation,
        NeedsMutation,
    ),
)
# merge_types takes no description: the merged types get theirs here.
get_object_definition(
    Query, strict=True
).description = "What can be read: the catalogue, the map, the feed."
get_object_definition(
    Mutation, strict=True
).description = "What can be changed, by whoever may change it."


class Schema(strawberry.Schema):
    def get_extensions(self, sync: bool = False) -> list[SchemaExtension]:
        """Without a tracer provider the tracing extension is left out of the request: its
        per-field hook would make every field, a plain attribute too, a coroutine of its own
        for spans that go nowhere."""
        extensions = super().get_extensions(sync)
        if OpenTelemetryExtension is None or tracing_on():
            return extensions
        return [e for e in extensions if not isinstance(e, OpenTelemetryExtension)]

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [error for error in errors if not is_expected(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        context: Any = kwargs.get("context_value")
        failure = _auth_failure(context)
        if failure is not None:
            return failure
        result = await super().execute(*args, **kwargs)
        replica = getattr(context, "replica", None)
        if replica is not None and _unavailable(result):
            # The replica went away mid-read: the query runs again, on the primary.
            context.routing.failed(replica)
            context.read_from_primary()
            result = await super().execute(*args, **kwargs)
        # An exception in an extension's hook skips the error extension: code (and mask) here.
        code_result_errors(result, getattr(kwargs.get("context_value"), "request_id", None))
        return result

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        """Streams (subscriptions) bypass the operation hooks: code their errors here."""
        failure = _auth_failure(kwargs.get("context_value"))
        if failure is not None:
            return failure
        result = await super().stream(*args, **kwargs)
        request_id = getattr(kwargs.get("context_value"), "request_id", None)
        if hasattr(result, "__aiter__"):
            return _coded_stream(result, request_id)
        code_result_errors(result, request_id)
        return result


def _unavailable(result: object) -> bool:
    errors = getattr(result, "errors", None) or []
    return any((error.extensions or {}).get("code") == "UNAVAILABLE" for error in errors)


def _auth_failure(context: object) -> ExecutionResult | None:
    """Credentials that did not hold fail the whole operation, before anything runs."""
    failure = getattr(context, "auth_failure", None)
    if failure is None:
        return None
    error = GraphQLError(failure.message, extensions={"code": failure.code, **failure.extensions})
    return ExecutionResult(data=None, errors=[error])


async def _coded_stream(results: Any, request_id: str | None) -> AsyncIterator[Any]:
    async for result in results:
        code_result_errors(result, request_id)
        yield result


def build_schema() -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Provider, Location, Service, Category, Comune, WelfarePoint],
        extensions=[
            lambda: AddValidationRules([TextLiterals]),
            # Parses and validates each document once (front ends send the same few), after
            # the limits; charges the rate limit.
            OperationLimits,
            CodedErrors,
            OperationName,
            ReplicaReads,
            *tracing(),
        ],
    )


def tracing() -> list[type[SchemaExtension]]:
    """OpenTelemetry spans per operation, resolver and parse/validate step, when the
    ``opentelemetry-api`` package is installed (``pip install 'ambrogio[tracing]'``); the
    exporter and where spans go are the OpenTelemetry SDK's settings (``OTEL_*``)."""
    return [] if OpenTelemetryExtension is None else [OpenTelemetryExtension]


def tracing_on() -> bool:
    """Whether spans go anywhere: a tracer provider was set (``trace.set_tracer_provider``, or
    ``OTEL_PYTHON_TRACER_PROVIDER``), checked per request, so that one set after the app was
    built counts too. Until then the API hands out its proxy, whose spans are dropped."""
    provider = trace.get_tracer_provider()
    return not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
