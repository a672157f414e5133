extension Migrations {
    /// v25: `readings` becomes insert-only and narrower; a reading's verdict is kept apart, in two small tables.
    ///
    /// * Validation used to write every reading's verdict (`quality`, `reasons`, `validated_at`) on its row: each
    ///   reading was rewritten once when first validated, leaving a dead version (and, when the update was not HOT,
    ///   index entries) behind. That `UPDATE` was ~35 % of PostgreSQL's validation time, and the dead versions
    ///   more than doubled the bytes of `readings` (~509 B per reading for a ~200 B live row).
    /// * `validated_reading_days`: one row per validated channel (meter, volume basis) and UTC day of `read_at`,
    ///   listing the validated readings of that day as `reads` (sorted `bigint` codes, µs since 1970 × 4 + kind;
    ///   ``ValidationSQL/readCode(_:)``) with the time the list last grew. Only storage 0, tariff 0 readings (the
    ///   billing channel, the only ones validation judges) are listed.
    /// * `reading_verdicts`: one row per validated reading whose verdict is not plainly valid (quality ≠ 0, or
    ///   reasons other than none): suspect and rejected readings, rare. It replaces v19's `held_readings` and its
    ///   triggers: its partial index on quality 2 serves the held-readings list in (read_at, meter_id) order.
    /// * A reading's quality: its `reading_verdicts` row's if any; else valid (0, no reasons) if its day lists it;
    ///   else unvalidated (NULL). The view `readings_validated` presents `readings` with the three old columns so
    ///   computed; `validated_at` of a valid reading is its day's (when the day's list last grew).
    /// * `readings` is rebuilt without the verdict columns, its columns ordered by alignment (8-, 4-, 2-byte, then
    ///   text) so no padding is stored. The partitioned parent keeps v23's layout: the same partitions (same names
    ///   and bounds, DEFAULT included), primary key, BRIN index on `received_at`, CHECK constraint, privileges
    ///   (table and column ones, except on the dropped columns). Every row is copied once (a rewrite: `readings` is
    ///   locked against writes meanwhile); verdicts of rows outside the billing channel (never written by the
    ///   gateway) are not kept.
    static let v25 = Migration(
        version: 25,
        name: "insert-only readings: verdicts in reading_verdicts and validated_reading_days, narrow rows",
        sql: """
            CREATE TABLE validated_reading_days (
                meter_id bigint NOT NULL,
                day date NOT NULL,
                validated_at timestamptz NOT NULL,
                basis smallint NOT NULL,
                reads bigint[] NOT NULL,
                PRIMARY KEY (meter_id, basis, day)
            );
            CREATE TABLE reading_verdicts (
                meter_id bigint NOT NULL,
                read_at timestamptz NOT NULL,
                validated_at timestamptz,
                kind smallint NOT NULL,
                basis smallint NOT NULL,
                quality smallint NOT NULL CHECK (quality BETWEEN 0 AND 3),
                reasons text[],
                PRIMARY KEY (meter_id, read_at, kind, basis)
            );
            CREATE INDEX reading_verdicts_held_idx ON reading_verdicts (read_at, meter_id, kind, basis)
                WHERE quality = 2;

            INSERT INTO validated_reading_days (meter_id, basis, day, reads, validated_at)
            SELECT meter_id, basis, (read_at AT TIME ZONE 'UTC')::date,
                array_agg((extract(epoch FROM read_at) * 1000000)::bigint * 4 + kind
                    ORDER BY (extract(epoch FROM read_at) * 1000000)::bigint * 4 + kind),
                coalesce(max(validated_at), now())
            FROM readings
            WHERE storage = 0 AND tariff = 0 AND quality IS NOT NULL
            GROUP BY 1, 2, 3;
            INSERT INTO reading_verdicts (meter_id, read_at, kind, basis, quality, reasons, validated_at)
            SELECT meter_id, read_at, kind, basis, quality, reasons, validated_at
            FROM readings
            WHERE storage = 0 AND tariff = 0 AND quality IS NOT NULL
                AND (quality <> 0 OR reasons IS NULL OR reasons <> '{}');

            DROP TRIGGER readings_held_insert ON readings;
            DROP TRIGGER readings_held_update ON readings;
            DROP TRIGGER readings_held_delete ON readings;
            DROP TABLE held_readings;
            DROP FUNCTION held_readings_track();

            ALTER TABLE readings RENAME TO readings_v24;
            ALTER INDEX readings_pkey RENAME TO readings_v24_pkey;
            ALTER INDEX readings_received_at_brin RENAME TO readings_v24_received_at_brin;
            CREATE TABLE readings (
                meter_id bigint NOT NULL,
                read_at timestamptz NOT NULL,
                received_at timestamptz NOT NULL,
                volume_ml bigint NOT NULL,
                register_modulus_ml bigint NOT NULL,
                status_bits bigint NOT NULL,
                flow_ml_per_h bigint,
                frame_counter bigint,
                protection protection_level NOT NULL,
                battery_mv integer,
                temperature_centi_c integer,
                signal_dbm integer,
                kind smallint NOT NULL,
                valve smallint NOT NULL,
                basis smallint NOT NULL DEFAULT 0,
                storage smallint NOT NULL DEFAULT 0,
                tariff smallint NOT NULL DEFAULT 0,
                source text NOT NULL,
                key_source text,
                CONSTRAINT readings_key_source_level CHECK (
                    (protection = 'plain' AND (key_source IS NULL OR key_source IN ('meter', 'default')))
                    OR (protection > 'plain' AND key_source = 'meter'))
            ) PARTITION BY RANGE (read_at);
            ALTER TABLE readings ADD CONSTRAINT readings_pkey PRIMARY KEY (meter_id, read_at, kind, basis, storage, tariff);
            CREATE INDEX readings_received_at_brin ON readings USING brin (received_at);

            CREATE VIEW readings_validated AS
            SELECT r.*,
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
                -- The same partitions, bounds and names; each old one renamed first, filled into its successor, dropped.
                FOR part IN
                    SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
                    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                    WHERE i.inhparent = 'readings_v24'::regclass
                    ORDER BY c.relname
                LOOP
                    EXECUTE format('ALTER TABLE %I RENAME TO %I', part.relname, 'v25_old_' || part.relname);
                    EXECUTE format('CREATE TABLE %I PARTITION OF readings %s', part.relname, part.bound);
                    EXECUTE format('INSERT INTO %I (meter_id, read_at, received_at, volume_ml, register_modulus_ml, '
                        'status_bits, flow_ml_per_h, frame_counter, protection, battery_mv, temperature_centi_c, signal_dbm, '
                        'kind, valve, basis, storage, tariff, source, key_source) '
                        'SELECT meter_id, read_at, received_at, volume_ml, register_modulus_ml, status_bits, flow_ml_per_h, '
                        'frame_counter, protection, battery_mv, temperature_centi_c, signal_dbm, kind, valve, basis, '
                        'storage, tariff, source, key_source FROM %I ORDER BY meter_id, read_at, kind, basis, storage, tariff',
                        part.relname, 'v25_old_' || part.relname);
                END LOOP;

                -- The new parent gets the old one's privileges, table and column (but not on the dropped columns).
                FOR grant_row IN
                    SELECT a.privilege_type, a.grantee, NULL::name AS column_name
                    FROM aclexplode((SELECT relacl FROM pg_class WHERE oid = 'readings_v24'::regclass)) AS a
                    WHERE a.grantee <> (SELECT relowner FROM pg_class WHERE oid = 'readings_v24'::regclass)
                    UNION ALL
                    SELECT a.privilege_type, a.grantee, c.attname
                    FROM pg_attribute c
                    CROSS JOIN LATERAL aclexplode(c.attacl) AS a
                    WHERE c.attrelid = 'readings_v24'::regclass AND c.attnum > 0 AND c.attacl IS NOT NULL
                        AND c.attname NOT IN ('quality', 'reasons', 'validated_at')
                LOOP
                    EXECUTE format('GRANT %s %s ON readings TO %s', grant_row.privilege_type,
                        CASE WHEN grant_row.column_name IS NOT NULL THEN format('(%I)', grant_row.column_name) ELSE '' END,
                        CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(grant_row.grantee::regrole::text) END);
                END LOOP;
                -- The verdicts are written by whoever could write a reading's verdict (postgres-roles.sql grants the same).
                FOR grant_row IN
                    SELECT DISTINCT a.grantee
                    FROM pg_attribute c
                    CROSS JOIN LATERAL aclexplode(c.attacl) AS a
                    WHERE c.attrelid = 'readings_v24'::regclass AND c.attname = 'quality' AND a.privilege_type = 'UPDATE'
                LOOP
                    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON reading_verdicts, validated_reading_days TO %s',
                        CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(grant_row.grantee::regrole::text) END);
                END LOOP;
                -- Whoever could read readings reads the verdicts and the view too.
                FOR grant_row IN
                    SELECT a.grantee
                    FROM aclexplode((SELECT relacl FROM pg_class WHERE oid = 'readings_v24'::regclass)) AS a
                    WHERE a.privilege_type = 'SELECT'
                        AND a.grantee <> (SELECT relowner FROM pg_class WHERE oid = 'readings_v24'::regclass)
                LOOP
                    EXECUTE format('GRANT SELECT ON reading_verdicts, validated_reading_days, readings_validated TO %s',
                        CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(grant_row.grantee::regrole::text) END);
                END LOOP;
            END
            $$;
            DROP TABLE readings_v24;
            """
    )
}
