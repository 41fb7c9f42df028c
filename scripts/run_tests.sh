#!/usr/bin/env bash
# Installs everything, then runs every check CI runs: lint, format, types, Dagster definitions, tests.
set -euo pipefail
source "$(dirname "$0")/ensure_venv.sh"

echo "== ruff"; ruff check . && ruff format --check .
echo "== mypy"; mypy
echo "== dagster definitions"; dagster definitions validate -m sparkify_assets.definitions
echo "== pytest"; pytest "$@"
