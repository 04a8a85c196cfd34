"""The package's layout rules, checked on its import graph (read with ``ast``, see
``tests/support/imports.py``): each rule names the modules that break it."""

from __future__ import annotations

import ast

from tests.support.imports import PACKAGE, cycles, imports, in_folder, internal_graph, modules

# sqlalchemy's session types may be named in resolvers; building statements may not.
SESSION_TYPES = "sqlalchemy.ext.asyncio"
# Statement constructs a resolver would use if it built SQL itself.
# Above the builders: the app, the command line, and the typed request context (which names
# the per-request loaders).
REQUEST_LAYER = ("ambrogio.app", "ambrogio.context")
SQL_CALLS = {"select", "insert", "update", "delete", "text", "func", "exists", "tuple_", "and_"}


def test_the_graph_is_read() -> None:
    # guard: the rules below mean something only if the graph holds the package
    graph = internal_graph()
    assert len(graph) > 100
    assert "ambrogio.catalogue.search" in graph["ambrogio.resolvers.search"]
    assert "ambrogio.resolvers.search" in graph["ambrogio.schema.roots.catalogue"]


def test_no_import_circle() -> None:
    assert cycles(internal_graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    # its oracle can fail: a made-up circle is found
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [{"a", "b", "c"}]


def test_no_function_local_imports_outside_the_command_line() -> None:
    # cli/ imports what a command needs when it runs, so `ambrogio --help` starts fast;
    # anywhere else a local import hides a circle
    local = [
        f"{item.importer}:{item.line} imports {item.imported}"
        for item in imports()
        if item.local
        and item.imported.startswith("ambrogio")
        and not in_folder(item.importer, "cli")
    ]
    assert local == []


def test_db_imports_no_higher_layer() -> None:
    wrong = [
        f"{item.importer} imports {item.imported}"
        for item in imports()
        if in_folder(item.importer, "db")
        and in_folder(item.imported, "geo", "catalogue", "resolvers", "schema", "http")
    ]
    assert wrong == []


def test_schema_types_never_import_resolvers_and_nothing_below_imports_schema() -> None:
    wrong = [
        f"{item.importer} imports {item.imported}"
        for item in imports()
        if (in_folder(item.importer, "schema.types") and in_folder(item.imported, "resolvers"))
        or (
            in_folder(item.imported, "schema", "resolvers")
            and not in_folder(item.importer, "schema", "resolvers")
            and item.importer not in REQUEST_LAYER
            and not in_folder(item.importer, "cli")
        )
    ]
    assert wrong == []


def test_strawberry_only_in_schema_resolvers_and_app() -> None:
    wrong = [
        f"{item.importer} imports {item.imported}"
        for item in imports()
        if item.imported.split(".")[0] == "strawberry"
        and not in_folder(item.importer, "schema", "resolvers")
        and item.importer != "ambrogio.app"
    ]
    assert wrong == []


def test_no_sql_in_resolvers() -> None:
    wrong = [
        f"{item.importer}:{item.line} imports {item.imported}"
        for item in imports()
        if in_folder(item.importer, "resolvers")
        and item.imported.split(".")[0] == "sqlalchemy"
        and not item.imported.startswith(SESSION_TYPES)
    ]
    for module, path in modules().items():
        if in_folder(module, "resolvers"):
            tree = ast.parse(path.read_text())
            wrong += [
                f"{module}:{node.lineno} calls {node.func.id}"
                for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in SQL_CALLS
            ]
    assert wrong == []


def test_roots_hold_root_types_only() -> None:
    wrong = []
    for module, path in modules().items():
        if in_folder(module, "schema.roots"):
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.ClassDef) and not node.name.endswith(
                    ("Query", "Mutation", "Subscription")
                ):
                    wrong.append(f"{module}.{node.name}")
    assert wrong == []


def test_the_package_is_where_the_rules_look() -> None:
    assert (PACKAGE / "schema" / "roots").is_dir() and (PACKAGE / "catalogue").is_dir()
