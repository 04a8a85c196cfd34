"""Compiled answers: a query whose whole selection is plain data is answered without
graphql-core's execution.

The map and search front ends send the same few documents over and over, and for a page of
nearest providers graphql-core spends more time walking the answer (a resolver call, a
completion and a path per field of every edge) than the database spends finding it. A
``Plan`` is made once per document and operation name; it covers an operation when

- it is a query with one root field among ``PLANNED_ROOTS`` (an alias is fine; ``__typename``
  may sit beside it), whose arguments are literals or variables;
- every field below it is ``__typename`` or a field of an object type, or a list of one, that
  strawberry resolves by reading an attribute (or one of ``PLAIN_RESOLVERS``): no arguments,
  no permission classes, no field extensions, no interfaces or unions;
- there are no fragments, no directives and no response name selected twice in one
  selection set (graphql-core would merge them);
- it passes validation (the same rules as the regular path, and the introspection rule).

The answer is then what graphql-core would build: the root resolver is called as strawberry
calls it (its arguments coerced by graphql-core and converted by strawberry), and each field's
value is read and serialized by its GraphQL type, in the order of the selection. Whatever the
plan cannot answer exactly, a value a non-null field lacks, a resolver's error, raises
``NotCovered``: the caller answers the request on the regular path, which says what went
wrong the usual way.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import MISSING, dataclass
from dataclasses import field as data_field
from math import isfinite
from operator import attrgetter
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    DocumentNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_operation_ast,
    specified_rules,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.arguments import _is_leaf_type, convert_arguments
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

from ambrogio.schema.limits import _parse
from ambrogio.schema.strings import TextLiterals
from ambrogio.schema.types.node import _edge_cursor, _end_cursor, _start_cursor

# Root fields whose resolvers read nothing of ``info`` but its context.
PLANNED_ROOTS = frozenset({"mapClusters", "providers", "services", "welfarePoints"})
# Resolvers that only read their object: called with it, as strawberry does.
PLAIN_RESOLVERS: frozenset[Callable[..., Any]] = frozenset(
    {_edge_cursor, _start_cursor, _end_cursor}
)
# Validation: the regular path's rules, and the introspection rule always (a plan never
# answers introspection, whatever the settings).
RULES = (
    *specified_rules,
    TextLiterals,
    MaybeNullValidationRule,
    OneOfInputValidationRule,
    NoSchemaIntrospectionCustomRule,
)
CACHED_PLANS = 256
# In ``RootInfo.reads``: a resolver reads the object itself, whatever attribute it likes.
ALL = "*"


class NotCovered(Exception):
    """The plan cannot answer this request exactly: answer it on the regular path."""


# A value of the resolver's result to its answer.
Shape = Callable[[Any], Any]
# The root field's arguments, as graphql-core coerced them, to the resolver's keywords; None
# when strawberry's conversion must do it.
Convert = Callable[[dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class RootInfo:
    """What a planned root resolver receives as ``info``: the request's context, and what the
    plan reads of the answer (reading anything else raises, and the request goes the regular
    way)."""

    context: Any
    # By object type name, the attributes the plan reads of its values; ``ALL`` among them
    # when a resolver reads the object itself. A resolver may build objects holding these only.
    reads: Mapping[str, frozenset[str]] = data_field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    document: DocumentNode
    operation: OperationDefinitionNode
    # The operation's name for the request's log line, when the document names it.
    name: str | None
    key: str
    field: StrawberryField
    node: FieldNode
    graphql_field: Any
    resolver: Callable[..., Awaitable[Any]]
    shape: Shape
    # The root's response names in order, None for the planned field's, and their values.
    roots: tuple[tuple[str, str | None], ...]
    # strawberry's conversion of the arguments, compiled for their types.
    convert: Convert
    # What the answer reads of each object type (``RootInfo.reads``).
    reads: Mapping[str, frozenset[str]] = data_field(default_factory=dict)

    async def run(
        self, schema: Any, context: Any, variables: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The operation's ``data``; raises ``NotCovered``."""
        coerced = get_variable_values(
            schema._schema, self.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            raise NotCovered("variables")
        try:
            raw = get_argument_values(self.graphql_field, self.node, coerced)
            kwargs = self.convert(raw)
            if kwargs is None:
                kwargs = convert_arguments(
                    raw,
                    self.field.arguments,
                    scalar_registry=schema.schema_converter.scalar_registry,
                    config=schema.config,
                )
            value = self.shape(await self.resolver(None, RootInfo(context, self.reads), **kwargs))
            return {key: value if constant is None else constant for key, constant in self.roots}
        except NotCovered:
            raise
        except Exception as error:
            raise NotCovered(repr(error)) from error


class Plans:
    """Plans by document text and operation name (None: not covered), made on first use."""

    def __init__(self, schema: Any, max_tokens: int) -> None:
        self.schema = schema
        self.max_tokens = max_tokens
        self.entries: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()

    def get(self, query: str, operation_name: str | None) -> Plan | None:
        key = (query, operation_name)
        try:
            plan = self.entries[key]
        except KeyError:
            plan = self.entries[key] = self._make(query, operation_name)
            if len(self.entries) > CACHED_PLANS:
                self.entries.popitem(last=False)
            return plan
        self.entries.move_to_end(key)
        return plan

    def _make(self, query: str, operation_name: str | None) -> Plan | None:
        try:
            document = _parse(query, self.max_tokens)
        except (GraphQLError, RecursionError):
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        if operation.directives:
            return None
        # The shape first, in one linear pass: validation (its overlap check takes time in the
        # square of repeated fields) only runs on a document that repeats none.
        try:
            plan = self._plan(document, operation)
        except (NotCovered, KeyError):
            return None
        if validate(self.schema._schema, document, RULES):
            return None
        return plan

    def _plan(self, document: DocumentNode, operation: OperationDefinitionNode) -> Plan:
        query_type = self.schema._schema.query_type
        planned: list[FieldNode] = []
        roots: list[tuple[str, str | None]] = []
        for selection in operation.selection_set.selections:
            if not isinstance(selection, FieldNode) or selection.directives:
                raise NotCovered("fragment or directive")
            if selection.name.value == "__typename":
                roots.append((_key(selection), query_type.name))
            elif selection.name.value in PLANNED_ROOTS:
                roots.append((_key(selection), None))
                planned.append(selection)
            else:
                raise NotCovered("root field")
        if len(planned) != 1 or len({key for key, _ in roots}) != len(roots):
            raise NotCovered("one planned root field")
        (node,) = planned
        graphql_field = query_type.fields[node.name.value]
        field = self._strawberry_field(query_type, node.name.value)
        resolver = field.base_resolver
        if (
            resolver is None
            or not resolver.is_async
            or field.permission_classes
            or field.extensions
            or resolver.self_parameter is None
        ):
            raise NotCovered("root resolver")
        named = operation.name.value if operation.name is not None else None
        reads: dict[str, set[str]] = {}
        shape = self._shape(graphql_field.type, node.selection_set, reads)
        return Plan(
            document=document,
            operation=operation,
            name=named,
            key=_key(node),
            field=field,
            node=node,
            graphql_field=graphql_field,
            resolver=_call(resolver),
            shape=shape,
            roots=tuple(roots),
            convert=self._converter(field),
            reads={name: frozenset(attributes) for name, attributes in reads.items()},
        )

    def _converter(self, field: StrawberryField) -> Convert:
        """``convert_arguments`` for ``field``'s arguments, its type questions answered once:
        scalars as they are, input objects built from their fields. An argument of another
        type (lists, enums, ``Maybe``, an input that builds itself), when given, makes it
        answer None: strawberry's own conversion then."""
        names = self.schema.config.name_converter
        arguments = []
        for argument in field.arguments:
            try:
                conv: Callable[[Any], Any] | None = self._convert(argument.type)
            except NotCovered:
                conv = None
            # A null stays null, but in a ``Maybe`` (``Some(None)``).
            null = not isinstance(argument.type, StrawberryMaybe)
            arguments.append((names.from_argument(argument), argument.python_name, conv, null))

        def convert(value: dict[str, Any]) -> dict[str, Any] | None:
            kwargs = {}
            for name, python, conv, null in arguments:
                if name in value:
                    given = value[name]
                    if conv is not None:
                        kwargs[python] = conv(given)
                    elif given is None and null:
                        kwargs[python] = None
                    else:
                        return None
            return kwargs

        return convert

    def _convert(self, kind: Any) -> Callable[[Any], Any]:
        registry = self.schema.schema_converter.scalar_registry
        if isinstance(kind, StrawberryMaybe | StrawberryList):
            raise NotCovered("Maybe or a list")
        if isinstance(kind, StrawberryOptional):
            return self._convert(kind.of_type)
        if isinstance(kind, LazyType):
            return self._convert(kind.resolve_type())
        if _is_leaf_type(kind, registry):
            if not isinstance(kind, type) or kind not in (int, float, str, bool):
                raise NotCovered("a scalar of its own or an enum")
            return _same
        if not has_object_definition(kind):
            raise NotCovered("an argument type")
        definition = kind.__strawberry_definition__
        if definition.from_input is not None or not definition.is_input:
            raise NotCovered("an input that builds itself")
        names = self.schema.config.name_converter
        # An implicit None for fields without a default, as strawberry sets them.
        defaults = {
            field.python_name: None
            for field in definition.fields
            if field.default_value is MISSING and field.default_factory is MISSING
        }
        fields = [
            (
                names.from_field(field),
                field.python_name,
                self._convert(field.resolve_type(type_definition=definition)),
            )
            for field in definition.fields
        ]

        def build(value: Any) -> Any:
            if value is None or value is UNSET:
                return value
            kwargs = dict(defaults)
            for name, python, conv in fields:
                if name in value:
                    kwargs[python] = conv(value[name])
            return kind(**kwargs)

        return build

    def _strawberry_field(self, parent: GraphQLObjectType, name: str) -> StrawberryField:
        definition = parent.extensions.get("strawberry-definition")
        if not isinstance(definition, StrawberryObjectDefinition):
            raise NotCovered("not a strawberry type")
        for field in definition.fields:
            if self.schema.config.name_converter.get_graphql_name(field) == name:
                return field
        raise NotCovered(name)

    def _shape(
        self,
        kind: GraphQLOutputType,
        selection: SelectionSetNode | None,
        reads: dict[str, set[str]],
    ) -> Shape:
        """The shape of ``kind``'s values; ``reads`` told what it reads of each object type."""
        if isinstance(kind, GraphQLNonNull):
            if isinstance(kind.of_type, GraphQLScalarType | GraphQLEnumType):
                return _leaf(kind.of_type, selection, required=True)
            inner = self._shape(kind.of_type, selection, reads)

            def required(value: Any) -> Any:
                if value is None:
                    raise NotCovered("null in a non-null field")
                return inner(value)

            return required
        if isinstance(kind, GraphQLList):
            item = self._shape(kind.of_type, selection, reads)

            def listed(value: Any) -> Any:
                if value is None:
                    return None
                return [item(one) for one in value]

            return listed
        if isinstance(kind, GraphQLScalarType | GraphQLEnumType):
            return _leaf(kind, selection, required=False)
        if not isinstance(kind, GraphQLObjectType) or selection is None:
            raise NotCovered("not an object type")
        return self._object(kind, selection, reads)

    def _object(
        self, kind: GraphQLObjectType, selection: SelectionSetNode, reads: dict[str, set[str]]
    ) -> Shape:
        fields: list[tuple[str, Callable[[Any], Any], Shape]] = []
        keys: set[str] = set()
        read_here = reads.setdefault(kind.name, set())
        for node in selection.selections:
            if not isinstance(node, FieldNode) or node.directives or node.arguments:
                raise NotCovered("fragment, directive or argument")
            key = _key(node)
            if key in keys:
                raise NotCovered("a response name selected twice")
            keys.add(key)
            name = node.name.value
            if name == "__typename":
                fields.append((key, _constant(kind.name), _same))
                continue
            field = self._strawberry_field(kind, name)
            if field.permission_classes or field.extensions:
                raise NotCovered("permissions or extensions")
            resolver = field.base_resolver
            if resolver is None:
                read: Callable[[Any], Any] = _attribute(field.python_name)
                read_here.add(field.python_name)
            elif resolver.wrapped_func in PLAIN_RESOLVERS:
                read = resolver.wrapped_func
                read_here.add(ALL)
            else:
                raise NotCovered("a resolver")
            inner = self._shape(kind.fields[name].type, node.selection_set, reads)
            fields.append((key, read, inner))

        def shaped(value: Any) -> dict[str, Any]:
            return {key: shape(read(value)) for key, read, shape in fields}

        return shaped


def _leaf(
    kind: GraphQLScalarType | GraphQLEnumType, selection: SelectionSetNode | None, required: bool
) -> Shape:
    """The shape of a scalar or enum value, null refused when ``required``. A value of the
    type graphql-core's built-in ``Int``, ``Float`` and ``String`` return unchanged (an int
    of 32 bits, a finite float, a str) is answered as it is, without the call."""
    if selection is not None:
        raise NotCovered("selection on a leaf")
    serialize = kind.serialize

    def serialized(value: Any) -> Any:
        if value is None:
            if required:
                raise NotCovered("null in a non-null field")
            return None
        out = serialize(value)
        if out is None or out is Undefined:
            raise NotCovered("a scalar serialized to nothing")  # an error in graphql-core
        return out

    if kind is GraphQLInt:

        def whole(value: Any) -> Any:
            if type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
                return value
            return serialized(value)

        return whole
    if kind is GraphQLFloat:

        def real(value: Any) -> Any:
            if type(value) is float and isfinite(value):
                return value
            return serialized(value)

        return real
    if kind is GraphQLString:

        def string(value: Any) -> Any:
            if type(value) is str:
                return value
            return serialized(value)

        return string
    return serialized


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias is not None else node.name.value


def _same(value: Any) -> Any:
    return value


def _constant(value: Any) -> Callable[[Any], Any]:
    return lambda _: value


def _attribute(name: str) -> Callable[[Any], Any]:
    return attrgetter(name)


def _call(resolver: Any) -> Callable[..., Awaitable[Any]]:
    function = resolver.wrapped_func
    info = resolver.info_parameter
    if info is None:
        raise NotCovered("a root resolver without info")

    async def call(root: Any, info_value: RootInfo, **kwargs: Any) -> Any:
        return await function(root, **{info.name: info_value}, **kwargs)

    return call
