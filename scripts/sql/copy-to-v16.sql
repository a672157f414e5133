-- The time-series rows of this database copied into schema v16, which holds the schema of migration v16 (made by
-- `meter-gateway migrate --to-version 16` with search_path v16; scripts/bench.sh does both), so that
-- scripts/sql/bytes-per-meter-day.sql run with search_path v16 measures the v16 layout ON THE SAME DATA.
-- Run with: psql -X -q -v ON_ERROR_STOP=1 -f scripts/sql/copy-to-v16.sql "$conninfo"   (then VACUUM ANALYZE)
-- How v16 would have written them:
--   * rows in arrival order (received_at), as the ingest writer appended them: index pages split as they did;
--   * interval_readings one row per interval (the view over interval_days presents exactly the v16 table's rows);
--   * readings inserted unvalidated, then given their verdict by one UPDATE, as one validation pass does: in v16
--     `quality` was in the predicate of readings_suspect_idx, so that update could never be HOT and each reading
--     had two versions and two entries in every index until VACUUM (v19's reason); held_readings did not exist.
--     The verdicts come from the view readings_validated (v25 keeps them apart from the insert-only readings),
--     and so do the rows: the view presents source, protection and key_source as the words v16 stored (v28 stores
--     codes), whichever layout this database has.
-- Meters come along (foreign keys of uplink_frames and alarms); outage ids of alarms are dropped (no outages in
-- the copy; a NULL costs nothing there).
INSERT INTO v16.meters (id, protocol, address)
SELECT id, protocol, address FROM public.meters ORDER BY id;

INSERT INTO v16.readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, flow_ml_per_h, valve,
    battery_mv, temperature_centi_c, signal_dbm, status_bits, frame_counter, source, basis, storage, tariff, protection,
    key_source)
SELECT meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, flow_ml_per_h, valve, battery_mv,
    temperature_centi_c, signal_dbm, status_bits, frame_counter, source, basis, storage, tariff,
    protection::text::v16.protection_level, key_source
FROM public.readings_validated ORDER BY received_at, meter_id, read_at;
UPDATE v16.readings v SET quality = r.quality, reasons = r.reasons, validated_at = r.validated_at
FROM public.readings_validated r
WHERE r.validated_at IS NOT NULL AND (v.meter_id, v.read_at, v.kind, v.basis, v.storage, v.tariff)
    = (r.meter_id, r.read_at, r.kind, r.basis, r.storage, r.tariff);

INSERT INTO v16.interval_readings (meter_id, interval_start, interval_minutes, volume_ml, end_index_ml, received_at,
    protection, key_source)
SELECT meter_id, interval_start, interval_minutes, volume_ml, end_index_ml, received_at,
    protection::text::v16.protection_level, key_source
FROM public.interval_readings ORDER BY received_at, meter_id, interval_start;

INSERT INTO v16.uplink_frames (meter_id, frame_counter, frame_type, meter_time, received_at)
SELECT meter_id, frame_counter, frame_type, meter_time, received_at
FROM public.uplink_frames ORDER BY received_at, meter_id, frame_counter;

INSERT INTO v16.frame_identities (meter_id, kind, identity, fingerprint, source, first_received_at, stored_at)
SELECT meter_id, kind, identity, fingerprint, public.frame_source_name(source), first_received_at, stored_at
FROM public.frame_identities ORDER BY stored_at, first_received_at, meter_id;

INSERT INTO v16.alarms (id, meter_id, raised_at, received_at, source, raw_code, condition, is_cleared, priority, valve,
    detail, frame_counter, protection, key_source)
SELECT id, meter_id, raised_at, received_at, source, raw_code, condition, is_cleared, priority, valve, detail,
    frame_counter, protection::text::v16.protection_level, key_source
FROM public.alarms ORDER BY id;
