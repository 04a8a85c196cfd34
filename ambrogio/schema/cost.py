"""What an operation asks for, measured on its document before anything runs.

One pass over the chosen operation (fragments expanded, each fragment measured once, so a
fragment spread a thousand times costs nothing to measure) gives:

- **depth**: the deepest chain of nested fields, introspection fields (``__type``,
  ``__schema``, ``ofType``) counted like any other;
- **aliases**, **directives** and **fields**: how many the operation holds once its fragments are
  expanded, and **repeats**, the most selections sharing one response name in a selection set
  (what graphql-core's overlap check compares pairwise: its time grows with their square);
- **cost**, GitHub's node limit: every field that returns objects counts the objects it may
  return, its parents' counts multiplied in. A field with a ``first`` or ``limit`` argument
  (an ``Int``) returns that many (its default when not given); a list without one counts
  ``UNBOUNDED_LIST``; an object one. Inside a Relay connection or edge, ``edges``, ``node``
  and ``pageInfo`` are the page already counted. ``providers(first: 100) { edges { node {
  services { categories { slug } } } } }`` costs 100 + 100×5 + 100×5×5 = 3,100. A scalar field
  with a page argument (``servicesGeoJSON(limit:)``) counts its page too.

The figures are computed on the document as sent; an invalid document (unknown fields, wrong
arguments) is measured as far as it can be and then refused by validation.

``measured`` walks a document once: the figures depend on the variables only through the page
arguments that name one, so they are kept per document and the values of those variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)

from ambrogio.schema.memo import per_document

# How many objects a list field without a page size is taken to hold (a provider's locations,
# a service's categories): a guess at the upper end of what the catalogue holds.
UNBOUNDED_LIST = 5
PAGE_ARGUMENTS = ("first", "limit")
# Relay's wrappers: what they hold is the page their connection field counted.
PAGE_WRAPPERS = ("Connection", "Edge")


@dataclass
class Figures:
    """What a selection set holds, relative to where it is selected."""

    depth: int = 0
    aliases: int = 0
    directives: int = 0
    fields: int = 0
    repeats: int = 0
    cost: int = 0
    # The response name selected most often in one selection set, for the message.
    repeated: str | None = None

    def add(self, other: Figures, times: int = 1, deeper: int = 0) -> None:
        self.depth = max(self.depth, other.depth + deeper)
        self.aliases += other.aliases
        self.directives += other.directives
        self.fields += other.fields
        if other.repeats > self.repeats:
            self.repeats, self.repeated = other.repeats, other.repeated
        self.cost += other.cost * times


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    measured: dict[str, Figures] = field(default_factory=dict)
    open: set[str] = field(default_factory=set)
    # The variables a page argument named: all that the figures read of the request.
    read: set[str] = field(default_factory=set)

    def selections(self, node: SelectionSetNode | None, parent: Any) -> Figures:
        figures = Figures()
        if node is None:
            return figures
        names: dict[str, int] = {}
        for selection in node.selections:
            figures.directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                name = (selection.alias or selection.name).value
                names[name] = names.get(name, 0) + 1
                figures.add(self.field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                figures.add(self.selections(selection.selection_set, inner or parent))
            elif isinstance(selection, FragmentSpreadNode):
                figures.add(self.fragment(selection.name.value))
        if names:
            name, count = max(names.items(), key=lambda item: item[1])
            if count > figures.repeats:
                figures.repeats, figures.repeated = count, name
        return figures

    def fragment(self, name: str) -> Figures:
        if name in self.measured:
            return self.measured[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.open:
            return Figures()  # unknown or circular: validation refuses the document
        self.open.add(name)
        figures = self.selections(
            definition.selection_set, self.schema.get_type(definition.type_condition.name.value)
        )
        self.open.discard(name)
        self.measured[name] = figures
        return figures

    def field(self, node: FieldNode, parent: Any) -> Figures:
        definition = _definition(self.schema, parent, node.name.value)
        kind = get_named_type(definition.type) if definition else None
        size, paged = self.size(node, definition)
        inner = self.selections(node.selection_set, kind)
        wrapper = isinstance(parent, GraphQLNamedType) and parent.name.endswith(PAGE_WRAPPERS)
        if wrapper and not paged:
            size = 1
        counts = paged or (_composite(kind) and not wrapper)
        figures = Figures(aliases=1 if node.alias else 0, fields=1, cost=size if counts else 0)
        figures.add(inner, times=size, deeper=1)
        figures.depth = max(figures.depth, 1)
        return figures

    def size(self, node: FieldNode, definition: GraphQLField | None) -> tuple[int, bool]:
        """How many objects the field returns per parent, and whether a page argument said so."""
        if definition is None:
            return 1, False
        for name in PAGE_ARGUMENTS:
            argument = definition.args.get(name)
            if argument is None or get_named_type(argument.type).name != "Int":
                continue
            value = argument.default_value
            for given in node.arguments or ():
                if given.name.value == name:
                    value = self.value(given.value, value)
            return (value if isinstance(value, int) and value > 0 else 1), True
        wrapped = definition.type
        if isinstance(wrapped, GraphQLNonNull):
            wrapped = wrapped.of_type
        return (UNBOUNDED_LIST if isinstance(wrapped, GraphQLList) else 1), False

    def value(self, node: Any, default: Any) -> Any:
        if isinstance(node, VariableNode):
            self.read.add(node.name.value)
            return self.variables.get(node.name.value, default)
        if isinstance(node, IntValueNode):
            return int(node.value)
        return default


def _definition(schema: GraphQLSchema, parent: Any, name: str) -> GraphQLField | None:
    if name == "__typename":
        return TypeNameMetaFieldDef
    if name == "__schema" and parent is schema.query_type:
        return SchemaMetaFieldDef
    if name == "__type" and parent is schema.query_type:
        return TypeMetaFieldDef
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _composite(kind: Any) -> bool:
    return isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)


def operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation a request runs: the one named, or the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def measured(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> Figures:
    """``measure``'s figures, walked once per document (documents come from the parse cache:
    one object per text) and the values of the variables its page arguments read. Shared:
    not to be changed by the caller."""
    read = _reads(document, schema, operation_name)
    given = variables or {}
    values = tuple((name, _page_value(given[name])) for name in read if name in given)
    return _measured(document, schema, operation_name, values)


def _page_value(value: Any) -> int | None:
    # What ``_Walk.size`` makes of a value: a positive int is a page size; anything else is 1.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@per_document(maxsize=256)
def _reads(
    document: DocumentNode, schema: GraphQLSchema, operation_name: str | None
) -> tuple[str, ...]:
    """The variables the figures depend on: which ones the walk reads does not depend on
    their values."""
    read: set[str] = set()
    measure(schema, document, operation_name, None, read)
    return tuple(sorted(read))


@per_document(maxsize=1024)
def _measured(
    document: DocumentNode,
    schema: GraphQLSchema,
    operation_name: str | None,
    values: tuple[tuple[str, int | None], ...],
) -> Figures:
    return measure(schema, document, operation_name, dict(values))


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    read: set[str] | None = None,
) -> Figures:
    """The figures of the operation the request runs (of the costliest one when the request
    does not say which: it is refused by execution then anyway). ``read`` collects the names
    of the variables the figures read."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    chosen = operation(document, operation_name)
    candidates = (
        [chosen]
        if chosen
        else [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    )
    result = Figures()
    for candidate in candidates:
        defaults = {
            definition.variable.name.value: value_from_ast_untyped(definition.default_value)
            for definition in candidate.variable_definitions or ()
            if definition.default_value is not None
        }
        walk = _Walk(schema, fragments, {**defaults, **(variables or {})})
        root = schema.get_root_type(candidate.operation)
        figures = walk.selections(candidate.selection_set, root)
        if read is not None:
            read.update(walk.read)
        figures.directives += len(candidate.directives or ())
        if figures.cost >= result.cost:
            result = figures
    result.cost = max(result.cost, 1)
    return result
