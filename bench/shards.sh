#!/usr/bin/env bash
# Record-mode tracks over 1,000 organisations spread on three databases (docs/scaling.md) against the same on one
# database, in one invocation: both services run side by side and the scenario alternates between them (one,
# three, three, one), so the machine's drift falls on both alike. All three databases are on this machine's one
# PostgreSQL, so the ratio shows what routing over shards costs, not what separate servers would gain.
# bench/run.sh (the Bench target) runs it; alone: ./build.sh --target=Publish && bench/shards.sh
# Writes the figures to artifacts/bench/shards.txt and the table rows of docs/benchmarks.md to artifacts/bench/shards.rows.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export BENCH_SCRIPTS="$root/bench/scripts"
duration=${BENCH_DURATION:-10}
warmup=${BENCH_WARMUP:-3}
out="$root/artifacts/bench"
mkdir -p "$out"
export PGHOST=localhost PGUSER=usage_slices PGPASSWORD=usage_slices
database() { echo "Host=localhost;Port=5432;Database=$1;Username=usage_slices;Password=usage_slices;Maximum Pool Size=$pool"; }
# The same pool for every database of both services: 4 × 20 connections, with the probes, fit PostgreSQL's 100.
pool=20

wait_ready() {
  for _ in $(seq 1 300); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "not ready: $1" >&2; return 1
}

for db in usage_slices_bench usage_slices_bench_shard2 usage_slices_bench_shard3; do
  PGDATABASE=$db psql -q -c "DROP SCHEMA IF EXISTS usage_slices_bench_one CASCADE; DROP SCHEMA IF EXISTS usage_slices_bench_three CASCADE" 2>/dev/null
done

key=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export ASPNETCORE_ENVIRONMENT=Production Auth__SigningKey="$key" RateLimiting__PermitsPerSecond=0 Logging__LogLevel__Default=Warning \
  DOTNET_EnableWriteXorExecute=0
one="http://127.0.0.1:5201" three="http://127.0.0.1:5202"
ConnectionStrings__Postgres="$(database usage_slices_bench)" Database__Schema=usage_slices_bench_one Management__Urls=http://127.0.0.1:5211 \
  dotnet "$root/artifacts/publish/UsageSlices.Api.dll" --urls $one > "$out/shards-one.log" 2>&1 &
one_pid=$!
ConnectionStrings__Postgres="$(database usage_slices_bench)" Database__Shards__shard2="$(database usage_slices_bench_shard2)" \
  Database__Shards__shard3="$(database usage_slices_bench_shard3)" Database__Schema=usage_slices_bench_three Management__Urls=http://127.0.0.1:5212 \
  dotnet "$root/artifacts/publish/UsageSlices.Api.dll" --urls $three > "$out/shards-three.log" 2>&1 &
three_pid=$!
trap 'kill $one_pid $three_pid 2>/dev/null || true' EXIT
wait_ready $one/health/ready
wait_ready $three/health/ready
token=$(cd "$root/artifacts/publish" && ConnectionStrings__Postgres="$(database usage_slices_bench)" Database__Schema=usage_slices_bench_one \
  dotnet UsageSlices.Api.dll token --scopes usage:admin --sub bench --hours 2 2>/dev/null | tail -n 1)

# The same 1,000 organisations in each; the sharded service places them a third in each database (the emptiest first).
register() { curl -sf -X PUT "$1/api/v1/organisations/$2" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "{\"slug\":\"$2\",\"name\":\"$2\",\"tier\":\"pro\"}" >/dev/null; }
export -f register; export token
for service in $one $three; do
  seq 1 1000 | sed 's/^/bench-/' | xargs -P 8 -I{} bash -c "register $service {}"
done
placed=$(PGDATABASE=usage_slices_bench psql -Atc "SELECT string_agg(shard || ' ' || n, ', ' ORDER BY shard) FROM (SELECT data->>'shard' AS shard, count(*) AS n FROM usage_slices_bench_three.mt_doc_organisationplacement GROUP BY 1) p")

# Transactions committed in the three databases (the group commit's groups, and Wolverine's few polls a second).
commits() { PGDATABASE=usage_slices_bench psql -Atc "SELECT sum(xact_commit) FROM pg_stat_database WHERE datname LIKE 'usage_slices_bench%'"; }
declare -A rps p50 p99 errors per_commit
measure() { # name, service
  local name=$1 url=$2 line before requests
  env TOKEN="$token" ORGS=1000 wrk -t2 -c32 -d${warmup}s --timeout 30s -s "$BENCH_SCRIPTS/track.lua" "$url" >/dev/null 2>&1
  before=$(commits)
  line=$(env TOKEN="$token" ORGS=1000 wrk -t2 -c32 -d${duration}s --timeout 30s --latency -s "$BENCH_SCRIPTS/track.lua" "$url" 2>&1 | grep '^RESULT')
  requests=$(sed -n 's/.* requests=\([^ ]*\).*/\1/p' <<< " $line")
  local grouped; grouped=$(awk -v r="$requests" -v c="$(( $(commits) - before ))" 'BEGIN { printf "%.1f", r / c }')
  per_commit[$name]+="$grouped "
  echo "$name $line tracks_per_commit=$grouped" | tee -a "$out/shards.txt"
  rps[$name]+="$(sed -n 's/.* rps=\([^ ]*\).*/\1/p' <<< " $line") "
  p50[$name]+="$(sed -n 's/.* p50_ms=\([^ ]*\).*/\1/p' <<< " $line") "
  p99[$name]+="$(sed -n 's/.* p99_ms=\([^ ]*\).*/\1/p' <<< " $line") "
  errors[$name]+="$(sed -n 's/.* errors=\([^ ]*\).*/\1/p' <<< " $line") "
}
: > "$out/shards.txt"
# A fresh process runs code the JIT has not optimised yet for its first seconds: warm both, uncounted.
for service in $one $three; do
  env TOKEN="$token" ORGS=1000 wrk -t2 -c32 -d15s --timeout 30s -s "$BENCH_SCRIPTS/track.lua" "$service" >/dev/null 2>&1
done
measure one $one
measure three $three
measure three $three
measure one $one

mean() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.1f", s / NF }' <<< "$1"; }
ratio=$(awk -v a="$(mean "${rps[three]}")" -v b="$(mean "${rps[one]}")" 'BEGIN { printf "%.2f", a / b }')
cat > "$out/shards.rows" <<ROWS
| track, record mode, 1,000 organisations on one database | $(mean "${rps[one]}") (runs: ${rps[one]% }) | $(mean "${p50[one]}") | $(mean "${p99[one]}") | ${errors[one]% } | $(mean "${per_commit[one]}") | — |
| the same on three databases of one PostgreSQL ($placed) | $(mean "${rps[three]}") (runs: ${rps[three]% }) | $(mean "${p50[three]}") | $(mean "${p99[three]}") | ${errors[three]% } | $(mean "${per_commit[three]}") | $ratio × one database |
ROWS
cat "$out/shards.rows"
