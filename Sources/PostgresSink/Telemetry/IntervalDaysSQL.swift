/// The statements that merge staged intervals (`gw_stage_intervals`, one row per interval as the COPY stream
/// carries them) into `interval_days`, one row per meter and UTC day (migration v17).
///
/// A day can arrive in several frames (and twice, from a replay or another gateway), so the write is a merge that
/// never loses a point and never overwrites one: the first stored value of an interval start is kept, a repeated
/// start is a duplicate, and a repeated start with another volume is a value conflict.
///
/// 1. ``insertNewDays`` inserts the rows of the days not stored yet (`ON CONFLICT DO NOTHING`): the normal case,
///    one statement, no row written twice.
/// 2. Only when some day was already stored: ``lockStoredDays`` locks those rows in (meter_id, day) order, then
///    ``mergeIntoStoredDays`` (a new statement, so it reads the latest committed rows, which nobody else can
///    change while the locks are held) rebuilds each day that gains points from its stored points plus the new ones.
/// 3. ``conflicts`` records staged intervals whose start is stored with another volume.
enum IntervalDaysSQL {
    /// The UTC day of a `timestamptz` expression.
    static func day(_ start: String) -> String {
        "(\(start) AT TIME ZONE 'UTC')::date"
    }

    /// Microseconds from the UTC midnight of its day to a `timestamptz` expression (exact: `extract` gives numeric).
    static func offset(_ start: String) -> String {
        "(extract(epoch FROM \(start) - (\(day(start))::timestamp AT TIME ZONE 'UTC')) * 1000000)::bigint"
    }

    /// The staged intervals, the first of a repeated start only, with their day and offset.
    private static let staged = """
        staged AS (
            SELECT DISTINCT ON (meter_id, interval_start) meter_id, interval_start, interval_minutes, volume_ml,
                end_index_ml, received_at, protection, key_source, \(day("interval_start")) AS day,
                \(offset("interval_start")) AS offset_us
            FROM gw_stage_intervals
            ORDER BY meter_id, interval_start, seq
        )
        """

    /// Aggregates `source` (columns meter_id, day, offset_us, interval_minutes, volume_ml, end_index_ml,
    /// received_at and `flag` with the receipt bits still zero) into one row per meter and day in the v26 form:
    /// points in start order, receipts ascending and numbered from 0, end indexes kept only when they are not a chain
    /// (the first one plus each later interval's volume), sub-second parts only when some start has one, and each
    /// array that a normal daily report makes regular stored as NULL plus a scalar: evenly spaced starts as
    /// `first_offset_s` + `offset_step_s`, equal minutes as `interval_minutes`, equal flags as `flag`, one receive
    /// time as `received_at`; volumes as `integer[]` unless one is outside the 32-bit range (`volumes_wide_ml`).
    private static func rowsPerDay(_ source: String) -> String {
        """
        SELECT meter_id, day,
            (array_agg(end_index_ml ORDER BY offset_us))[1] AS first_index_ml,
            CASE WHEN min(gap) <> max(gap) THEN array_agg(offset_s ORDER BY offset_us) END AS offsets_s,
            CASE WHEN min(gap) = max(gap) OR count(*) = 1 THEN min(offset_s) END AS first_offset_s,
            CASE WHEN min(gap) = max(gap) OR count(*) = 1 THEN coalesce(min(gap), 0) END AS offset_step_s,
            CASE WHEN bool_or(offset_us % 1000000 <> 0)
                THEN array_agg((offset_us % 1000000)::integer ORDER BY offset_us) END AS offsets_frac_us,
            CASE WHEN min(interval_minutes) <> max(interval_minutes)
                THEN array_agg(interval_minutes ORDER BY offset_us) END AS minutes,
            CASE WHEN min(interval_minutes) = max(interval_minutes) THEN min(interval_minutes) END AS interval_minutes,
            CASE WHEN min(volume_ml) >= -2147483648 AND max(volume_ml) <= 2147483647
                THEN array_agg(volume_ml ORDER BY offset_us)::integer[] END AS volumes_ml,
            CASE WHEN min(volume_ml) < -2147483648 OR max(volume_ml) > 2147483647
                THEN array_agg(volume_ml ORDER BY offset_us) END AS volumes_wide_ml,
            CASE WHEN NOT bool_and(chained) THEN array_agg(end_index_ml ORDER BY offset_us) END AS end_index_ml,
            CASE WHEN min(full_flag) <> max(full_flag) THEN array_agg(full_flag ORDER BY offset_us) END AS flags,
            CASE WHEN min(full_flag) = max(full_flag) THEN min(full_flag) END AS flag,
            CASE WHEN max(receipt) > 0
                THEN array_agg(received_at ORDER BY received_at) FILTER (WHERE first_of_receipt) END AS receipts,
            CASE WHEN max(receipt) = 0 THEN min(received_at) END AS received_at
        FROM (
            SELECT points.*, (offset_us / 1000000)::integer AS offset_s,
                (flag | (receipt << 4))::smallint AS full_flag
            FROM (
                SELECT points.*,
                    dense_rank() OVER (PARTITION BY meter_id, day ORDER BY received_at) - 1 AS receipt,
                    row_number() OVER (PARTITION BY meter_id, day, received_at ORDER BY offset_us) = 1
                        AS first_of_receipt,
                    coalesce(end_index_ml::numeric = volume_ml
                        + lag(end_index_ml::numeric) OVER (PARTITION BY meter_id, day ORDER BY offset_us), true)
                        AS chained,
                    (offset_us / 1000000 - lag(offset_us / 1000000) OVER (PARTITION BY meter_id, day
                        ORDER BY offset_us))::integer AS gap
                FROM \(source) AS points
            ) AS points
        ) AS numbered
        GROUP BY meter_id, day
        """
    }

