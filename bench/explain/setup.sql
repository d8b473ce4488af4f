\timing on
DROP TABLE IF EXISTS flat, events, hourly;
-- 10^7 events: organisation 'big' has 10^6 in the current month, 9,000 others have 1,000 each.
CREATE UNLOGGED TABLE flat AS
SELECT g AS seq,
       gen_random_uuid() AS event_id,
       CASE WHEN g <= 1000000 THEN 'big' ELSE 'org-' || (g % 9000) END AS org_id,
       CASE WHEN g % 10 < 7 THEN 'AI_MESSAGES' ELSE 'DOCUMENT_SCANS' END AS feature,
       1 + (g % 5)::bigint AS quantity,
       timestamptz '2026-11-03' + (g % 2500000) * interval '1 second' AS occurred_at,
       timestamptz '2026-11-03' + (g % 2500000) * interval '1 second' AS recorded_at,
       jsonb_build_object('model', (ARRAY['gpt-a','gpt-b','gpt-c'])[1 + g % 3]) AS properties
FROM generate_series(1, 10000000) g;
CREATE UNLOGGED TABLE events AS
SELECT seq AS seq_id, gen_random_uuid() AS id,
       org_id || ':' || feature || ':month:2026-11-03' AS stream_id, seq AS version,
       jsonb_build_object('eventId', event_id, 'orgId', org_id, 'feature', feature, 'quantity', quantity,
                          'occurredAt', occurred_at, 'recordedAt', recorded_at, 'periodStart', '2026-11-03T00:00:00Z',
                          'periodEnd', '2026-12-03T00:00:00Z', 'properties', properties) AS data,
       'usage_recorded'::varchar AS type, recorded_at AS "timestamp", '*DEFAULT*'::varchar AS tenant_id,
       'UsageSlices.Domain.Usage.UsageRecorded, UsageSlices.Api'::varchar AS mt_dotnet_type, false AS is_archived
FROM flat;
ALTER TABLE events ADD PRIMARY KEY (seq_id);
CREATE UNIQUE INDEX ON events (stream_id, version);
ALTER TABLE flat ADD PRIMARY KEY (event_id);
CREATE INDEX flat_org ON flat (org_id, occurred_at DESC, seq DESC);
CREATE INDEX flat_org_feature ON flat (org_id, feature, occurred_at DESC, seq DESC);
CREATE INDEX flat_recorded ON flat (recorded_at, seq);
CREATE UNLOGGED TABLE hourly AS
SELECT org_id, feature, date_trunc('hour', occurred_at) AS hour, sum(quantity)::bigint AS quantity FROM flat GROUP BY 1, 2, 3;
ALTER TABLE hourly ADD PRIMARY KEY (org_id, feature, hour);
VACUUM ANALYZE flat; VACUUM ANALYZE events; VACUUM ANALYZE hourly;
SELECT pg_size_pretty(pg_total_relation_size('events')) events, pg_size_pretty(pg_total_relation_size('flat')) flat, pg_size_pretty(pg_total_relation_size('hourly')) hourly, (SELECT count(*) FROM hourly) hourly_rows;
