#!/usr/bin/env bash
# A/B of two published builds of the service on the data the last Bench run left (1,000 organisations in
# schema usage_slices_bench): rounds that alternate A and B, each measuring the same scenarios, so that the
# machine's drift falls on both alike. Each line also gives the service's own CPU time per request (from
# /proc/PID/stat), which a noisy neighbour changes far less than it changes the rate (A B, then B A: whichever runs second inherits the first's vacuum and checkpoints). Run ./build.sh --target=Bench first (it leaves the data and the tools).
#   bench/ab.sh <folder of published build A> <folder of published build B> [rounds]
#   SCENARIOS="check limits track_record" (the default) chooses the scenarios, in order; track_enforce and
#   reserve_commit (calls, two per unit of work) are the others.
#   ENV_A / ENV_B="Key=value …" run one side with settings of its own: one build, two settings, e.g.
#   ENV_A='ConnectionStrings__Postgres=…;Maximum Pool Size=40' bench/ab.sh artifacts/publish artifacts/publish
set -euo pipefail
cd "$(dirname "$0")/.."
a=$(realpath "$1") b=$(realpath "$2") rounds=${3:-2}
export BENCH_SCRIPTS="$PWD/bench/scripts"
service="http://127.0.0.1:5200"
export ConnectionStrings__Postgres="Host=localhost;Port=5432;Database=usage_slices_bench;Username=usage_slices;Password=usage_slices"
export Database__Schema=usage_slices_bench ASPNETCORE_ENVIRONMENT=Production DOTNET_EnableWriteXorExecute=0
export Auth__SigningKey=$(head -c 48 /dev/urandom | base64) RateLimiting__PermitsPerSecond=0

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Statements PostgreSQL ran per request, where pg_stat_statements is loaded (shared_preload_libraries; see
# docs/benchmarks.md): the bench database's, Wolverine's polling included (a few a second).
export PGHOST=localhost PGUSER=usage_slices PGPASSWORD=usage_slices PGDATABASE=usage_slices_bench
statements() {
  psql -Atc "SELECT sum(calls) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())" 2>/dev/null || true
}
reset_statements() { psql -Atc "SELECT pg_stat_statements_reset()" >/dev/null 2>&1 || true; }

run() { # build, scenario, script, extra environment…
  local build=$1 name=$2 script=$3; shift 3
  # The scenario itself first, uncounted: the first seconds after a start still run tier-0 code.
  env "$@" wrk -t2 -c32 -d8s --timeout 30s -s "$BENCH_SCRIPTS/$script" $service >/dev/null 2>&1
  local line before after requests
  reset_statements
  before=$(cpu_ticks $pid)
  line=$(env "$@" wrk -t2 -c32 -d8s --timeout 30s -s "$BENCH_SCRIPTS/$script" $service 2>&1 | grep '^RESULT')
  after=$(cpu_ticks $pid)
  requests=$(sed -n 's/.*requests=\([^ ]*\).*/\1/p' <<< " $line")
  local ran; ran=$(statements)
  printf '%s %-13s rps=%-8s p99_ms=%-8s cpu_us_per_request=%-6s statements_per_request=%s\n' "$build" "$name" \
    "$(sed -n 's/.* rps=\([^ ]*\).*/\1/p' <<< " $line")" "$(sed -n 's/.* p99_ms=\([^ ]*\).*/\1/p' <<< " $line")" \
    "$(( (after - before) * 1000000 / $(getconf CLK_TCK) / requests ))" \
    "$([ -n "$ran" ] && awk -v s="$ran" -v r="$requests" 'BEGIN { printf "%.2f", s / r }' || echo n/a)"
}

for round in $(seq 1 "$rounds"); do
  order="A B"; [ $((round % 2)) -eq 0 ] && order="B A"
  for build in $order; do
    folder=$a settings=${ENV_A:-}; [ "$build" = B ] && folder=$b settings=${ENV_B:-}
    # shellcheck disable=SC2086 # the settings are words on purpose
    env $settings dotnet "$folder/UsageSlices.Api.dll" --urls $service >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do curl -sf $service/health/ready >/dev/null 2>&1 && break; sleep 0.1; done
    token=$(cd "$folder" && dotnet UsageSlices.Api.dll token --scopes usage:admin --sub bench --hours 1 2>/dev/null | tail -n 1)
    # Warm up as the Bench target does (JIT tiers, pools, prepared statements), uncounted.
    env TOKEN="$token" ORGS=1000 wrk -t2 -c32 -d12s --timeout 30s -s "$BENCH_SCRIPTS/track.lua" $service >/dev/null 2>&1
    env TOKEN="$token" ORGS=1000 wrk -t2 -c32 -d5s --timeout 30s -s "$BENCH_SCRIPTS/read.lua" $service >/dev/null 2>&1
    for scenario in ${SCENARIOS:-check limits track_record}; do
      case $scenario in
        check) run $build check read.lua TOKEN="$token" ORGS=1000 ;;
        limits) run $build limits read.lua TOKEN="$token" ORGS=1000 LIMITS=1 ;;
        track_record) run $build track_record track.lua TOKEN="$token" ORGS=1000 ;;
        track_enforce) run $build track_enforce track.lua TOKEN="$token" ORGS=1000 ENFORCE=1 ;;
        reserve_commit) run $build reserve_commit reserve_commit.lua TOKEN="$token" ORGS=1000 ;;
      esac
    done
    kill $pid; wait $pid 2>/dev/null || true
  done
done