    private static let columns = """
        meter_id, day, first_index_ml, offsets_s, first_offset_s, offset_step_s, offsets_frac_us, minutes,
        interval_minutes, volumes_ml, volumes_wide_ml, end_index_ml, flags, flag, receipts, received_at
        """

    /// Inserts the days that are not stored yet. Returns one row: the batch's distinct days, the rows inserted and
    /// the intervals they hold.
    static let insertNewDays = """
        WITH \(staged),
        days AS (
            \(rowsPerDay("""
                (SELECT meter_id, day, offset_us, interval_minutes, volume_ml, end_index_ml, received_at,
                    interval_point_flags(protection, key_source, 0) AS flag
                FROM staged)
                """))
        ),
        inserted AS (
            INSERT INTO interval_days (\(columns))
            SELECT \(columns) FROM days
            ORDER BY meter_id, day
            ON CONFLICT DO NOTHING
            RETURNING coalesce(cardinality(volumes_ml), cardinality(volumes_wide_ml)) AS points
        )
        SELECT (SELECT count(*) FROM days), (SELECT count(*) FROM inserted),
            (SELECT coalesce(sum(points), 0) FROM inserted)
        """

    /// The batch's distinct (meter, day) keys in key order; `LATERAL` below makes each one an index probe, whatever
    /// the table's size (a temporary table has no statistics to plan a join by).
    private static let stagedDays = """
        (SELECT DISTINCT meter_id, \(day("interval_start")) AS day FROM gw_stage_intervals ORDER BY 1, 2) AS k
        """

    /// Locks the stored rows of the batch's days in key order (the order every writer uses): the nested loop
    /// visits the keys sorted and locks each row as it probes it.
    static let lockStoredDays = """
        SELECT d.meter_id FROM \(stagedDays)
        CROSS JOIN LATERAL (
            SELECT meter_id FROM interval_days WHERE meter_id = k.meter_id AND day = k.day FOR UPDATE
        ) AS d
        """

    /// Adds the staged intervals whose start is not stored to their day's row (inserting it if it vanished).
    /// Returns one row: the intervals added and the rows written. Run after ``lockStoredDays``.
    static let mergeIntoStoredDays = """
        WITH \(staged),
        stored AS (
            SELECT k.meter_id, k.day, \(offset("p.interval_start")) AS offset_us, p.interval_minutes, p.volume_ml,
                p.end_index_ml, p.received_at, interval_point_flags(p.protection, p.key_source, 0) AS flag
            FROM \(stagedDays)
            CROSS JOIN LATERAL (
                SELECT d FROM interval_days d WHERE d.meter_id = k.meter_id AND d.day = k.day
            ) AS row
            CROSS JOIN LATERAL interval_day_points(row.d) AS p
        ),
        added AS (
            SELECT s.meter_id, s.day, s.offset_us, s.interval_minutes, s.volume_ml, s.end_index_ml, s.received_at,
                interval_point_flags(s.protection, s.key_source, 0) AS flag
            FROM staged s
            WHERE NOT EXISTS (
                SELECT 1 FROM stored o WHERE o.meter_id = s.meter_id AND o.day = s.day AND o.offset_us = s.offset_us
            )
        ),
        merged AS (
            SELECT * FROM stored WHERE (meter_id, day) IN (SELECT meter_id, day FROM added)
            UNION ALL
            SELECT * FROM added
        ),
        days AS (
            \(rowsPerDay("merged"))
        ),
        written AS (
            INSERT INTO interval_days AS d (\(columns))
            SELECT \(columns) FROM days
            ORDER BY meter_id, day
            ON CONFLICT (meter_id, day) DO UPDATE SET
                first_index_ml = excluded.first_index_ml, offsets_s = excluded.offsets_s,
                first_offset_s = excluded.first_offset_s, offset_step_s = excluded.offset_step_s,
                offsets_frac_us = excluded.offsets_frac_us, minutes = excluded.minutes,
                interval_minutes = excluded.interval_minutes, volumes_ml = excluded.volumes_ml,
                volumes_wide_ml = excluded.volumes_wide_ml, end_index_ml = excluded.end_index_ml,
                flags = excluded.flags, flag = excluded.flag, receipts = excluded.receipts,
                received_at = excluded.received_at
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM written)
        """

    /// Staged intervals whose start is stored with another volume (from an earlier batch, or an earlier row of this
    /// one), up to ``WriterSQL/maxConflictsPerKey`` per key. Runs only when some staged interval was not added.
    static let conflicts = """
        INSERT INTO value_conflicts (series, meter_id, at, kind, stored_volume_ml, conflicting_volume_ml, received_at)
        SELECT 'interval', s.meter_id, s.interval_start, 0, r.volume_ml, s.volume_ml, s.received_at
        FROM gw_stage_intervals s
        CROSS JOIN LATERAL (
            SELECT p.volume_ml
            FROM interval_days d
            CROSS JOIN LATERAL interval_day_points(d) AS p
            WHERE d.meter_id = s.meter_id AND d.day = \(day("s.interval_start")) AND p.interval_start = s.interval_start
            LIMIT 1
        ) AS r
        WHERE r.volume_ml <> s.volume_ml
            AND \(WriterSQL.underConflictLimit(
                series: "interval",
                at: "s.interval_start",
                kind: "0",
                channels: "c.basis = 0 AND c.storage = 0 AND c.tariff = 0"
            ))
        ORDER BY s.meter_id, s.interval_start, s.seq
        ON CONFLICT DO NOTHING
        """
}
