"""Where the project keeps local state: the embedded database, generated sample data."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def sparkify_home() -> Path:
    """``$SPARKIFY_HOME``; else ``.sparkify/`` in the checkout; else the user data directory."""
    configured = os.environ.get("SPARKIFY_HOME")
    if configured:
        home = Path(configured).expanduser()
    else:
        checkout = Path(__file__).resolve().parents[2]
        if (checkout / "pyproject.toml").is_file() and (checkout / "sparkify_assets").is_dir():
            home = checkout / ".sparkify"
        else:
            home = platformdirs.user_data_path("sparkify_assets")
    home.mkdir(parents=True, exist_ok=True)
    return home.resolve()
