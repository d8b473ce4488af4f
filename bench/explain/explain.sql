\pset pager off
-- A: today's path, the event store itself (no index on the organisation)
\echo A1 event log first page, organisation with 10^6 events
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT data FROM events WHERE type = 'usage_recorded' AND data ->> 'orgId' = 'big' ORDER BY seq_id DESC LIMIT 100;
\echo A1s event log first page, organisation with 10^3 events
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT data FROM events WHERE type = 'usage_recorded' AND data ->> 'orgId' = 'org-17' ORDER BY seq_id DESC LIMIT 100;
\echo A2 hourly history, 10^6 events
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT date_trunc('hour', (data ->> 'occurredAt')::timestamptz, 'UTC'), sum((data ->> 'quantity')::bigint) FROM events WHERE type = 'usage_recorded' AND data ->> 'orgId' = 'big' AND data ->> 'feature' = 'AI_MESSAGES' GROUP BY 1;
\echo A3 runbook count of the last hour
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT count(*) FROM events WHERE type = 'usage_recorded' AND "timestamp" > timestamptz '2026-12-01 23:00';
-- B: a flat, indexed table
\echo B1 event log first page, 10^6 events
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM flat WHERE org_id = 'big' AND occurred_at >= '2026-11-03' AND occurred_at < '2026-12-03' ORDER BY occurred_at DESC, event_id DESC LIMIT 101;
SELECT occurred_at AS c_at, event_id AS c_id FROM flat WHERE org_id = 'big' ORDER BY occurred_at DESC, event_id DESC OFFSET 999000 LIMIT 1 \gset
\echo B1d event log deep page (after 999,000 events), 10^6 events
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM flat WHERE org_id = 'big' AND occurred_at >= '2026-11-03' AND occurred_at < '2026-12-03' AND (occurred_at, event_id) < (:'c_at', :'c_id') ORDER BY occurred_at DESC, event_id DESC LIMIT 101;
\echo B1s event log first page, 10^3 events
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM flat WHERE org_id = 'org-17' AND occurred_at >= '2026-11-03' AND occurred_at < '2026-12-03' ORDER BY occurred_at DESC, event_id DESC LIMIT 101;
\echo B2 hourly history from the flat table, 10^6 events
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT date_trunc('hour', occurred_at, 'UTC'), sum(quantity) FROM flat WHERE org_id = 'big' AND feature = 'AI_MESSAGES' AND occurred_at >= '2026-11-03' AND occurred_at < '2026-12-03' GROUP BY 1;
\echo B2g history grouped by a property from the flat table, 10^6 events
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT date_trunc('hour', occurred_at, 'UTC'), properties ->> 'model', sum(quantity) FROM flat WHERE org_id = 'big' AND feature = 'AI_MESSAGES' AND occurred_at >= '2026-11-03' AND occurred_at < '2026-12-03' GROUP BY 1, 2;
\echo B3 runbook count of the last hour
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT count(*) FROM flat WHERE recorded_at > timestamptz '2026-12-01 23:00';
-- C: the hourly rollup
\echo C2 hourly history from the rollup, 10^6 events
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT hour, quantity FROM hourly WHERE org_id = 'big' AND feature = 'AI_MESSAGES' AND hour >= '2026-11-03' AND hour < '2026-12-03';
\echo C2s hourly history from the rollup, 10^3 events
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT hour, quantity FROM hourly WHERE org_id = 'org-17' AND feature = 'AI_MESSAGES' AND hour >= '2026-11-03' AND hour < '2026-12-03';
