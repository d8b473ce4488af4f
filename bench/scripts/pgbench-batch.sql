-- A 1,000-event batch over random organisations as PostgreSQL does it best: set-based, two statements in one
-- transaction, without idempotency keys or per-stream versions; counters upserted in key order, as the service
-- locks its streams, so that concurrent batches cannot deadlock. A bound, not a like-for-like baseline.
BEGIN;
WITH batch AS (
  SELECT 'bench-' || (1 + floor(random() * 1000))::int AS org FROM generate_series(1, 1000)
), inserted AS (
  INSERT INTO bench_events (org, feature, quantity, created_at) SELECT org, 'AI_MESSAGES', 1, now() FROM batch RETURNING org
)
INSERT INTO bench_counters (org, feature, period, used)
  SELECT org, 'AI_MESSAGES', current_date, count(*) FROM inserted GROUP BY org ORDER BY org
  ON CONFLICT (org, feature, period) DO UPDATE SET used = bench_counters.used + excluded.used;
END;
