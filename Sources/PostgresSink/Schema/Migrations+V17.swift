extension Migrations {
    /// v17: a meter's interval log stored as one row per meter and UTC day (`interval_days`), with the view
    /// `interval_readings` presenting one row per interval exactly as the v16 table did.
    ///
    /// * `interval_days` (meter_id, day): `day` is the UTC day of `interval_start` (not the billing day: that
    ///   depends on a configuration setting, and a stored key must not). Per stored interval, in start order, the
    ///   parallel arrays hold its start (`offsets_s`, seconds after the day's UTC midnight, and `offsets_frac_us`, the
    ///   microseconds, NULL when every start is a whole second), `minutes`, `volumes_ml` and `flags`: bits 0–1 the
    ///   protection level (0 plain, 1 encrypted, 2 authenticated), bits 2–3 the key source (0 none, 1 `meter`,
    ///   2 `default`), bits 4–14 the 0-based position of its receive time in `receipts` (the distinct receive times
    ///   of the row, ascending). `first_index_ml` is the first interval's end index; `end_index_ml` holds every end
    ///   index only when they are not the chain first index + each later interval's volume (NULL otherwise).
    /// * The natural key (meter_id, interval_start) stays unique: a start appears at most once in its day's row;
    ///   the writer merges later frames of a day into the row under its row lock.
    /// * `interval_point_flags(protection, key_source, receipt)` codes a flag and enforces what v15's CHECK did
    ///   (a row above `plain` has key source `meter`; anything else is refused with SQLSTATE 23514).
    /// * `interval_day_points(interval_days)` unnests one row into its intervals (an inlinable SQL function); the
    ///   view `interval_readings` is every row's points, with the v16 table's columns, names, types and order.
    /// * The v16 rows are converted and the table is dropped.
    static let v17 = Migration(
        version: 17,
        name: "interval log as one row per meter and day (interval_days) behind the interval_readings view",
        sql: """
            CREATE FUNCTION interval_point_flags(protection protection_level, key_source text, receipt integer)
            RETURNS smallint LANGUAGE plpgsql IMMUTABLE AS $$
            BEGIN
                IF NOT ((protection = 'plain' AND (key_source IS NULL OR key_source IN ('meter', 'default')))
                    OR (protection > 'plain' AND key_source = 'meter')) THEN
                    RAISE EXCEPTION 'interval protection % with key source % is not allowed', protection, key_source
                        USING ERRCODE = 'check_violation';
                END IF;
                IF receipt < 0 OR receipt > 2047 THEN
                    RAISE EXCEPTION 'interval receipt number % is out of range 0...2047', receipt
                        USING ERRCODE = 'numeric_value_out_of_range';
                END IF;
                -- Parenthesised: PostgreSQL gives | and << the same precedence, left to right.
                RETURN ((CASE protection WHEN 'plain' THEN 0 WHEN 'encrypted' THEN 1 ELSE 2 END)
                    | (CASE key_source WHEN 'meter' THEN 4 WHEN 'default' THEN 8 ELSE 0 END)
                    | (receipt << 4))::smallint;
            END
            $$;

            CREATE TABLE interval_days (
                meter_id bigint NOT NULL,
                day date NOT NULL,
                first_index_ml bigint NOT NULL,
                offsets_s integer[] NOT NULL,
                offsets_frac_us integer[],
                minutes smallint[] NOT NULL,
                volumes_ml bigint[] NOT NULL,
                end_index_ml bigint[],
                flags smallint[] NOT NULL,
                receipts timestamptz[] NOT NULL,
                PRIMARY KEY (meter_id, day)
            );

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

            INSERT INTO interval_days (meter_id, day, first_index_ml, offsets_s, offsets_frac_us, minutes, volumes_ml,
                end_index_ml, flags, receipts)
            SELECT meter_id, day,
                (array_agg(end_index_ml ORDER BY offset_us))[1],
                array_agg((offset_us / 1000000)::integer ORDER BY offset_us),
                CASE WHEN bool_or(offset_us % 1000000 <> 0)
                    THEN array_agg((offset_us % 1000000)::integer ORDER BY offset_us) END,
                array_agg(interval_minutes ORDER BY offset_us),
                array_agg(volume_ml ORDER BY offset_us),
                CASE WHEN NOT bool_and(chained) THEN array_agg(end_index_ml ORDER BY offset_us) END,
                array_agg(interval_point_flags(protection, key_source, receipt::integer) ORDER BY offset_us),
                array_agg(received_at ORDER BY received_at) FILTER (WHERE first_of_receipt)
            FROM (
                SELECT p.*,
                    dense_rank() OVER (PARTITION BY meter_id, day ORDER BY received_at) - 1 AS receipt,
                    row_number() OVER (PARTITION BY meter_id, day, received_at ORDER BY offset_us) = 1
                        AS first_of_receipt,
                    coalesce(end_index_ml::numeric = volume_ml
                        + lag(end_index_ml::numeric) OVER (PARTITION BY meter_id, day ORDER BY offset_us), true)
                        AS chained
                FROM (
                    SELECT r.*, (r.interval_start AT TIME ZONE 'UTC')::date AS day,
                        (extract(epoch FROM r.interval_start
                            - ((r.interval_start AT TIME ZONE 'UTC')::date::timestamp AT TIME ZONE 'UTC'))
                            * 1000000)::bigint AS offset_us
                    FROM interval_readings r
                ) AS p
            ) AS numbered
            GROUP BY meter_id, day;

            DROP TABLE interval_readings;

            CREATE VIEW interval_readings AS
            SELECT d.meter_id, p.interval_start, p.interval_minutes, p.volume_ml, p.end_index_ml, p.received_at,
                p.protection, p.key_source
            FROM interval_days d
            CROSS JOIN LATERAL interval_day_points(d) AS p;
            """
    )
}
