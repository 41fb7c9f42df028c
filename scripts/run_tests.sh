#!/usr/bin/env bash
# Installs everything (the project, its test tools, Chromium for the browser test), then runs every
# check CI runs: lint, format, types, Dagster definitions, the whole test suite.
set -euo pipefail
source "$(dirname "$0")/ensure_venv.sh"
bash scripts/install_chromium.sh  # Debian's Chromium for the browser test, when missing

echo "== ruff"; ruff check . && ruff format --check .
echo "== mypy"; mypy
echo "== dagster definitions"; dagster definitions validate -m sparkify_assets.definitions
echo "== pytest"; pytest "$@"
