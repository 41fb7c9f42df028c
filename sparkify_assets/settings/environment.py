"""Optional environment variables as resource config: an ``EnvVar`` when the variable is set (the UI
shows its source and masks it), the default otherwise (docs/architecture.md, "settings/")."""

from __future__ import annotations

import os

import dagster as dg

from sparkify_assets.settings.deployment_mode import deployment_mode


def env_setting(name: str, default: str = "") -> str:
    """``EnvVar(name)`` when ``name`` is set in the environment, else ``default``."""
    if os.environ.get(name):
        return dg.EnvVar(name)
    return default


def deployment_mode_at_load() -> str:
    """The deployment mode the environment selects, in words, for the resource view (computed
    when the code location loads; never raises: a refused combination is reported, not thrown)."""
    return deployment_mode(
        os.environ.get("SPARKIFY_SOURCE_URL", ""), os.environ.get("SPARKIFY_WAREHOUSE_URL", "")
    )


def env_int_setting(name: str, default: int) -> int:
    """``EnvVar.int(name)`` when ``name`` is set in the environment, else ``default``."""
    if os.environ.get(name):
        return dg.EnvVar.int(name)  # an IntEnvVar: Dagster resolves it at run time
    return default
