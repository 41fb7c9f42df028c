"""Quiet by default: loading the code location prints no warning, through the commands a user
types (a fresh interpreter, none of pytest's warning filters)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sparkify_assets.definitions import defs

BIN = Path(sys.executable).parent


def _clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    env.pop("DAGSTER_HOME", None)
    return env


def test_loading_the_code_location_prints_no_warning() -> None:
    listed = subprocess.run(
        [str(BIN / "dagster"), "asset", "list", "-m", "sparkify_assets.definitions"],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "Warning" not in listed.stdout + listed.stderr, listed.stderr[-3000:]
    assert listed.stdout.split() == sorted(key.to_user_string() for key in _asset_keys())


def test_importing_the_definitions_warns_about_nothing_even_with_every_warning_shown() -> None:
    """``-W always`` shows every warning each time it is raised: the filters must be exact and
    in place before the assets are built, not a side effect of the order of imports."""
    imported = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import sparkify_assets.definitions"],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert imported.returncode == 0, imported.stderr[-3000:]
    assert imported.stderr == ""


def _asset_keys() -> list[object]:
    return list(defs.resolve_asset_graph().get_all_asset_keys())
