\set org 0
BEGIN;
INSERT INTO bench_events (org, feature, quantity, created_at) VALUES ('bench-' || :org, 'AI_MESSAGES', 1, now());
INSERT INTO bench_counters (org, feature, period, used) VALUES ('bench-' || :org, 'AI_MESSAGES', current_date, 1)
  ON CONFLICT (org, feature, period) DO UPDATE SET used = bench_counters.used + 1;
END;
