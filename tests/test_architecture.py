"""The layers point one way, and no module imports another that imports it back.

    HTTP (app, http/) -> auth -> GraphQL (graphql/, */graphql*.py)
      -> services (*/service.py) -> store (*/store.py, */*_store.py, store/)
    and below all of them: domain/, which imports nothing else of ours.

Read from the source with `ast`: every import a module runs (at its top or
inside a function) counts; imports under `if TYPE_CHECKING:` do not, since
they never run (Strawberry's lazy types name their module as a string).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "edgehog_creds"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> set[str]:
    """Every module (ours or not) the file imports when it runs."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes: list[ast.stmt] | list[ast.AST]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                found.add(base)
                # `from . import store` imports the module `<package>.store`.
                found.update(f"{base}.{alias.name}" for alias in node.names)
            visit(list(ast.iter_child_nodes(node)))

    visit(ast.parse(path.read_text()).body)
    return found


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {
    name: {m for m in _imports(path) if m in MODULES and m != name}
    for name, path in MODULES.items()
}
EXTERNAL = {name: _imports(path) for name, path in MODULES.items()}


def _layer(module: str) -> str:
    last = module.rsplit(".", 1)[-1]
    if module.startswith("edgehog_creds.domain"):
        return "domain"
    if module.startswith("edgehog_creds.engine"):
        return "engine"
    if module.startswith("edgehog_creds.http"):
        return "http"
    if module.startswith("edgehog_creds.graphql") or last.startswith("graphql"):
        return "graphql"
    if last == "service" or last.endswith("_service") or module == "edgehog_creds.service":
        return "service"
    if last == "store" or last.endswith("_store") or module.startswith("edgehog_creds.store"):
        return "store"
    return "other"


def test_there_are_modules_in_every_layer():
    layers = {_layer(m) for m in MODULES}
    assert {"domain", "engine", "graphql", "service", "store"} <= layers


def test_no_import_cycles():
    # Tarjan's strongly connected components: a component of more than one
    # module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            connect(module)
    assert cycles == []


def test_the_domain_imports_nothing_else_of_ours():
    for module, imported in GRAPH.items():
        if _layer(module) == "domain":
            outside = {m for m in imported if _layer(m) != "domain" and m != "edgehog_creds"}
            assert not outside, (module, outside)


def test_the_engine_imports_nothing_else_of_ours():
    for module, imported in GRAPH.items():
        if _layer(module) == "engine":
            assert all(m.startswith("edgehog_creds.engine") for m in imported), module


def test_the_graphql_layer_runs_no_sql():
    for module, imported in GRAPH.items():
        if _layer(module) == "graphql":
            assert not {m for m in EXTERNAL[module] if m.split(".")[0] == "asyncpg"}, module
            assert not {m for m in imported if _layer(m) == "store"}, module


def test_services_and_stores_know_no_graphql():
    for module, imported in GRAPH.items():
        if _layer(module) in ("service", "store"):
            libraries = {m.split(".")[0] for m in EXTERNAL[module]}
            assert not libraries & {"strawberry", "graphql", "starlette"}, module
            assert not {m for m in imported if _layer(m) in ("graphql", "engine")}, module


def test_stores_call_no_service():
    for module, imported in GRAPH.items():
        if _layer(module) == "store":
            assert not {m for m in imported if _layer(m) == "service"}, module


def test_a_cycle_would_be_found():
    # The checks above read real imports: a made-up back edge is a cycle.
    GRAPH["edgehog_creds.domain.errors"].add("edgehog_creds.credentials.service")
    try:
        try:
            test_no_import_cycles()
        except AssertionError:
            return
        raise AssertionError("the cycle check missed a cycle")
    finally:
        GRAPH["edgehog_creds.domain.errors"].discard("edgehog_creds.credentials.service")
