#!/usr/bin/env bash
# Makes a local PostgreSQL ready for UsageSlices: installs it from Debian's packages if missing,
# starts it, and creates the app role and its databases. Idempotent and prompt-free.
# When ConnectionStrings__Postgres is set, that server is used as it is and nothing is installed.
set -euo pipefail

if [ -n "${ConnectionStrings__Postgres:-}" ]; then
  echo "ensure-database: using ConnectionStrings__Postgres; nothing to install."
  exit 0
fi

role="usage_slices"
# The operators' read-only role: the runbook's monitoring SQL runs as it, without the service's rights.
reader="usage_slices_reader"
# A database's search_path names the schema of the service that last migrated it (the runbook's SQL needs it), so the
# tests that db-assert it have databases of their own: the commands' test, and the three of the shards' tests
# (docs/scaling.md). The Bench's shard row (bench/shards.sh) spreads organisations over usage_slices_bench and two more.
databases=("usage_slices" "usage_slices_tests" "usage_slices_tests_commands" "usage_slices_tests_shard1" "usage_slices_tests_shard2" "usage_slices_tests_shard3" "usage_slices_tests_shard4" "usage_slices_bench" "usage_slices_bench_shard2" "usage_slices_bench_shard3")
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  echo "ensure-database: installing PostgreSQL from Debian's packages"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql postgresql-contrib
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
  "${sudo_cmd[@]}" pg_createcluster "$version" main
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  echo "ensure-database: starting PostgreSQL $version"
  # After an unclean stop (a machine killed mid-run) PostgreSQL replays its WAL before it accepts
  # connections; after a benchmark that can take minutes, far beyond pg_ctl's default 60 s wait.
  "${sudo_cmd[@]}" pg_ctlcluster "$version" main start -- -t 900
fi

for _ in $(seq 1 60); do
  pg_isready -q -h localhost && break
  sleep 0.5
done
pg_isready -h localhost

as_postgres() { "${sudo_cmd[@]}" runuser -u postgres -- "$@"; }

if [ "$(as_postgres psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != "1" ]; then
  as_postgres psql -q -c "CREATE ROLE $role LOGIN PASSWORD '$role'"
fi
if [ "$(as_postgres psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$reader'")" != "1" ]; then
  as_postgres psql -q -c "CREATE ROLE $reader LOGIN PASSWORD '$reader' IN ROLE pg_read_all_data"
fi
for db in "${databases[@]}"; do
  if [ "$(as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
    as_postgres createdb -O "$role" "$db"
  fi
done
echo "ensure-database: PostgreSQL $version ready; role $role owns ${databases[*]}; $reader reads them"
