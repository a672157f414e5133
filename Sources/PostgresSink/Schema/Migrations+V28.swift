extension Migrations {
    /// v28: the smallest `readings` row the domain allows (issue 13 point 3, bytes per meter-day).
    ///
    /// * `source` becomes a `smallint` code as `frame_identities.source` (v26: 1 native, 2 cjt188, 3 wmbus, 4 mbus;
    ///   `frame_source_name(smallint)` gives the word). A source outside these refuses the migration.
    /// * `protection` and `key_source` become one `smallint`, `protection_flags`, coded as `interval_days` codes a
    ///   point (v17's `interval_point_flags(protection, key_source, 0)`): bits 0–1 the level (0 plain, 1 encrypted,
    ///   2 authenticated), bits 2–3 the key (0 none, 1 meter, 2 default). `reading_protection(smallint)` and
    ///   `reading_key_source(smallint)` give the enum and the word back. The CHECK `readings_protection_flags`
    ///   admits exactly the pairs v25's `readings_key_source_level` admitted: 0, 4, 8 (plain with no key, the
    ///   meter's key or a default key), 5, 6 (encrypted or authenticated with the meter's key) and, as that CHECK
    ///   let a NULL key source pass, 1 and 2 (encrypted or authenticated, no key source; the gateway never writes
    ///   them: ``GatewayCore/ReadingRecord`` gives every protected reading the meter's key).
    /// * `signal_dbm` becomes `smallint`: the only decoder that reports it (native) reads an `Int16` bounded to
    ///   −150…0, and ``GatewayCore/ReadingRecord/signalDBm`` is `Int16?`. `battery_mv` (native `UInt16`, up to
    ///   65,534) and `temperature_centi_c` (M-Bus: any 32-bit value) stay `integer`: their decoders' ranges do not
    ///   fit a `smallint`. A stored signal outside the `smallint` range refuses the migration.
    /// * Columns ordered by alignment (8-, 4-, then 2-byte) so nothing is padded: a reading with every field
    ///   (no NULL, so no null bitmap) is 24 + 88 = 112 bytes, was 128 (24 + 103, MAXALIGNed); a daily frozen
    ///   total (flow, battery, temperature and signal NULL) is 32 + 70 bytes, 104 on the page, was 120.
    /// * The view `readings_validated` keeps its columns, names, order and types (`protection` the enum, `source` and
    ///   `key_source` text, `signal_dbm` integer), so SQL users, the API and the CLI see the same values; it is
    ///   recreated with its privileges.
    /// * Rebuilt as v25 rebuilt it: the partitioned parent, the same partitions (names and bounds, DEFAULT included),
    ///   primary key, BRIN index on `received_at`, privileges (table and column ones; a column grant on `protection` or
    ///   `key_source` becomes one on `protection_flags`). Every row is copied once (`readings` is locked against
    ///   writes meanwhile).
    static let v28 = Migration(
        version: 28,
        name: "slim readings rows: source and protection as smallint codes, signal_dbm smallint",
        sql: """
            CREATE FUNCTION reading_protection(flags smallint) RETURNS protection_level LANGUAGE sql STABLE AS $$
                SELECT (CASE flags & 3 WHEN 0 THEN 'plain' WHEN 1 THEN 'encrypted' ELSE 'authenticated' END)::protection_level
            $$;
            CREATE FUNCTION reading_key_source(flags smallint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
                SELECT CASE (flags >> 2) & 3 WHEN 1 THEN 'meter' WHEN 2 THEN 'default' END
            $$;

            ALTER VIEW readings_validated RENAME TO readings_validated_v25;
            ALTER TABLE readings RENAME TO readings_v25;
            ALTER INDEX readings_pkey RENAME TO readings_v25_pkey;
            ALTER INDEX readings_received_at_brin RENAME TO readings_v25_received_at_brin;
            CREATE TABLE readings (
                meter_id bigint NOT NULL,
                read_at timestamptz NOT NULL,
                received_at timestamptz NOT NULL,
                volume_ml bigint NOT NULL,
                register_modulus_ml bigint NOT NULL,
                status_bits bigint NOT NULL,
                flow_ml_per_h bigint,
                frame_counter bigint,
                battery_mv integer,
                temperature_centi_c integer,
                signal_dbm smallint,
                kind smallint NOT NULL,
                valve smallint NOT NULL,
                basis smallint NOT NULL DEFAULT 0,
                storage smallint NOT NULL DEFAULT 0,
                tariff smallint NOT NULL DEFAULT 0,
                source smallint NOT NULL CONSTRAINT readings_source_code CHECK (source BETWEEN 1 AND 4),
                protection_flags smallint NOT NULL
                    CONSTRAINT readings_protection_flags CHECK (protection_flags IN (0, 1, 2, 4, 5, 6, 8))
            ) PARTITION BY RANGE (read_at);
            ALTER TABLE readings ADD CONSTRAINT readings_pkey PRIMARY KEY (meter_id, read_at, kind, basis, storage, tariff);
            CREATE INDEX readings_received_at_brin ON readings USING brin (received_at);

            CREATE VIEW readings_validated AS
            SELECT r.meter_id, r.read_at, r.received_at, r.volume_ml, r.register_modulus_ml, r.status_bits,
                r.flow_ml_per_h, r.frame_counter, reading_protection(r.protection_flags) AS protection, r.battery_mv,
                r.temperature_centi_c, r.signal_dbm::integer AS signal_dbm, r.kind, r.valve, r.basis, r.storage, r.tariff,
                frame_source_name(r.source) AS source, reading_key_source(r.protection_flags) AS key_source,
                coalesce(v.quality, CASE WHEN d.meter_id IS NOT NULL THEN 0::smallint END) AS quality,
                CASE WHEN v.meter_id IS NOT NULL THEN v.reasons WHEN d.meter_id IS NOT NULL THEN '{}'::text[] END
                    AS reasons,
                CASE WHEN v.meter_id IS NOT NULL THEN v.validated_at ELSE d.validated_at END AS validated_at
            FROM readings r
            LEFT JOIN validated_reading_days d ON r.storage = 0 AND r.tariff = 0 AND d.meter_id = r.meter_id
                AND d.basis = r.basis AND d.day = (r.read_at AT TIME ZONE 'UTC')::date
                AND (extract(epoch FROM r.read_at) * 1000000)::bigint * 4 + r.kind = ANY (d.reads)
            LEFT JOIN reading_verdicts v ON r.storage = 0 AND r.tariff = 0 AND v.meter_id = r.meter_id
                AND v.read_at = r.read_at AND v.kind = r.kind AND v.basis = r.basis;

            DO $$
            DECLARE
                part record;
                grant_row record;
            BEGIN
                -- The same partitions, bounds and names; each old one renamed first, filled into its successor. An
                -- unknown source (NULL code) or a signal outside smallint stops the migration: nothing is lost.
                FOR part IN
                    SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
                    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                    WHERE i.inhparent = 'readings_v25'::regclass
                    ORDER BY c.relname
                LOOP
                    EXECUTE format('ALTER TABLE %I RENAME TO %I', part.relname, 'v28_old_' || part.relname);
                    EXECUTE format('CREATE TABLE %I PARTITION OF readings %s', part.relname, part.bound);
                    EXECUTE format('INSERT INTO %I (meter_id, read_at, received_at, volume_ml, register_modulus_ml, '
                        'status_bits, flow_ml_per_h, frame_counter, battery_mv, temperature_centi_c, signal_dbm, kind, '
                        'valve, basis, storage, tariff, source, protection_flags) '
                        'SELECT meter_id, read_at, received_at, volume_ml, register_modulus_ml, status_bits, flow_ml_per_h, '
                        'frame_counter, battery_mv, temperature_centi_c, signal_dbm::smallint, kind, valve, basis, storage, '
                        'tariff, CASE source WHEN ''native'' THEN 1 WHEN ''cjt188'' THEN 2 WHEN ''wmbus'' THEN 3 '
                        'WHEN ''mbus'' THEN 4 END, interval_point_flags(protection, key_source, 0) '
                        'FROM %I ORDER BY meter_id, read_at, kind, basis, storage, tariff',
                        part.relname, 'v28_old_' || part.relname);
                END LOOP;

                -- The new parent gets the old one's privileges, table and column (protection and key_source are now
                -- protection_flags).
                FOR grant_row IN
                    SELECT a.privilege_type, a.grantee, NULL::name AS column_name
                    FROM aclexplode((SELECT relacl FROM pg_class WHERE oid = 'readings_v25'::regclass)) AS a
                    WHERE a.grantee <> (SELECT relowner FROM pg_class WHERE oid = 'readings_v25'::regclass)
                    UNION
                    SELECT a.privilege_type, a.grantee,
                        CASE WHEN c.attname IN ('protection', 'key_source') THEN 'protection_flags' ELSE c.attname END
                    FROM pg_attribute c
                    CROSS JOIN LATERAL aclexplode(c.attacl) AS a
                    WHERE c.attrelid = 'readings_v25'::regclass AND c.attnum > 0 AND c.attacl IS NOT NULL
                LOOP
                    EXECUTE format('GRANT %s %s ON readings TO %s', grant_row.privilege_type,
                        CASE WHEN grant_row.column_name IS NOT NULL THEN format('(%I)', grant_row.column_name) ELSE '' END,
                        CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(grant_row.grantee::regrole::text) END);
                END LOOP;
                -- The view's privileges.
                FOR grant_row IN
                    SELECT a.privilege_type, a.grantee
                    FROM aclexplode((SELECT relacl FROM pg_class WHERE oid = 'readings_validated_v25'::regclass)) AS a
                    WHERE a.grantee <> (SELECT relowner FROM pg_class WHERE oid = 'readings_validated_v25'::regclass)
                LOOP
                    EXECUTE format('GRANT %s ON readings_validated TO %s', grant_row.privilege_type,
                        CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(grant_row.grantee::regrole::text) END);
                END LOOP;
            END
            $$;
            DROP VIEW readings_validated_v25;
            DROP TABLE readings_v25;
            ANALYZE readings;
            """
    )
}
