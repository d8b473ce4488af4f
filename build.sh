#!/usr/bin/env bash
# Cake bootstrap: restore the local tools (Cake among them), then run build.cake with the given arguments.
#   ./build.sh --target=Run    set up PostgreSQL and run the service on http://localhost:3000
#   ./build.sh --target=Test   set up PostgreSQL and run every test (the default target)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet tool restore >/dev/null

summary=artifacts/test-results/summary.txt
rm -f "$summary"
status=0
dotnet cake build.cake "$@" || status=$?
# The test tasks write 'N passed, N failed'; it is the closing line of the run.
[ -f "$summary" ] && cat "$summary"
exit "$status"
