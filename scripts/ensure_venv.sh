# Sourced by the other scripts: creates ./.venv with Python 3.11-3.13 and installs exactly the
# versions of requirements.lock (the project's dependencies and its test tools), then the project
# itself (editable). Re-installs whenever requirements.lock, pyproject.toml or this script changed
# since the last install. Refresh the lock with `bash scripts/refresh_lock.sh`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pick_python() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else 1)'; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.11, 3.12 or 3.13 is required" >&2; return 1
}

if [ ! -x .venv/bin/python ]; then
  "$(pick_python)" -m venv .venv
fi
stamp=".venv/.installed-$(cat requirements.lock pyproject.toml scripts/ensure_venv.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "== installing the locked dependencies (requirements.lock) into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.lock
  .venv/bin/python -m pip install --quiet --no-deps -e .
  if ! .venv/bin/python -m pip check >/dev/null; then
    .venv/bin/python -m pip check >&2 || true
    echo "requirements.lock does not hold what pyproject.toml asks for:" \
         "run 'bash scripts/refresh_lock.sh' and commit requirements.lock" >&2
    return 1 2>/dev/null || exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
