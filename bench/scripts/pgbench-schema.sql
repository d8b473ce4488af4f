-- The SQL equivalent of one tracked event, for pgbench: an append-only event row and a per-period counter.
DROP TABLE IF EXISTS bench_events, bench_counters;
CREATE TABLE bench_events (id bigserial PRIMARY KEY, org text NOT NULL, feature text NOT NULL, quantity bigint NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE bench_counters (org text, feature text, period date, used bigint NOT NULL, PRIMARY KEY (org, feature, period));
