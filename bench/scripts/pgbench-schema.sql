-- The SQL equivalent of one tracked event, for pgbench: an append-only event row and a per-period counter;
-- and of one check: the catalog's version and the counter's document.
DROP TABLE IF EXISTS bench_events, bench_counters, bench_orgs, bench_catalog_version;
CREATE TABLE bench_events (id bigserial PRIMARY KEY, org text NOT NULL, feature text NOT NULL, quantity bigint NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE bench_counters (org text, feature text, period date, used bigint NOT NULL, data jsonb, PRIMARY KEY (org, feature, period));
CREATE TABLE bench_catalog_version (id int PRIMARY KEY, version bigint NOT NULL);
INSERT INTO bench_catalog_version VALUES (1, 1);
-- What the check's bound reads: a counter per organisation, its document the size of the service's.
CREATE OR REPLACE FUNCTION bench_fill_counters() RETURNS void LANGUAGE sql AS $$
  INSERT INTO bench_counters
  SELECT 'bench-' || i, 'AI_MESSAGES', current_date, 1,
         jsonb_build_object('id', 'bench-' || i || ':AI_MESSAGES:month:' || current_date, 'orgId', 'bench-' || i, 'feature', 'AI_MESSAGES',
                            'used', 1, 'reserved', 0, 'announced', '[]'::jsonb, 'periodStart', current_date, 'periodEnd', current_date + 30)
  FROM generate_series(1, 1000) AS i;
$$;
