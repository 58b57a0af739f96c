"""The house's shape, held by tests: packages layered (scripts -> agents -> gbc -> breakout_py) with no import circle,
no tool or test that loads a numbered script by path, one error type and one file writer, and docs whose links
resolve and whose entry point stays short."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("breakout_py", "gbc", "agents")
LAYER = {"breakout_py": 0, "gbc": 1, "agents": 2}  # a package may import only packages of a lower or equal layer
README_MAX_LINES = 300


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def imported_modules(path: Path, known: set[str], source: str | None = None) -> set[str]:
    """The package modules `path` imports anywhere in its body (function-local imports count), resolved to the
    longest known module name (`from gbc.extract import spec` names gbc.extract.spec)."""
    this = module_name(path)
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def add(name: str) -> None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != this:
            found.add(name)

    for node in ast.walk(ast.parse(path.read_text() if source is None else source, str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this module's package
                base = this.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                add(f"{source}.{alias.name}")
    return found


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    known = set(modules)
    return {name: imported_modules(path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each an import circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

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


def test_cycle_finder_finds_a_planted_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_import_graph_sees_function_local_and_relative_imports():
    source = "import os\n\ndef f():\n    from gbc.profiles import get_profile\n    from . import env\n"
    path = ROOT / "gbc" / "a_module.py"
    assert imported_modules(path, {"gbc.profiles", "gbc.env", "gbc"}, source) == {"gbc.profiles", "gbc.env"}


def test_no_import_circle_in_the_packages():
    assert cycles(import_graph()) == []


def test_packages_import_nothing_above_their_layer():
    upward = [
        f"{source} imports {target}"
        for source, targets in import_graph().items()
        for target in targets
        if LAYER[target.split(".")[0]] > LAYER[source.split(".")[0]]
    ]
    assert upward == []


def test_no_tool_or_test_loads_a_script_by_path():
    offenders = []
    for path in [*ROOT.glob("scripts/*.py"), *ROOT.glob("tests/*.py"), *package_modules().values()]:
        if path == Path(__file__).resolve():
            continue
        text = path.read_text()
        if re.search(r"spec_from_file_location|training_scripts|load_script\(|run_path\(", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_one_user_error_type_and_one_runner():
    """Every user-facing exception class derives from breakout_py.errors.UserError, and no script catches a broad
    ValueError or Exception to report it as a usage error (a bug keeps its traceback)."""
    import breakout_py.errors as errors
    import agents.checkpoint
    import gbc

    for cls in (agents.checkpoint.CheckpointError, gbc.ProfileError, gbc.RomNotFoundError, gbc.RomHashMismatchError,
                gbc.UnknownProfileError, gbc.StateSpecError, gbc.DumpError):
        assert issubclass(cls, errors.UserError), cls
    broad = []
    for path in ROOT.glob("scripts/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = [n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)]
                if {"ValueError", "Exception", "BaseException"} & set(names):
                    broad.append(f"{path.name}:{node.lineno}")
    assert broad == []
    assert not (ROOT / "agents" / "cli.py").exists()


def test_one_atomic_writer():
    """os.replace appears only in breakout_py/files.py: every other writer goes through it."""
    users = [str(path.relative_to(ROOT)) for path in [*package_modules().values(), *ROOT.glob("scripts/*.py")]
             if "os.replace(" in path.read_text() and path != ROOT / "breakout_py" / "files.py"]
    assert users == []


def markdown_files() -> list[Path]:
    return [path for path in ROOT.rglob("*.md")
            if not {".git", ".venv", "mutants", "runs", "artifacts", "node_modules"} & set(path.relative_to(ROOT).parts)]


LINK_RE = re.compile(r"\]\(([^)\s]+)\)")


def test_readme_is_an_entry_point():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES
    first_code_block = (ROOT / "README.md").read_text().split("```")[1]
    assert "./setup.sh" in first_code_block and "pytest" in first_code_block


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_in_the_docs_resolves(path):
    broken = []
    for target in LINK_RE.findall(path.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        file_part = target.split("#")[0]
        if file_part and not (path.parent / file_part).exists():
            broken.append(target)
    assert broken == []


def test_docs_name_no_machine_paths():
    found = [f"{path.relative_to(ROOT)}: {match}" for path in markdown_files()
             for match in re.findall(r"(?:/work/|/root/|/home/\w+|/tmp/\w+)\S*", path.read_text())]
    assert found == []
