extension Migrations {
    /// v26: compact `interval_days` rows and `frame_identities` rows (issue 13 point 3, bytes per meter-day).
    ///
    /// * `interval_days`: an array whose elements a normal daily report makes regular is stored as NULL plus a scalar:
    ///   `offsets_s` NULL when the starts are evenly spaced (`first_offset_s` + (n − 1) × `offset_step_s`), `minutes`
    ///   NULL when all are equal (`interval_minutes`), `flags` NULL when all are equal (`flag`), `receipts` NULL when
    ///   the row has one receive time (`received_at`). `volumes_ml` becomes `integer[]`; a day with a volume outside
    ///   the 32-bit range keeps the `bigint[]` form in `volumes_wide_ml` (and `volumes_ml` is NULL). A normal day is
    ///   then its volumes (4 bytes each) and a small header instead of five arrays. The arrays lose their NOT NULL;
    ///   a CHECK per array keeps one of its two forms present (`interval_days_…_form`).
    /// * `interval_day_points` is replaced (same signature and result) to read either form, so the view
    ///   `interval_readings` and its privileges stay and return exactly the same rows. The table is altered in
    ///   place (one rewrite of every partition, indexes rebuilt), so v23's partitioned parent, its partitions, the
    ///   DEFAULT partition and the grants stay as they are; partitions made later inherit the new columns.
    /// * `frame_identities.source` becomes a `smallint` code (1 native, 2 cjt188, 3 wmbus, 4 mbus;
    ///   `frame_source_name(smallint)` gives the word) placed beside `kind`, so it takes no padding: the table is
    ///   rebuilt in `stored_at` order with its grants, the primary key and, instead of the btree on `stored_at` (read
    ///   only by the pruning of old identities), a BRIN index. A source outside these refuses the migration.
    static let v26 = Migration(
        version: 26,
        name: "compact interval_days arrays and frame_identities (source code, BRIN on stored_at)",
        sql: """
            -- Helpers of this migration only (a transform expression cannot hold a subquery).
            CREATE FUNCTION pg_temp.v26_regular(offsets integer[]) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
                SELECT coalesce(bool_and(offsets[n] = offsets[1] + (n - 1) * coalesce(offsets[2] - offsets[1], 0)), true)
                FROM generate_subscripts(offsets, 1) AS n
            $$;
            CREATE FUNCTION pg_temp.v26_uniform(a anyarray) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
                SELECT coalesce(bool_and(e = a[1]), true) FROM unnest(a) AS e
            $$;
            CREATE FUNCTION pg_temp.v26_fits(volumes bigint[]) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
                SELECT coalesce(bool_and(v BETWEEN -2147483648 AND 2147483647), true) FROM unnest(volumes) AS v
            $$;

            ALTER TABLE interval_days
                ADD COLUMN first_offset_s integer,
                ADD COLUMN offset_step_s integer,
                ADD COLUMN interval_minutes smallint,
                ADD COLUMN flag smallint,
                ADD COLUMN received_at timestamptz,
                ADD COLUMN volumes_wide_ml bigint[];
            -- One rewrite: every transform reads the row as it was before this statement. The arrays may be NULL now;
            -- each CHECK keeps what the NOT NULL kept: the points are readable in one form or the other.
            ALTER TABLE interval_days
                ALTER COLUMN offsets_s DROP NOT NULL,
                ALTER COLUMN minutes DROP NOT NULL,
                ALTER COLUMN volumes_ml DROP NOT NULL,
                ALTER COLUMN flags DROP NOT NULL,
                ALTER COLUMN receipts DROP NOT NULL,
                ADD CONSTRAINT interval_days_offsets_form
                    CHECK (offsets_s IS NOT NULL OR (first_offset_s IS NOT NULL AND offset_step_s IS NOT NULL)),
                ADD CONSTRAINT interval_days_minutes_form CHECK (minutes IS NOT NULL OR interval_minutes IS NOT NULL),
                ADD CONSTRAINT interval_days_volumes_form CHECK ((volumes_ml IS NULL) <> (volumes_wide_ml IS NULL)),
                ADD CONSTRAINT interval_days_flags_form CHECK (flags IS NOT NULL OR flag IS NOT NULL),
                ADD CONSTRAINT interval_days_receipts_form CHECK (receipts IS NOT NULL OR received_at IS NOT NULL),
                ALTER COLUMN first_offset_s TYPE integer
                    USING CASE WHEN pg_temp.v26_regular(offsets_s) THEN offsets_s[1] END,
                ALTER COLUMN offset_step_s TYPE integer
                    USING CASE WHEN pg_temp.v26_regular(offsets_s) THEN coalesce(offsets_s[2] - offsets_s[1], 0) END,
                ALTER COLUMN offsets_s TYPE integer[]
                    USING CASE WHEN NOT pg_temp.v26_regular(offsets_s) THEN offsets_s END,
                ALTER COLUMN interval_minutes TYPE smallint
                    USING CASE WHEN pg_temp.v26_uniform(minutes) THEN minutes[1] END,
                ALTER COLUMN minutes TYPE smallint[]
                    USING CASE WHEN NOT pg_temp.v26_uniform(minutes) THEN minutes END,
                ALTER COLUMN flag TYPE smallint
                    USING CASE WHEN pg_temp.v26_uniform(flags) THEN flags[1] END,
                ALTER COLUMN flags TYPE smallint[]
                    USING CASE WHEN NOT pg_temp.v26_uniform(flags) THEN flags END,
                ALTER COLUMN received_at TYPE timestamptz
                    USING CASE WHEN cardinality(receipts) = 1 THEN receipts[1] END,
                ALTER COLUMN receipts TYPE timestamptz[]
                    USING CASE WHEN cardinality(receipts) <> 1 THEN receipts END,
                ALTER COLUMN volumes_wide_ml TYPE bigint[]
                    USING CASE WHEN NOT pg_temp.v26_fits(volumes_ml) THEN volumes_ml END,
                ALTER COLUMN volumes_ml TYPE integer[]
                    USING CASE WHEN pg_temp.v26_fits(volumes_ml) THEN volumes_ml::integer[] END;

            DROP FUNCTION pg_temp.v26_regular(integer[]);
            DROP FUNCTION pg_temp.v26_uniform(anyarray);
            DROP FUNCTION pg_temp.v26_fits(bigint[]);

            -- Same signature and result as v17/v23: the view interval_readings (and its grants) stays.
            CREATE OR REPLACE FUNCTION interval_day_points(d interval_days)
            RETURNS TABLE (interval_start timestamptz, interval_minutes smallint, volume_ml bigint, end_index_ml bigint,
                received_at timestamptz, protection protection_level, key_source text)
            LANGUAGE sql STABLE AS $$
                SELECT (d.day::timestamp AT TIME ZONE 'UTC')
                        + (p.offset_s * 1000000::bigint + coalesce(d.offsets_frac_us[p.n], 0)) * interval '1 microsecond',
                    p.interval_minutes,
                    p.volume_ml,
                    coalesce(d.end_index_ml[p.n], (d.first_index_ml + p.running - coalesce(d.volumes_ml[1], d.volumes_wide_ml[1]))::bigint),
                    coalesce(d.receipts[(p.flag >> 4) + 1], d.received_at),
                    (CASE p.flag & 3 WHEN 0 THEN 'plain' WHEN 1 THEN 'encrypted' ELSE 'authenticated' END)::protection_level,
                    CASE (p.flag >> 2) & 3 WHEN 1 THEN 'meter' WHEN 2 THEN 'default' END
                FROM (
                    SELECT coalesce(d.offsets_s[u.n]::bigint, d.first_offset_s + (u.n - 1) * d.offset_step_s) AS offset_s,
                        coalesce(d.minutes[u.n], d.interval_minutes) AS interval_minutes,
                        u.volume_ml,
                        coalesce(d.flags[u.n], d.flag) AS flag,
                        u.n,
                        sum(u.volume_ml::numeric) OVER (ORDER BY u.n) AS running
                    FROM unnest(coalesce(d.volumes_ml::bigint[], d.volumes_wide_ml)) WITH ORDINALITY AS u (volume_ml, n)
                ) AS p
            $$;

            CREATE FUNCTION frame_source_name(code smallint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
                SELECT CASE code WHEN 1 THEN 'native' WHEN 2 THEN 'cjt188' WHEN 3 THEN 'wmbus' WHEN 4 THEN 'mbus' END
            $$;
            -- Rebuilt rather than altered: `source` as a smallint beside `kind` fills what was alignment padding (a
            -- smallint where the text was would still take 8 bytes with its padding). An unknown source becomes NULL,
            -- which the NOT NULL column refuses: the migration stops, nothing is lost.
            ALTER TABLE frame_identities RENAME TO frame_identities_v25;
            ALTER INDEX frame_identities_pkey RENAME TO frame_identities_v25_pkey;
            CREATE TABLE frame_identities (
                meter_id bigint NOT NULL,
                kind smallint NOT NULL CHECK (kind IN (1, 2, 3)),
                source smallint NOT NULL CONSTRAINT frame_identities_source_code CHECK (source BETWEEN 1 AND 4),
                identity bigint NOT NULL,
                fingerprint bigint NOT NULL,
                first_received_at timestamptz NOT NULL,
                stored_at timestamptz NOT NULL DEFAULT now()
            );
            INSERT INTO frame_identities (meter_id, kind, source, identity, fingerprint, first_received_at, stored_at)
            SELECT meter_id, kind,
                CASE source WHEN 'native' THEN 1 WHEN 'cjt188' THEN 2 WHEN 'wmbus' THEN 3 WHEN 'mbus' THEN 4 END,
                identity, fingerprint, first_received_at, stored_at
            FROM frame_identities_v25
            ORDER BY stored_at;
            ALTER TABLE frame_identities ADD CONSTRAINT frame_identities_pkey PRIMARY KEY (meter_id, kind, identity);
            CREATE INDEX frame_identities_stored_brin ON frame_identities USING brin (stored_at);
            DO $$
            DECLARE
                grant_row record;
            BEGIN
                -- The old table's privileges, table and column (postgres-roles.sql grants the same).
                FOR grant_row IN
                    SELECT a.privilege_type, a.grantee, NULL::name AS column_name
                    FROM aclexplode((SELECT relacl FROM pg_class WHERE oid = 'frame_identities_v25'::regclass)) AS a
                    WHERE a.grantee <> (SELECT relowner FROM pg_class WHERE oid = 'frame_identities_v25'::regclass)
                    UNION ALL
                    SELECT a.privilege_type, a.grantee, c.attname
                    FROM pg_attribute c
                    CROSS JOIN LATERAL aclexplode(c.attacl) AS a
                    WHERE c.attrelid = 'frame_identities_v25'::regclass AND c.attnum > 0 AND c.attacl IS NOT NULL
                LOOP
                    EXECUTE format('GRANT %s %s ON frame_identities TO %s', grant_row.privilege_type,
                        CASE WHEN grant_row.column_name IS NOT NULL THEN format('(%I)', grant_row.column_name) ELSE '' END,
                        CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(grant_row.grantee::regrole::text) END);
                END LOOP;
            END
            $$;
            DROP TABLE frame_identities_v25;
            ANALYZE frame_identities;
            """
    )
}
