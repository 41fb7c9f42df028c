"""Binding optional environment variables to resource config.

Dagster's ``EnvVar`` is resolved when a run starts and fails if the variable is unset; the project's
settings all have defaults. ``env_setting`` returns an ``EnvVar`` when the variable is set (so the
UI shows where the value comes from and masks it) and the default otherwise; resources interpret
an empty value as "use the documented default" at run time.
"""

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
