"""The layers of ARCHITECTURE.md, checked on the source: who may import whom, no import circles, pure cores.

Imports are read with `ast` (every import statement, also those inside functions), so a circle hidden behind
a function-level import still counts.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = (ROOT, ROOT / "platform")

# Lowest first: a package may import only packages listed before it (and itself).
LAYERS = ("core", "accounts", "campaigns", "generation", "publishing", "dashboard", "clipcast")
PURE_CORES = ("generation.engine", "publishing.x")


def first_party_modules() -> dict[str, Path]:
    modules = {}
    for source_root in SOURCE_ROOTS:
        for path in source_root.rglob("*.py"):
            parts = path.relative_to(source_root).with_suffix("").parts
            if parts[0] not in LAYERS or "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    names = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    # Imports only for type checkers (`if TYPE_CHECKING:`) never run, so they make no circle.
    typing_only = {
        id(inner) for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body for inner in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            # `from package import name` depends on package.name when that is a module, else on the package.
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(first-party module -> first-party modules it imports, module -> every top-level name it imports)."""
    modules = first_party_modules()

    def owner(name: str) -> str:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph, top_levels = {}, {}
    for module, path in modules.items():
        names = imported_names(module, path)
        top_levels[module] = {name.split(".")[0] for name in names if name}
        graph[module] = {owner(name) for name in names if name.split(".")[0] in LAYERS} - {module, ""}
    return graph, top_levels


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_circles():
    graph, _ = import_graph()
    assert circles(graph) == []


def test_circles_are_found_also_through_function_level_imports(tmp_path):
    # The detector itself: a module pair that imports each other only inside a function is a circle.
    graph = {"generation.services": {"generation.tasks"}, "generation.tasks": {"generation.services"}}
    assert circles(graph) == [["generation.services", "generation.tasks"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_each_layer_imports_only_the_layers_below_it():
    graph, _ = import_graph()
    upward = defaultdict(set)
    for module, targets in graph.items():
        own = LAYERS.index(module.split(".")[0])
        for target in targets:
            if LAYERS.index(target.split(".")[0]) > own:
                upward[module].add(target)
    assert dict(upward) == {}


def test_the_pure_cores_import_no_django_and_no_other_first_party_code():
    graph, top_levels = import_graph()
    for module, targets in graph.items():
        core = next((c for c in PURE_CORES if module == c or module.startswith(f"{c}.")), None)
        if core is None:
            continue
        assert "django" not in top_levels[module], f"{module} imports Django"
        outside = {t for t in targets if not (t == core or t.startswith(f"{core}."))}
        assert outside == set(), f"{module} imports {sorted(outside)} from outside its pure core"


def test_the_web_shell_holds_only_settings_and_the_dashboard():
    packages = {child.name for child in (ROOT / "platform").iterdir() if (child / "__init__.py").exists()}
    assert packages == {"clipcast", "dashboard"}


def private_names_used_on_other_objects(path: Path) -> list[str]:
    """`obj._name` where obj is not self/cls: a reach into another object's (a dependency's) private API."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"})):
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return found


def test_the_x_client_uses_only_tweepys_public_api():
    x_package = ROOT / "publishing" / "x"
    used = [hit for path in sorted(x_package.rglob("*.py")) for hit in private_names_used_on_other_objects(path)]
    assert used == []


def test_the_private_name_check_sees_a_reach_into_tweepy(tmp_path):
    sample = tmp_path / "client.py"
    sample.write_text("def get(client):\n    return client._make_request('GET', '/2/users/me')\n")
    assert private_names_used_on_other_objects(sample) == ["client.py:2 client._make_request"]
