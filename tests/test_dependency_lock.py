"""requirements.lock: the whole resolved dependency set, what scripts/ensure_venv.sh installs.

Fails when pyproject.toml asks for something the lock does not hold (run
``bash scripts/refresh_lock.sh``), or when the environment running the tests is not the locked one.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.locked_versions import LOCK, locked_versions

ROOT = Path(__file__).resolve().parents[1]
REFRESH = "bash scripts/refresh_lock.sh"


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [Requirement(line) for line in project["dependencies"]]
    declared += [Requirement(line) for line in project["optional-dependencies"]["test"]]
    return [r for r in declared if r.marker is None or r.marker.evaluate()]


def test_the_lock_holds_every_declared_dependency_at_an_allowed_version() -> None:
    pins = locked_versions()
    missing = [str(r) for r in _declared() if canonicalize_name(r.name) not in pins]
    outside = [
        f"{r} (locked {pins[canonicalize_name(r.name)]})"
        for r in _declared()
        if canonicalize_name(r.name) in pins
        and not r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)
    ]
    assert missing == [], f"not in requirements.lock: {missing}; run {REFRESH}"
    assert outside == [], f"locked outside pyproject.toml's range: {outside}; run {REFRESH}"


def test_the_environment_is_the_locked_one() -> None:
    pins = locked_versions()
    assert len(pins) > 100  # the whole resolved set, not only the direct dependencies
    installed = {
        canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()
    }
    differing = {
        name: (version, installed.get(name))
        for name, version in pins.items()
        if installed.get(name) != version
    }
    assert differing == {}, (
        f"installed versions differ from {LOCK.name} (locked, installed): {differing};"
        " run `source scripts/ensure_venv.sh`"
    )


def test_ensure_venv_installs_the_lock_and_reinstalls_when_it_changes() -> None:
    script = (ROOT / "scripts" / "ensure_venv.sh").read_text(encoding="utf-8")
    assert "pip install --quiet -r requirements.lock" in script
    assert "pip install --quiet --no-deps -e ." in script  # nothing resolved outside the lock
    stamp_line = next(line for line in script.splitlines() if line.startswith("stamp="))
    assert "requirements.lock" in stamp_line and "pyproject.toml" in stamp_line
    header = LOCK.read_text(encoding="utf-8").splitlines()[:2]
    assert header[1].strip("# ") == REFRESH  # the lock says how to refresh it
