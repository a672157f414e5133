-- Bytes on disk of the time-series tables (heap, TOAST, free-space and visibility maps, every index; a partitioned
-- table counts all its partitions), per meter and per meter-day.
-- Run with: psql -X -q -f scripts/sql/bytes-per-meter-day.sql "$conninfo"
--   meters          meters with at least one reading or interval
--   meter_utc_days  distinct (meter, UTC day of readings.read_at or interval_readings.interval_start)
-- scripts/bench.sh sends each meter one day's report (48 half-hour points of yesterday, frozen totals) and then
-- readings, so there bytes per meter is the figure per meter-day: the machine-readable last line
--   bytes_per_meter_day <bytes / meters>
-- holds for such loads (one day per meter). For a database with many days per meter, use bytes per meter_utc_day.
-- Tables that do not exist in the schema version at hand are skipped (interval_readings is a table up to
-- migration v16, a view over interval_days from v17; held_readings exists from v19 to v24; reading_verdicts and
-- validated_reading_days, the verdicts kept apart from the insert-only readings, from v25; validated_reading_months
-- instead of validated_reading_days from v30).
\pset footer off
CREATE TEMP TABLE gw_size_tables ON COMMIT PRESERVE ROWS AS
SELECT t.name, (
    SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
    WHERE c.oid = to_regclass(t.name) OR c.oid IN (SELECT relid FROM pg_partition_tree(to_regclass(t.name)))
) AS bytes
FROM unnest(ARRAY['readings', 'held_readings', 'reading_verdicts', 'validated_reading_days', 'validated_reading_months',
    'interval_readings', 'interval_days', 'uplink_frames', 'frame_identities', 'alarms'])
    AS t (name)
WHERE (SELECT relkind FROM pg_class WHERE oid = to_regclass(t.name)) IN ('r', 'p');
CREATE TEMP TABLE gw_size_days ON COMMIT PRESERVE ROWS AS
SELECT count(DISTINCT meter_id) AS meters, count(*) AS meter_utc_days FROM (
    SELECT meter_id, (read_at AT TIME ZONE 'UTC')::date FROM readings
    UNION
    SELECT meter_id, (interval_start AT TIME ZONE 'UTC')::date FROM interval_readings
) AS d;
SELECT name AS "table", bytes,
    round(bytes::numeric / nullif(meters, 0)) AS bytes_per_meter,
    round(bytes::numeric / nullif(meter_utc_days, 0)) AS bytes_per_meter_utc_day
FROM gw_size_tables, gw_size_days
UNION ALL
SELECT 'total (' || meters || ' meters, ' || meter_utc_days || ' meter-UTC-days)', sum(bytes),
    round(sum(bytes)::numeric / nullif(meters, 0)), round(sum(bytes)::numeric / nullif(meter_utc_days, 0))
FROM gw_size_tables, gw_size_days GROUP BY meters, meter_utc_days;
\pset tuples_only on
\pset format unaligned
SELECT 'bytes_per_meter_day ' || round(sum(bytes)::numeric / nullif(meters, 0))
FROM gw_size_tables, gw_size_days GROUP BY meters;
DROP TABLE gw_size_tables, gw_size_days;
