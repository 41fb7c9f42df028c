#!/usr/bin/env bash
# Re-resolves every dependency of pyproject.toml (the project's and its `test` extra) into
# requirements.lock: exact versions for Python 3.11-3.13 on every platform (uv's universal
# resolution; environment markers where they differ). Versions already in the lock are kept
# unless pyproject.toml now excludes them; pass --upgrade to move everything to the newest
# release, or --upgrade-package NAME for one. Run it after editing a dependency, commit both
# files; scripts/ensure_venv.sh then re-installs from the new lock.
# uv comes from PyPI (through pip) into .sparkify/lock-tools, at the version below.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

UV_VERSION=0.13.9
tools=.sparkify/lock-tools
if [ ! -x "$tools/bin/uv" ] || [ "$("$tools/bin/uv" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet "uv==$UV_VERSION"
fi
"$tools/bin/uv" pip compile pyproject.toml --extra test --universal --python-version 3.11 \
  --custom-compile-command "bash scripts/refresh_lock.sh" --output-file requirements.lock \
  --quiet "$@"
echo "requirements.lock: $(grep -c '^[a-zA-Z0-9]' requirements.lock) pinned requirements"
