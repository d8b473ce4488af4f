-- What a check asks PostgreSQL, at the least: two primary-key reads in two round trips (the counter's key
-- depends on the organisation's billing anchor), prepared as the service's are. The bound of the check's rate.
\set org random(1, 1000)
SELECT tier, anchor_day FROM bench_orgs WHERE org = 'bench-' || :org;
SELECT used FROM bench_counters WHERE org = 'bench-' || :org AND feature = 'AI_MESSAGES' AND period = current_date;
