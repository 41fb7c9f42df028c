#!/usr/bin/env bash
# Builds the whole warehouse (all tables, every log date, all checks) on the embedded PostgreSQL
# from the sample data, installing everything first. Extra arguments go to `sparkify build`.
set -euo pipefail
source "$(dirname "$0")/ensure_venv.sh"
exec sparkify build "$@"
