#!/usr/bin/env bash
# What each tenant costs PostgreSQL when Marten's tenants are organisations, for docs/scaling.md:
#   - a LIST partition per tenant id of a tenanted table (what Marten's tenant partitioning creates), measured
#     at each count given: the time to add them, the catalog's rows, the memory one connection's relation cache
#     takes to run one organisation's statement and one statement over all of them, and the planning times;
#   - a database per tenant: the time and the disk one empty database with the service's schema takes.
# It runs as the postgres superuser in scratch databases it drops at the end; run ./build.sh --target=Publish first.
#   bench/tenancy-cost.sh [tenant counts…]   (default: 1000 10000; each partition costs more than the one before it,
#   so 100000 takes hours: docs/scaling.md extrapolates it from these two)
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 10000)
scratch=usage_slices_tenancy_cost
export PGOPTIONS="-c client_min_messages=warning"
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
sql() { as_postgres psql -X -q -At -v ON_ERROR_STOP=1 -d "$scratch" "$@"; }
as_postgres psql -X -q -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" -c "CREATE DATABASE $scratch"
trap 'as_postgres psql -X -q -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)"' EXIT

# The shape of a Marten document table, partitioned by tenant.
sql -c "CREATE TABLE doc (tenant_id varchar NOT NULL, id varchar NOT NULL, data jsonb NOT NULL,
  mt_last_modified timestamptz DEFAULT now(), mt_version uuid NOT NULL, mt_dotnet_type varchar,
  PRIMARY KEY (tenant_id, id)) PARTITION BY LIST (tenant_id)"
made=0
for n in "${counts[@]}"; do
  start=$(date +%s.%N)
  # 500 partitions a transaction: each one takes locks on its table, index and TOAST table until the commit.
  sql -c "DO \$\$ BEGIN FOR i IN $((made + 1))..$n LOOP
      EXECUTE format('CREATE TABLE doc_%s PARTITION OF doc FOR VALUES IN (%L)', i, 'org-' || i);
      IF i % 500 = 0 THEN COMMIT; END IF;
    END LOOP; END \$\$"
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  made=$n
  sql -c "INSERT INTO doc (tenant_id, id, data, mt_version) VALUES ('org-1', 'a', '{}', gen_random_uuid()) ON CONFLICT DO NOTHING"
  relations=$(sql -c "SELECT count(*) FROM pg_class")
  catalog=$(sql -c "SELECT pg_size_pretty(sum(pg_total_relation_size(oid))) FROM pg_class WHERE relnamespace = 'pg_catalog'::regnamespace")
  # A fresh connection each, running its statement twice: a cold plan (the connection's relation cache filled),
  # then a warm one; then the memory that cache holds. A statement over every partition locks each of them, so
  # past max_locks_per_transaction × connections it fails: that is reported as it is.
  measure() {
    sql -c "EXPLAIN (ANALYZE, SUMMARY) $1" -c "EXPLAIN (ANALYZE, SUMMARY) $1" \
      -c "SELECT pg_size_pretty(sum(total_bytes)) FROM pg_backend_memory_contexts WHERE name IN ('CacheMemoryContext', 'index info')" \
      2>&1 | grep -E "Planning Time|Execution Time|^[0-9]+ [kMG]?B|ERROR" | tr '\n' ' ' || true
  }
  one=$(measure "SELECT data FROM doc WHERE tenant_id = 'org-1' AND id = 'a'")
  all=$(measure "SELECT count(*) FROM doc WHERE id = 'a'")
  printf 'partitions=%-7s added_in_s=%-8.1f pg_class_rows=%-8s catalog=%-8s | one_org: %s| all_orgs: %s\n' \
    "$n" "$seconds" "$relations" "$catalog" "$one" "$all"
done

# A shard as the tenant, and each organisation's shard recorded: a row per organisation in the main database.
sql -c "CREATE TABLE placement (org_id varchar PRIMARY KEY, slug varchar NOT NULL UNIQUE, shard varchar NOT NULL)"
for n in "${counts[@]}" 100000 1000000; do
  sql -c "TRUNCATE placement" -c "INSERT INTO placement SELECT 'org-' || i, 'slug-' || i, 'shard-' || (i % 3 + 1) FROM generate_series(1, $n) i" -c "VACUUM ANALYZE placement"
  measured=$(sql -c "SELECT pg_size_pretty(pg_total_relation_size('placement'))" \
    -c "EXPLAIN (ANALYZE, SUMMARY) SELECT shard FROM placement WHERE org_id = 'org-77'" | grep -E "^[0-9]+ [kMG]?B|Execution Time" | tr '\n' ' ')
  printf 'placement_rows=%-8s size and lookup: %s\n' "$n" "$measured"
done

# A database per tenant: CREATE DATABASE copies template1, then the published service applies its schema to it
# (Marten's and Wolverine's: `db-apply`, as an operator would for each new tenant database).
one_tenant=${scratch}_one
as_postgres psql -X -q -c "DROP DATABASE IF EXISTS $one_tenant WITH (FORCE)"
start=$(date +%s.%N)
as_postgres psql -X -q -c "CREATE DATABASE $one_tenant OWNER usage_slices"
created=$(echo "$(date +%s.%N) - $start" | bc)
empty=$(as_postgres psql -X -At -c "SELECT pg_size_pretty(pg_database_size('$one_tenant'))")
start=$(date +%s.%N)
ConnectionStrings__Postgres="Host=localhost;Database=$one_tenant;Username=usage_slices;Password=usage_slices" \
  Auth__SigningKey=$(head -c 48 /dev/urandom | base64) dotnet artifacts/publish/UsageSlices.Api.dll db-apply >/dev/null
applied=$(echo "$(date +%s.%N) - $start" | bc)
IFS='|' read -r size relations < <(as_postgres psql -X -At -F '|' -d "$one_tenant" -c "SELECT pg_size_pretty(pg_database_size(current_database())),
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast'))")
as_postgres psql -X -q -c "DROP DATABASE $one_tenant WITH (FORCE)"
printf 'database_per_tenant: created_in_s=%.2f empty=%s db_apply_in_s=%.1f with_schema=%s relations=%s\n' "$created" "$empty" "$applied" "$size" "$relations"
