#!/usr/bin/env bash
# Makes Node.js 20 or later and npm ready for the TypeScript client's build and tests: installs Debian's packages
# when node is missing. Idempotent and prompt-free.
set -euo pipefail

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "ensure-node: installing Node.js and npm from Debian's packages"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
fi

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "ensure-node: Node.js $(node --version) is too old; the TypeScript client needs 20 or later (its fetch and test runner)." >&2
  exit 1
fi
echo "ensure-node: Node.js $(node --version), npm $(npm --version)"
