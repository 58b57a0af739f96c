"""agents/probing imports one way: no import circle in agents/ (function-local imports included), and the
game-independent core imports no game adapter."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ("probes", "game", "pipeline", "causal", "bars", "outputs")
ADAPTERS = ("python_breakout", "gbc_game", "games")


def import_graph(package: Path, root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports anywhere in its body (dotted names from `root`)."""
    files = {".".join(f.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): f
             for f in package.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = here.split(".")[:len(here.split(".")) - node.level + 1]
                    base = ".".join(parent + ([node.module] if node.module else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    found.add(target)
        graph[name] = found
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import path that comes back to where it started, each found once (by depth-first search)."""
    found, done = [], set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            found.append(path[path.index(module):] + [module])
            return
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, path + [module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    return found


def test_agents_has_no_import_circle():
    graph = import_graph(ROOT / "agents")
    assert "agents.probing.pipeline" in graph["agents.probing.outputs"]  # the graph sees the package's imports
    assert circles(graph) == []


def test_the_check_finds_a_circle_through_a_function_local_import(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import helper\n")
    (package / "b.py").write_text("def helper():\n    from . import a\n    return a\n")
    assert circles(import_graph(package, tmp_path)) == [["pkg.a", "pkg.b", "pkg.a"]]


def test_the_core_imports_no_game_adapter():
    graph = import_graph(ROOT / "agents")
    for module in CORE:
        adapters = {f"agents.probing.{name}" for name in ADAPTERS} & graph[f"agents.probing.{module}"]
        assert not adapters, f"agents.probing.{module} imports {adapters}"
