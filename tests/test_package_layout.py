"""The package layout's rules (docs/architecture.md): imports point one way and never in a circle."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sparkify_assets"
# What runs the project, above the Dagster objects and the domain packages.
ENTRY_POINTS = {"cli", "commands", "definitions"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Each module of the package and the modules of the package it imports (at any depth in it:
    an import inside a function counts)."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    imports: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    found.add(target if target in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        imports[name] = {target for target in found if target in modules and target != name}
    return imports


def _layer(module: str) -> str:
    """``sparkify_assets.warehouse.redshift.engine`` -> ``warehouse``."""
    return module.split(".")[1] if "." in module else ""


def test_the_layout_is_read() -> None:
    imports = _imports()
    assert "sparkify_assets.defs.staging_assets" in imports
    assert (
        "sparkify_assets.warehouse.interface" in imports["sparkify_assets.warehouse.engine_choice"]
    )


def test_no_module_imports_itself_through_others() -> None:
    try:
        TopologicalSorter(_imports()).prepare()
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None


def test_nothing_imports_the_command_line() -> None:
    importers = {
        module: sorted(target for target in targets if _layer(target) in {"cli", "commands"})
        for module, targets in _imports().items()
        if _layer(module) not in {"cli", "commands"}
    }
    assert {module: found for module, found in importers.items() if found} == {}


def test_domain_packages_do_not_import_the_dagster_definitions() -> None:
    upward = {
        module: sorted(target for target in targets if _layer(target) in {"defs", *ENTRY_POINTS})
        for module, targets in _imports().items()
        if _layer(module) not in {"defs", *ENTRY_POINTS}
    }
    assert {module: found for module, found in upward.items() if found} == {}
