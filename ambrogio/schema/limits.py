"""Operation limits, checked before anything runs, and the cost charged to the caller.

Every request meets, in order:

1. **tokens**: graphql-core stops parsing past ``AMBROGIO_MAX_TOKENS``; a document nested so
   deeply that the parser would recurse past Python's limit is refused the same way;
2. **the figures of ``ambrogio.schema.cost``** (depth, aliases, directives, fields, repeated
   fields, cost) and the longest list among the arguments and variables, checked *before*
   graphql-core validates the document: its overlap check takes time in the square of
   repeated fields, so a document over the limits is refused without it;
3. validation (cached per document), without introspection or "did you mean" suggestions in
   production;
4. the caller's rate limit (``ambrogio.auth.rate_limit``), charged the operation's cost.

A refusal is ``QUERY_TOO_COMPLEX`` with the figure, its ``limit`` and (for the cost) ``cost``
in ``extensions``. Every answer carries ``extensions.cost``. With ``AMBROGIO_COST_ENFORCE=0``
the cost is measured, reported and logged when over the limit, but not refused: an operator
sees what clients ask for before turning the limit on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    ListValueNode,
    parse,
    validate,
    visit,
)
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from graphql.language import Visitor
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from ambrogio.context import Context
from ambrogio.errors import RateLimited
from ambrogio.schema.cost import Figures, measured
from ambrogio.schema.memo import per_document
from ambrogio.settings import Settings

log = logging.getLogger("ambrogio.limits")

TOO_COMPLEX = "QUERY_TOO_COMPLEX"


def too_complex(message: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": TOO_COMPLEX, **extensions})


@lru_cache(maxsize=256)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


@per_document(maxsize=256)
def cached_validation(
    document: DocumentNode,
    schema: GraphQLSchema,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


class _Lists(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.longest = 0

    def enter_list_value(self, node: ListValueNode, *_: Any) -> None:
        self.longest = max(self.longest, len(node.values))


@per_document(maxsize=256)
def _longest_literal(document: DocumentNode) -> int:
    lists = _Lists()
    visit(document, lists)
    return lists.longest


def longest_list(document: DocumentNode, variables: Any) -> int:
    """The most items of one list among the document's literals (counted once per document:
    documents come from the parse cache) and the variables."""
    longest = _longest_literal(document)
    stack = [variables]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            longest = max(longest, len(item))
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return longest


def check(figures: Figures, settings: Settings) -> GraphQLError | None:
    """The first limit the operation's figures exceed, as the error to answer."""
    checks = (
        ("depth", figures.depth, settings.max_depth, "fields nested {value} deep"),
        ("aliases", figures.aliases, settings.max_aliases, "{value} aliases"),
        ("directives", figures.directives, settings.max_directives, "{value} directives"),
        ("fields", figures.fields, settings.max_fields, "{value} fields (fragments expanded)"),
        (
            "repeats",
            figures.repeats,
            settings.max_repeats,
            f"the field {figures.repeated!r} selected {{value}} times in one selection set",
        ),
    )
    for name, value, limit, what in checks:
        if value > limit:
            return too_complex(
                f"the operation has {what.format(value=value)}; the limit is {limit}",
                figure=name,
                value=value,
                limit=limit,
                cost=figures.cost,
            )
    if figures.cost > settings.max_cost:
        message = (
            f"the operation costs {figures.cost:,} (the objects it may return: each page size "
            f"times its parents'); the limit is {settings.max_cost:,}: ask for smaller pages "
            "or fewer nested lists"
        )
        if settings.cost_enforce:
            return too_complex(message, figure="cost", cost=figures.cost, limit=settings.max_cost)
        log.info("over the cost limit (measured only): %s", message)
    return None


class OperationLimits(SchemaExtension):
    """Parsing, the limits, validation and the rate limit of one operation (see above)."""

    figures: Figures | None = None

    @property
    def context(self) -> Context:
        context = self.execution_context.context
        assert isinstance(context, Context)
        return context

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        limit = self.context.settings.max_tokens
        try:
            execution.graphql_document = _parse(execution.query or "", limit)
        except RecursionError:
            raise too_complex("the document nests too deeply to be read", figure="tokens") from None
        except GraphQLError as error:
            if "nested too deeply" in error.message:
                raise too_complex(
                    "the document nests too deeply to be read", figure="tokens"
                ) from None
            if "tokens" not in error.message:
                # a syntax error: strawberry parses again and answers it as usual
                yield
                return
            raise too_complex(
                f"the document has more than {limit:,} tokens", figure="tokens", limit=limit
            ) from None
        yield

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        settings = self.context.settings
        document = execution.graphql_document
        assert document is not None
        schema = execution.schema._schema
        self.figures = measured(schema, document, execution.operation_name, execution.variables)
        refusal = check(self.figures, settings)
        longest = longest_list(document, execution.variables)
        if refusal is None and longest > settings.max_list_items:
            refusal = too_complex(
                f"a list of {longest:,} items; the limit is {settings.max_list_items}",
                figure="listItems",
                value=longest,
                limit=settings.max_list_items,
            )
        if refusal is not None:
            execution.pre_execution_errors = [refusal]
            yield
            return
        rules = (*execution.validation_rules, MaybeNullValidationRule, OneOfInputValidationRule)
        if not settings.introspection:
            rules = (*rules, NoSchemaIntrospectionCustomRule)
        execution.pre_execution_errors = cached_validation(
            document, schema, rules, not settings.field_suggestions
        )
        yield

    async def on_execute(self) -> Any:
        context, figures = self.context, self.figures
        if figures is not None and context.limiter is not None and not context.charged:
            try:
                await context.limiter.charge(context.caller, context.client, figures.cost)
                context.charged = True
            except RateLimited as error:
                if context.response is not None:
                    context.response.status_code = 429
                    context.response.headers["Retry-After"] = str(error.extensions["retryAfter"])
                self.execution_context.result = GraphQLExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            error.message, extensions={"code": error.code, **error.extensions}
                        )
                    ],
                )
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.figures.cost if self.figures is not None else 0}
