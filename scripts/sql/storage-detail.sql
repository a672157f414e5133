-- Where the bytes of the time-series tables go: per relation (a partition counts on its own) its heap, TOAST,
-- free-space + visibility maps and each index, with live and dead tuples (pg_stat_user_tables; run ANALYZE or
-- VACUUM first for fresh counts) and heap bytes per live row.
-- Run with: psql -X -q -f scripts/sql/storage-detail.sql "$conninfo"
\pset footer off
WITH tables AS (
    SELECT c.oid, c.relname, c.reltoastrelid
    FROM pg_class c
    WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
        AND (c.relname IN ('readings', 'interval_days', 'uplink_frames', 'frame_identities', 'held_readings', 'alarms',
                'reading_verdicts', 'validated_reading_days', 'validated_reading_months')
            OR c.oid IN (SELECT inhrelid FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                WHERE p.relname IN ('readings', 'interval_days', 'uplink_frames', 'frame_identities')))
)
SELECT t.relname AS relation, 'heap' AS part, pg_relation_size(t.oid) AS bytes,
    s.n_live_tup AS live, s.n_dead_tup AS dead,
    round(pg_relation_size(t.oid)::numeric / nullif(s.n_live_tup, 0)) AS bytes_per_live_row
FROM tables t LEFT JOIN pg_stat_user_tables s ON s.relid = t.oid
UNION ALL
SELECT t.relname, 'fsm+vm', pg_relation_size(t.oid, 'fsm') + pg_relation_size(t.oid, 'vm'), NULL, NULL, NULL
FROM tables t
UNION ALL
SELECT t.relname, 'toast', coalesce(pg_total_relation_size(nullif(t.reltoastrelid, 0)), 0), NULL, NULL, NULL
FROM tables t
UNION ALL
SELECT t.relname, 'index ' || i.indexrelid::regclass::text, pg_relation_size(i.indexrelid), NULL, NULL,
    round(pg_relation_size(i.indexrelid)::numeric / nullif(s.n_live_tup, 0))
FROM tables t JOIN pg_index i ON i.indrelid = t.oid LEFT JOIN pg_stat_user_tables s ON s.relid = t.oid
ORDER BY 1, 2;
