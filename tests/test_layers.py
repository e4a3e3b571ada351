"""The direction of imports: entry -> agent -> tools -> models and tools -> memory; models never import tools,
memory never imports models, and the modules inside models import each other without a circle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    """The chatface modules a file imports (relative imports resolved), at any depth of the file."""
    package = path.parent.relative_to(ROOT).parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                target = ".".join(["chatface", *base, *(node.module.split(".") if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("chatface")}


def test_models_never_import_tools_agent_memory_or_interfaces():
    for path in (ROOT / "models").glob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[1] in ("tools", "agent", "memory", "interfaces", "cli")}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_memory_never_imports_models_tools_or_agent():
    for path in (ROOT / "memory").rglob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[1] in ("models", "tools", "agent", "interfaces")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_no_import_circle_inside_models():
    modules = {p.stem for p in (ROOT / "models").glob("*.py")}
    graph = {m: {i.split(".")[2] for i in _imports(ROOT / "models" / f"{m}.py")
                 if i.startswith("chatface.models.") and i.split(".")[2] in modules} - {m} for m in modules}
    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for n in graph[m]:
            assert state.get(n) != 1, "import circle: " + " -> ".join([*path, m, n])
            if n not in state:
                visit(n, [*path, m])
        state[m] = 2

    for m in sorted(modules):
        if m not in state:
            visit(m, [])


def test_tools_never_import_the_agent_or_the_entry_points():
    for path in (ROOT / "tools").glob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[1] in ("agent", "interfaces", "cli", "evaluation")}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_agent_reaches_models_and_memory_only_through_the_tools():
    for path in (ROOT / "agent").rglob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[1] in ("models", "memory", "interfaces", "cli")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_entry_points_reach_sessions_only_through_the_factory():
    """interfaces/ and the CLI's session commands never import models/ or memory/: they go through EditService / ChatService.
    Only the CLI's model-folder commands (models, train-direction) work on models/ directly."""
    for path in (ROOT / "interfaces").glob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[1] in ("models", "memory")}
        assert not bad, f"{path.name} imports {sorted(bad)}"
    tree = ast.parse((ROOT / "cli.py").read_text(encoding="utf-8"))
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.name not in ("cmd_models", "cmd_train_direction"):
            names = {n.module for n in ast.walk(fn) if isinstance(n, ast.ImportFrom) and n.module}
            bad = {m for m in names if m.split(".")[0] in ("models", "memory")}
            assert not bad, f"cli.{fn.name} imports {sorted(bad)}"


def test_only_the_configuration_reads_the_environment():
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("tests", "benchmarks", ".venv") or rel.name == "configuration.py" or "site-packages" in rel.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and getattr(node.value, "id", "") == "os":
                raise AssertionError(f"{rel}:{node.lineno} reads the environment; read it in configuration.py")
