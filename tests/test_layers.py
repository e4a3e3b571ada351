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


def _files(folder: str, minimum: int) -> list[Path]:
    """The modules of a layer, at any depth; a glob that matches (almost) nothing is a broken test, not a pass."""
    found = sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)
    assert len(found) >= minimum, f"{folder}/ has only {len(found)} modules: is the layout this test knows still the tree?"
    return found


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(["chatface", *parts])


def _top_level_imports(path: Path) -> set[str]:
    """The chatface modules a file imports at module level (not inside functions), relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module(path).split(".") if path.name == "__init__.py" else _module(path).split(".")[:-1]
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
    return found


def _lazy_only(path: Path, module: str) -> bool:
    """Whether ``module`` is imported only inside functions of ``path`` (an optional, late dependency)."""
    return module not in _top_level_imports(path)


def test_models_never_import_tools_agent_memory_or_interfaces():
    for path in _files("models", 30):
        bad = {m for m in _imports(path) if m.split(".")[1] in ("tools", "agent", "memory", "interfaces", "cli")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_models_sub_packages_show_the_architecture():
    """engines/ never reach into training/; scorers and faces never import an engine; faces are the bottom. (weights/
    converts into the engines' own network classes, so it may import them.)"""
    rules = {
        "scorers": ("engines", "training"),
        "faces": ("engines", "scorers", "weights", "training"),
        "weights": ("scorers", "training"),
        "engines": ("training",),
    }
    for sub, banned in rules.items():
        for path in _files(f"models/{sub}", 2):
            bad = {m for m in _imports(path) if m.startswith("chatface.models.") and m.split(".")[2] in banned and not _lazy_only(path, m)}
            assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_memory_never_imports_models_tools_or_agent():
    for path in (ROOT / "memory").rglob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[1] in ("models", "tools", "agent", "interfaces")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_no_import_circle_inside_models():
    """Module-level imports only: an import inside a function runs later and cannot make a circle at import time."""
    paths = {_module(p): p for p in _files("models", 30)}
    modules = set(paths)
    graph = {m: {i for i in _top_level_imports(paths[m]) if i in modules} - {m} for m in modules}
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
    for path in _files("tools", 10):
        bad = {m for m in _imports(path) if m.split(".")[1] in ("agent", "interfaces", "cli", "evaluation")}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_agent_reaches_models_and_memory_only_through_the_tools():
    for path in (ROOT / "agent").rglob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[1] in ("models", "memory", "interfaces", "cli")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_entry_points_reach_sessions_only_through_the_factory():
    """interfaces/ and the CLI's session commands never import models/ or memory/: they go through EditService / ChatService.
    Only the CLI's model-folder commands (models, train-direction) work on models/ directly."""
    for path in _files("interfaces", 5):
        bad = {m for m in _imports(path) if m.split(".")[1] in ("models", "memory")}
        assert not bad, f"{path.name} imports {sorted(bad)}"
    for path in _files("cli", 6):
        if path.name == "model_commands.py":
            continue
        bad = {m for m in _imports(path) if m.split(".")[1] in ("models", "memory")}
        assert not bad, f"cli/{path.name} imports {sorted(bad)}"


def test_the_package_list_names_every_package_and_the_wheel_holds_every_module(tmp_path):
    """pyproject.toml lists the packages by hand (the project root is the package): one left out installs
    without it, and only a fresh install notices."""
    import subprocess
    import sys
    import zipfile

    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        _module(p) for p in ROOT.rglob("__init__.py") if not {".venv", "tests", "benchmarks", "build"} & set(p.relative_to(ROOT).parts)
    }
    assert listed == found, f"missing {sorted(found - listed)}, not packages {sorted(listed - found)}"
    import shutil

    source = tmp_path / "chatface"  # built from a copy: setuptools writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("chatface-*.whl"))
    held = {n[: -len(".py")].replace("/", ".").removesuffix(".__init__") for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".py")}
    modules = {_module(p) for pkg in found for p in (ROOT / Path(*pkg.split(".")[1:])).glob("*.py")}
    assert modules <= held, f"the wheel lacks {sorted(modules - held)}"
    names = set(zipfile.ZipFile(wheel).namelist())
    data = {f"chatface/agent/planners/data/{name}" for name in ("acts.npz", "acts.txt", "mentions.npz", "mentions.txt")}
    data.add("chatface/tools/attributes.json")
    assert data <= names, f"the wheel lacks the data files {sorted(data - names)}"  # the planner's act model, its data


def test_only_the_configuration_reads_the_environment():
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("tests", "benchmarks", ".venv") or rel.name == "configuration.py" or "site-packages" in rel.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and getattr(node.value, "id", "") == "os":
                raise AssertionError(f"{rel}:{node.lineno} reads the environment; read it in configuration.py")


def test_the_readmes_layout_is_the_tree():
    """Every package folder is in README's Layout block, and every folder named there exists."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    named, parents = set(), []
    for line in block.splitlines():
        m = re.match(r"^( *)(\S+/)", line)
        if not m:
            continue
        depth = len(m[1]) // 2
        parents[depth:] = [m[2].rstrip("/")]
        named.add("/".join(parents))
    folders = {
        str(p.parent.relative_to(ROOT))
        for p in ROOT.rglob("__init__.py")
        if not {".venv", "tests", "benchmarks", "build"} & set(p.relative_to(ROOT).parts) and p.parent != ROOT
    }
    nested = {"agent/planners", "memory/migrations", "memory/migrations/versions"}  # named inside their parent's line
    assert folders - nested <= named, f"not in README's Layout: {sorted(folders - nested - named)}"
    missing = sorted(n for n in named if not (ROOT / n).is_dir())
    assert not missing, f"README's Layout names folders that do not exist: {missing}"


def test_mypy_checks_every_module_of_the_package():
    """[tool.mypy] files names every top-level package and module: a new folder is type-checked from its first commit."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"])
    skipped = {".venv", "tests", "benchmarks", "build", ".git", "__pycache__"}
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in skipped}
    modules = {p.name for p in ROOT.glob("*.py") if p.name != "__init__.py"}
    assert packages and modules, "the globs found nothing: the project root moved"
    missing, stale = sorted((packages | modules) - listed), sorted(listed - (packages | modules))
    assert not missing and not stale, f"not checked: {missing}; not in the package: {stale}"
