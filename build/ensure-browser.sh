#!/usr/bin/env bash
# Makes Debian's Chromium ready for the dashboard's browser tests (no test tool may download a browser here).
# Idempotent and prompt-free.
set -euo pipefail

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-browser: installing Chromium from Debian's packages"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
echo "ensure-browser: $(/usr/bin/chromium --version 2>/dev/null)"
