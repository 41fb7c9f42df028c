"""Binding optional environment variables to resource config.

Dagster's ``EnvVar`` is resolved when a run starts and fails if the variable is unset; the project's
settings all have defaults. ``env_setting`` returns an ``EnvVar`` when the variable is set (so the
UI shows where the value comes from and masks it) and the default otherwise; resources interpret
an empty value as "use the documented default" at run time.
"""

from __future__ import annotations

import os

import dagster as dg


def env_setting(name: str, default: str = "") -> str:
    """``EnvVar(name)`` when ``name`` is set in the environment, else ``default``."""
    if os.environ.get(name):
        return dg.EnvVar(name)
    return default


def env_int_setting(name: str, default: int) -> int:
    """``EnvVar.int(name)`` when ``name`` is set in the environment, else ``default``."""
    if os.environ.get(name):
        return dg.EnvVar.int(name)  # an IntEnvVar: Dagster resolves it at run time
    return default
