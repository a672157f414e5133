extension Migrations {
    /// v30: the list of validated readings per channel and UTC **month** instead of per UTC day (issue 13 point 3,
    /// bytes per meter-day).
    ///
    /// v25's `validated_reading_days` kept one row per validated channel (meter, basis) and UTC day: a 24-byte tuple
    /// header, the key, `validated_at` and a 24-byte array header for what is, for a gas meter, usually one code (its
    /// daily frozen total) — about 145 B per channel-day with the primary key, more than the reading it lists. A
    /// daily report carries the frozen totals of three days, so a meter's first report made three such rows.
    ///
    /// * `validated_reading_months` (meter_id, basis, month; primary key on the three): `month` is the first day of
    ///   the UTC month (CHECK), `reads` the sorted codes of the month's validated readings (as before: µs since
    ///   1970 × 4 + kind), `validated_at` when the month's list last grew. Only billing-channel readings (storage 0,
    ///   tariff 0) are listed, as before.
    /// * A reading's quality is unchanged: its `reading_verdicts` row's if any; else valid (0, no reasons) if its
    ///   month lists it; else unvalidated (NULL). `validated_at` of a plainly valid reading is now its month's (when
    ///   the month's list last grew; before, its day's).
    /// * Month rows line up with the monthly partitions of `readings` (v23), so `storage maintain` drops a
    ///   partition's lists with it as it did the day rows.
    /// * Every day row's codes move into its month's row (`validated_at` the latest of the days'); the view
    ///   `readings_validated` is replaced in place (same columns, so its privileges stay) and the new table gets
    ///   the old one's privileges.
    static let v30 = Migration(
        version: 30,
        name: "validated reading lists per channel and UTC month",
        sql: """
            CREATE TABLE validated_reading_months (
                meter_id bigint NOT NULL,
                validated_at timestamptz NOT NULL,
                month date NOT NULL CONSTRAINT validated_reading_months_month_start CHECK (extract(day FROM month) = 1),
                basis smallint NOT NULL,
                reads bigint[] NOT NULL,
                PRIMARY KEY (meter_id, basis, month)
            );
            INSERT INTO validated_reading_months (meter_id, basis, month, reads, validated_at)
            SELECT d.meter_id, d.basis, d.day - (extract(day FROM d.day)::integer - 1),
                array_agg(c.code ORDER BY c.code), max(d.validated_at)
            FROM validated_reading_days d
            CROSS JOIN LATERAL unnest(d.reads) AS c (code)
            GROUP BY 1, 2, 3
            ORDER BY 1, 2, 3;

            CREATE OR REPLACE VIEW readings_validated AS
            SELECT r.meter_id, r.read_at, r.received_at, r.volume_ml, r.register_modulus_ml, r.status_bits,
                r.flow_ml_per_h, r.frame_counter, reading_protection(r.protection_flags) AS protection, r.battery_mv,
                r.temperature_centi_c, r.signal_dbm::integer AS signal_dbm, r.kind, r.valve, r.basis, r.storage, r.tariff,
                frame_source_name(r.source) AS source, reading_key_source(r.protection_flags) AS key_source,
                coalesce(v.quality, CASE WHEN d.meter_id IS NOT NULL THEN 0::smallint END) AS quality,
                CASE WHEN v.meter_id IS NOT NULL THEN v.reasons WHEN d.meter_id IS NOT NULL THEN '{}'::text[] END
                    AS reasons,
                CASE WHEN v.meter_id IS NOT NULL THEN v.validated_at ELSE d.validated_at END AS validated_at
            FROM readings r
            LEFT JOIN validated_reading_months d ON r.storage = 0 AND r.tariff = 0 AND d.meter_id = r.meter_id
                AND d.basis = r.basis AND d.month = date_trunc('month', r.read_at AT TIME ZONE 'UTC')::date
                AND (extract(epoch FROM r.read_at) * 1000000)::bigint * 4 + r.kind = ANY (d.reads)
            LEFT JOIN reading_verdicts v ON r.storage = 0 AND r.tariff = 0 AND v.meter_id = r.meter_id
                AND v.read_at = r.read_at AND v.kind = r.kind AND v.basis = r.basis;

            DO $$
            DECLARE
                grant_row record;
            BEGIN
                FOR grant_row IN
                    SELECT a.privilege_type, a.grantee
                    FROM aclexplode((SELECT relacl FROM pg_class WHERE oid = 'validated_reading_days'::regclass)) AS a
                    WHERE a.grantee <> (SELECT relowner FROM pg_class WHERE oid = 'validated_reading_days'::regclass)
                LOOP
                    EXECUTE format('GRANT %s ON validated_reading_months TO %s', grant_row.privilege_type,
                        CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(grant_row.grantee::regrole::text) END);
                END LOOP;
            END
            $$;
            DROP TABLE validated_reading_days;
            ANALYZE validated_reading_months;
            """
    )
}
