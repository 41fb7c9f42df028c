#!/usr/bin/env bash
# Installs Chromium from Debian's packages for the browser test (tests/test_ui_in_browser.py),
# only when /usr/bin/chromium is missing. Idempotent; needs root (or sudo) to install.
# Playwright drives this binary through executable_path: its own browser download is not used.
set -euo pipefail

if [ -x /usr/bin/chromium ] || { [ -n "${SPARKIFY_CHROMIUM:-}" ] && [ -x "$SPARKIFY_CHROMIUM" ]; }; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing and apt-get is not available: install Chromium and set" \
       "SPARKIFY_CHROMIUM to its binary" >&2
  exit 1
fi
sudo_if_needed=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_if_needed=(sudo)
fi
echo "== installing chromium (apt)"
export DEBIAN_FRONTEND=noninteractive
"${sudo_if_needed[@]}" apt-get update -qq
"${sudo_if_needed[@]}" apt-get install -y -qq chromium >/dev/null
test -x /usr/bin/chromium
