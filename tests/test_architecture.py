"""The package layout is the architecture: dependencies point one way and no module imports itself
back through others (docs/architecture.md)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "sparkify_assets"

# Each top-level part of sparkify_assets and its layer: a part may import only parts of lower layers.
LAYERS = {
    "settings": 0,
    "records": 1,
    "source": 1,
    "alerts": 1,
    "analytics": 1,
    "sample_data": 2,
    "warehouse": 3,
    "cluster": 4,
    "instance": 4,
    "defs": 5,
    "definitions": 6,
    "commands": 6,
    "cli": 7,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The sparkify_assets modules ``path`` imports, anywhere in it (TYPE_CHECKING included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("sparkify_assets"):
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("sparkify_assets"))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: _imports(path) & modules.keys() for name, path in modules.items()}


def _part(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_every_part_has_a_layer() -> None:
    parts = {_part(module) for module in _graph()} - {""}
    assert parts == set(LAYERS), sorted(parts ^ set(LAYERS))


def test_dependencies_point_down_the_layers() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _part(module) and _part(target) and _part(module) != _part(target)
        if LAYERS[_part(target)] >= LAYERS[_part(module)]
    ]
    assert not upward, upward


def test_nothing_imports_the_command_line() -> None:
    importers = [m for m, targets in _graph().items() if "sparkify_assets.cli" in targets]
    assert not importers, importers


def test_no_import_cycles() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            pytest.fail("import cycle: " + " -> ".join([*path[path.index(module) :], module]))
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_the_checks_see_a_cycle_and_an_upward_import(tmp_path: Path) -> None:
    """The parser finds what the checks above rely on: a TYPE_CHECKING import counts."""
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from sparkify_assets.defs.resources import WarehouseResource\n"
        "def f():\n"
        "    from sparkify_assets.cli import main\n"
    )
    assert {"sparkify_assets.defs.resources", "sparkify_assets.cli"} <= _imports(module)


def test_loading_the_definitions_imports_no_heavy_library_it_does_not_use() -> None:
    """Every process that loads the definitions (the CLI, the daemon, its code server, each run
    worker) pays for what they import: pyarrow (about 75 MB) is for a backup or restore,
    matplotlib for an analytics answer, dagster-aws (about 0.8 s, every integration's component
    with it) for reading S3."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, sparkify_assets.definitions;"
            " print(sorted({m.split('.')[0] for m in sys.modules}"
            " & {'pyarrow', 'matplotlib', 'dagster_aws'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"


def test_the_commands_that_hand_over_to_dagster_do_not_import_it_first(tmp_path: Path) -> None:
    """`sparkify dagster/dev/daemon` replace their process with a Dagster program, which imports
    Dagster itself: the wrapper importing it too cost 0.5 s of every command before the exec.
    `sparkify instance` (what the wrapper does before the exec) runs without importing it."""
    env = {
        **os.environ,
        "SPARKIFY_HOME": str(tmp_path / "home"),
        "SPARKIFY_DAGSTER_STORAGE_URL": "postgresql://dagster@db.example:5432/dagster",
    }
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from sparkify_assets.cli import main; code = main(['instance']);"
            " print(code, sorted({m.split('.')[0] for m in sys.modules} & {'dagster'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert loaded.stdout.splitlines()[-1] == "0 []"
    assert (tmp_path / "home" / "dagster_home" / "dagster.yaml").is_file()
