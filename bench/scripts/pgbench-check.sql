-- What a check asks PostgreSQL when its organisation's catalog is held in memory (the steady state): one statement,
-- the catalog's version and the counter's document, two primary-key reads, prepared as the service's are. The
-- bound of the check's rate (and of the limits page's, which reads seven counters in the same statement).
\set org random(1, 1000)
SELECT v.version, c.data FROM bench_catalog_version v LEFT JOIN bench_counters c ON c.org = 'bench-' || :org AND c.feature = 'AI_MESSAGES' AND c.period = current_date;
