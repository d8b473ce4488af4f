-- The SQL equivalent of one tracked event, for pgbench: an append-only event row and a per-period counter;
-- and of one check: the organisation's row, then its counter's.
DROP TABLE IF EXISTS bench_events, bench_counters, bench_orgs;
CREATE TABLE bench_events (id bigserial PRIMARY KEY, org text NOT NULL, feature text NOT NULL, quantity bigint NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE bench_counters (org text, feature text, period date, used bigint NOT NULL, PRIMARY KEY (org, feature, period));
CREATE TABLE bench_orgs (org text PRIMARY KEY, tier text NOT NULL, anchor_day int NOT NULL);
INSERT INTO bench_orgs SELECT 'bench-' || i, 'bench', 1 FROM generate_series(1, 1000) AS i;
