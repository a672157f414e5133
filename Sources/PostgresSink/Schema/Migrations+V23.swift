extension Migrations {
    /// v23: `readings` (by `read_at`) and `interval_days` (by `day`) become range-partitioned tables with monthly
    /// partitions and a DEFAULT partition, without rewriting the stored rows.
    ///
    /// * Each table is renamed `…_history` (its indexes too) and a partitioned parent with the same columns,
    ///   defaults, CHECK constraints, primary key (meter id first, partition column inside) and indexes takes its
    ///   name. The old table is attached as the partition of everything up to the end of the month the migration
    ///   runs in (`FROM (MINVALUE)`), so its indexes are attached, not rebuilt; an empty old table is dropped
    ///   instead and this month gets a partition of its own. Next month gets a partition, and the DEFAULT partition
    ///   takes a row of any month without one (a meter clock years off): it is stored, never refused.
    /// * Rows dated after this month leave the old table first and come back through the parent (next month's
    ///   partition or DEFAULT). Costs: two sequential reads of each table (that move and the attach's check), no
    ///   rewrite; both tables are locked against writes meanwhile.
    /// * v19's `held_readings` triggers move from the old table to the parent, which clones them onto every
    ///   partition (each fires once per row). The parents get the old tables' privileges, table and column.
    /// * `interval_day_points` takes a row of `interval_days`, whose row type is the table's: the function and the
    ///   view `interval_readings` are dropped and created again, unchanged, on the new parent.
    /// * Partitions ahead and retention are ``PartitionMaintenance``'s (`meter-gateway storage maintain`).
    static let v23 = Migration(
        version: 23,
        name: "readings and interval_days partitioned by month with a DEFAULT partition",
        sql: """
            -- The view and its row function depend on interval_days' row type: rebuilt on the new parent below.
            DROP VIEW interval_readings;
            DROP FUNCTION interval_day_points(interval_days);
            -- v19's triggers move to the partitioned parent (which clones them onto every partition, once each).
            DROP TRIGGER readings_held_insert ON readings;
            DROP TRIGGER readings_held_update ON readings;
            DROP TRIGGER readings_held_delete ON readings;

            ALTER TABLE readings RENAME TO readings_history;
            ALTER INDEX readings_pkey RENAME TO readings_history_pkey;
            ALTER INDEX readings_received_at_brin RENAME TO readings_history_received_at_brin;
            CREATE TABLE readings (LIKE readings_history INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE
                INCLUDING COMPRESSION INCLUDING STATISTICS) PARTITION BY RANGE (read_at);
            ALTER TABLE readings ADD CONSTRAINT readings_pkey PRIMARY KEY (meter_id, read_at, kind, basis, storage, tariff);
            CREATE INDEX readings_received_at_brin ON readings USING brin (received_at);
            CREATE TABLE readings_default PARTITION OF readings DEFAULT;

            ALTER TABLE interval_days RENAME TO interval_days_history;
            ALTER INDEX interval_days_pkey RENAME TO interval_days_history_pkey;
            CREATE TABLE interval_days (LIKE interval_days_history INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE
                INCLUDING COMPRESSION INCLUDING STATISTICS) PARTITION BY RANGE (day);
            ALTER TABLE interval_days ADD CONSTRAINT interval_days_pkey PRIMARY KEY (meter_id, day);
            CREATE TABLE interval_days_default PARTITION OF interval_days DEFAULT;

            DO $$
            DECLARE
                this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
                next_month date := (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')::date;
                grant_row record;
            BEGIN
                -- The new parents get the old tables' privileges, table and column (postgres-roles.sql grants the same).
                FOR grant_row IN
                    SELECT t.name, a.privilege_type, a.grantee, NULL::name AS column_name
                    FROM (VALUES ('readings'), ('interval_days')) AS t (name)
                    CROSS JOIN LATERAL aclexplode((SELECT relacl FROM pg_class WHERE oid = (t.name || '_history')::regclass)) AS a
                    WHERE a.grantee <> (SELECT relowner FROM pg_class WHERE oid = (t.name || '_history')::regclass)
                    UNION ALL
                    SELECT t.name, a.privilege_type, a.grantee, c.attname
                    FROM (VALUES ('readings'), ('interval_days')) AS t (name)
                    JOIN pg_attribute c ON c.attrelid = (t.name || '_history')::regclass AND c.attnum > 0 AND c.attacl IS NOT NULL
                    CROSS JOIN LATERAL aclexplode(c.attacl) AS a
                LOOP
                    EXECUTE format('GRANT %s %s ON %I TO %s', grant_row.privilege_type,
                        CASE WHEN grant_row.column_name IS NOT NULL THEN format('(%I)', grant_row.column_name) ELSE '' END,
                        grant_row.name,
                        CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(grant_row.grantee::regrole::text) END);
                END LOOP;

                -- Rows dated after this month (meter clocks ahead) leave the old table, which becomes the partition of
                -- everything up to the end of this month, and come back through the parent (next month's partition or DEFAULT).
                CREATE TEMP TABLE v23_moved_readings ON COMMIT DROP AS
                    WITH moved AS (DELETE FROM readings_history WHERE read_at >= next_month RETURNING *) SELECT * FROM moved;
                CREATE TEMP TABLE v23_moved_days ON COMMIT DROP AS
                    WITH moved AS (DELETE FROM interval_days_history WHERE day >= next_month RETURNING *) SELECT * FROM moved;

                IF EXISTS (SELECT FROM readings_history) THEN
                    EXECUTE format('ALTER TABLE readings ATTACH PARTITION readings_history FOR VALUES FROM (MINVALUE) TO (%L)',
                        next_month::timestamp AT TIME ZONE 'UTC');
                ELSE
                    DROP TABLE readings_history;
                    EXECUTE format('CREATE TABLE %I PARTITION OF readings FOR VALUES FROM (%L) TO (%L)',
                        'readings_' || to_char(this_month, 'YYYY_MM'), this_month::timestamp AT TIME ZONE 'UTC',
                        next_month::timestamp AT TIME ZONE 'UTC');
                END IF;
                EXECUTE format('CREATE TABLE %I PARTITION OF readings FOR VALUES FROM (%L) TO (%L)',
                    'readings_' || to_char(next_month, 'YYYY_MM'), next_month::timestamp AT TIME ZONE 'UTC',
                    (next_month + interval '1 month')::timestamp AT TIME ZONE 'UTC');

                IF EXISTS (SELECT FROM interval_days_history) THEN
                    EXECUTE format('ALTER TABLE interval_days ATTACH PARTITION interval_days_history '
                        'FOR VALUES FROM (MINVALUE) TO (%L)', next_month);
                ELSE
                    DROP TABLE interval_days_history;
                    EXECUTE format('CREATE TABLE %I PARTITION OF interval_days FOR VALUES FROM (%L) TO (%L)',
                        'interval_days_' || to_char(this_month, 'YYYY_MM'), this_month, next_month);
                END IF;
                EXECUTE format('CREATE TABLE %I PARTITION OF interval_days FOR VALUES FROM (%L) TO (%L)',
                    'interval_days_' || to_char(next_month, 'YYYY_MM'), next_month, (next_month + interval '1 month')::date);

                INSERT INTO readings SELECT * FROM v23_moved_readings;
                INSERT INTO interval_days SELECT * FROM v23_moved_days;
            END
            $$;

            CREATE TRIGGER readings_held_insert AFTER INSERT ON readings
                FOR EACH ROW WHEN (NEW.quality = 2) EXECUTE FUNCTION held_readings_track();
            CREATE TRIGGER readings_held_update AFTER UPDATE ON readings
                FOR EACH ROW WHEN (coalesce(OLD.quality = 2, false) <> coalesce(NEW.quality = 2, false)
                    OR (NEW.quality = 2 AND (OLD.meter_id, OLD.read_at, OLD.kind, OLD.basis, OLD.storage, OLD.tariff)
                        IS DISTINCT FROM (NEW.meter_id, NEW.read_at, NEW.kind, NEW.basis, NEW.storage, NEW.tariff)))
                EXECUTE FUNCTION held_readings_track();
            CREATE TRIGGER readings_held_delete AFTER DELETE ON readings
                FOR EACH ROW WHEN (OLD.quality = 2) EXECUTE FUNCTION held_readings_track();

            CREATE FUNCTION interval_day_points(d interval_days)
            RETURNS TABLE (interval_start timestamptz, interval_minutes smallint, volume_ml bigint, end_index_ml bigint,
                received_at timestamptz, protection protection_level, key_source text)
            LANGUAGE sql STABLE AS $$
                SELECT (d.day::timestamp AT TIME ZONE 'UTC')
                        + (p.offset_s * 1000000::bigint + coalesce(d.offsets_frac_us[p.n], 0)) * interval '1 microsecond',
                    p.interval_minutes,
                    p.volume_ml,
                    coalesce(d.end_index_ml[p.n], (d.first_index_ml + p.running - d.volumes_ml[1])::bigint),
                    d.receipts[(p.flag >> 4) + 1],
                    (CASE p.flag & 3 WHEN 0 THEN 'plain' WHEN 1 THEN 'encrypted' ELSE 'authenticated' END)::protection_level,
                    CASE (p.flag >> 2) & 3 WHEN 1 THEN 'meter' WHEN 2 THEN 'default' END
                FROM (
                    SELECT u.*, sum(u.volume_ml::numeric) OVER (ORDER BY u.n) AS running
                    FROM unnest(d.offsets_s, d.minutes, d.volumes_ml, d.flags) WITH ORDINALITY
                        AS u (offset_s, interval_minutes, volume_ml, flag, n)
                ) AS p
            $$;

            CREATE VIEW interval_readings AS
            SELECT d.meter_id, p.interval_start, p.interval_minutes, p.volume_ml, p.end_index_ml, p.received_at,
                p.protection, p.key_source
            FROM interval_days d
            CROSS JOIN LATERAL interval_day_points(d) AS p;
            """
    )
}
