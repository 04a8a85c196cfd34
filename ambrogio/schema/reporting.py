"""The operation's name, for the request's log line and metrics (``ambrogio.http.requests``)."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import OperationDefinitionNode
from strawberry.extensions import SchemaExtension

ANONYMOUS = "anonymous"


class OperationName(SchemaExtension):
    """Notes the name of the operation run: the request's ``operationName``, else the name in
    its document, else ``anonymous``."""

    def on_operation(self) -> Iterator[None]:
        yield
        info = getattr(self.execution_context.context, "request_info", None)
        if info is None:
            return
        name = self.execution_context.operation_name
        document = self.execution_context.graphql_document
        if name is None and document is not None:
            names = [
                node.name.value
                for node in document.definitions
                if isinstance(node, OperationDefinitionNode) and node.name is not None
            ]
            name = names[0] if len(names) == 1 else None
        info.operation = name or ANONYMOUS
