/// The statements of the validation queue and the validator (``ValidationStore/validate(_:settings:signatures:now:)``).
///
/// Instants travel as microseconds since 1970 (`bigint`) in both directions, converted exactly (no floating point).
enum ValidationSQL {
    /// An exact `timestamptz` from a microseconds parameter or column.
    static func instant(_ micros: String) -> String {
        "(timestamptz 'epoch' + (\(micros))::bigint * interval '1 microsecond')"
    }

    static func micros(_ expression: String) -> String { WriterSQL.epochMicros(expression) }

    /// Key of the transaction-scoped advisory lock that serialises appends to `billing_feed` (ASCII "gw-feed!").
    static let feedLockKey: Int64 = 0x6777_2D66_6565_6421

    /// $1 meter ids, $2 earliest instants (µs), both in meter order.
    static let enqueue = """
        INSERT INTO validation_queue AS q (meter_id, dirty_from)
        SELECT d.meter_id, \(instant("d.at_us"))
        FROM unnest($1::bigint[], $2::bigint[]) AS d (meter_id, at_us)
        ORDER BY d.meter_id
        ON CONFLICT (meter_id) DO UPDATE SET dirty_from = least(q.dirty_from, excluded.dirty_from),
            version = q.version + 1
        """

    /// Meters queued at least $2 seconds ago, longest-waiting first.
    static let dirtyMeters = """
        SELECT meter_id, \(micros("dirty_from")), version FROM validation_queue
        WHERE queued_at <= now() - $2::integer * interval '1 second'
        ORDER BY queued_at, meter_id LIMIT $1::integer
        """

    static let dequeue = "DELETE FROM validation_queue WHERE meter_id = $1::bigint AND version = $2::bigint"

    static let tryLockMeter = "SELECT pg_try_advisory_xact_lock(hashtextextended('validate/' || $1, 7411))"

    static let lockFeed = "SELECT pg_advisory_xact_lock(\(feedLockKey))"

    /// Qmin, Qmax, register digits, verification expiry (start of that date, UTC) in µs; protocol, size and the
    /// continuous-appliance flag for the leak signatures.
    static let meterLimits = """
        SELECT qmin_ml_per_h, qmax_ml_per_h, register_digits,
            \(micros("(verification_expires_on::timestamp AT TIME ZONE 'UTC')")), protocol, size, continuous_appliance,
            role
        FROM meters WHERE id = $1::bigint
        """

    /// Whether each earlier day (newest first) had a full set of intervals none of which was zero.
    static let previousContinuousDays = """
        SELECT intervals_ml IS NOT NULL AND cardinality(intervals_ml) > 0 AND NOT (0 = ANY (intervals_ml))
        FROM daily_reads
        WHERE meter_id = $1::bigint AND basis = $2::smallint AND day_start < \(instant("$3"))
        ORDER BY day_start DESC LIMIT $4::integer
        """

    /// The interval data of the days just before the window (newest first), for the night-flow signature.
    static let previousIntervals = """
        SELECT \(micros("day_start")), interval_minutes, intervals_ml FROM daily_reads
        WHERE meter_id = $1::bigint AND basis = $2::smallint AND day_start < \(instant("$3"))
            AND intervals_ml IS NOT NULL
        ORDER BY day_start DESC LIMIT $4::integer
        """

    /// The volume bases with billing-channel reads (or, for basis 0, intervals) since $2.
    static let bases = """
        SELECT basis FROM readings
        WHERE meter_id = $1::bigint AND storage = 0 AND tariff = 0 AND kind IN (0, 1, 2) AND read_at >= \(instant("$2"))
        UNION
        SELECT 0 WHERE EXISTS (
            SELECT 1 FROM interval_readings WHERE meter_id = $1::bigint AND interval_start >= \(instant("$2")))
        ORDER BY 1
        """

    private static let readColumns = """
        \(micros("r.read_at")), \(micros("r.received_at")), r.kind, r.volume_ml, r.register_modulus_ml,
            r.flow_ml_per_h, r.valve, r.protection::text
        """

    /// Reads in the order the meter took them: by read time and, within one second (meter clocks tick in whole
    /// seconds, and an alarm snapshot and a reading are often taken in the same one), by the native frame counter
    /// the meter's key authenticated, which counts up; other protocols' counters (M-Bus access numbers, CJ/T 188
    /// SER) wrap at 255 and are left out. Without it a reading and a lower alarm snapshot of the same second came in
    /// kind order, and the snapshot was rejected as an index decrease.
    private static let takenOrder = "r.read_at, CASE WHEN r.source = 'native' THEN r.frame_counter END, r.kind"

    /// ``takenOrder`` backwards.
    private static let takenOrderDescending =
        "r.read_at DESC, CASE WHEN r.source = 'native' THEN r.frame_counter END DESC, r.kind DESC"

    /// The last read before the window that was valid (or never validated).
    static let previousValidRead = """
        SELECT \(readColumns), false, NULL
        FROM readings r
        WHERE r.meter_id = $1::bigint AND r.basis = $2::smallint AND r.storage = 0 AND r.tariff = 0
            AND r.kind IN (0, 1, 2) AND r.read_at < \(instant("$3")) AND (r.quality IS NULL OR r.quality = 0)
        ORDER BY \(takenOrderDescending)
        LIMIT 1
        """

    /// The window's reads with: a recorded conflict, the latest review decision, the stored quality and reasons.
    static let windowReads = """
        SELECT \(readColumns),
            EXISTS (
                SELECT 1 FROM value_conflicts c
                WHERE c.series = 'reading' AND c.meter_id = r.meter_id AND c.at = r.read_at AND c.kind = r.kind
                    AND c.basis = r.basis AND c.storage = 0 AND c.tariff = 0),
            (SELECT v.decision FROM reading_reviews v
                WHERE v.meter_id = r.meter_id AND v.read_at = r.read_at AND v.kind = r.kind AND v.basis = r.basis
                ORDER BY v.id DESC LIMIT 1),
            r.quality, r.reasons
        FROM readings r
        WHERE r.meter_id = $1::bigint AND r.basis = $2::smallint AND r.storage = 0 AND r.tariff = 0
            AND r.kind IN (0, 1, 2) AND r.read_at >= \(instant("$3"))
        ORDER BY \(takenOrder)
        """

    static let windowIntervals = """
        SELECT \(micros("interval_start")), interval_minutes, volume_ml, protection::text FROM interval_readings
        WHERE meter_id = $1::bigint AND interval_start >= \(instant("$2"))
        ORDER BY interval_start
        """

    /// The latest decision per reviewed day from $3 on.
    static let dayReviews = """
        SELECT DISTINCT ON (v.day) \(micros("d.day_start")), v.decision
        FROM day_reviews v
        JOIN daily_reads d ON d.meter_id = v.meter_id AND d.basis = v.basis AND d.day = v.day
        WHERE v.meter_id = $1::bigint AND v.basis = $2::smallint AND d.day_start >= \(instant("$3"))
        ORDER BY v.day, v.id DESC
        """

    static let history = """
        SELECT \(micros("day_start")), volume_ml, quality, valve FROM daily_reads
        WHERE meter_id = $1::bigint AND basis = $2::smallint AND day_start < \(instant("$3"))
        ORDER BY day_start DESC LIMIT $4::integer
        """

    /// $3 read times (µs), $4 kinds, $5 qualities, $6 reasons as comma-joined names.
    static let updateReadings = """
        UPDATE readings r SET quality = u.quality, reasons = string_to_array(u.reasons, ','), validated_at = now()
        FROM unnest($3::bigint[], $4::smallint[], $5::smallint[], $6::text[]) AS u (at_us, kind, quality, reasons)
        WHERE r.meter_id = $1::bigint AND r.basis = $2::smallint AND r.storage = 0 AND r.tariff = 0
            AND r.read_at = \(instant("u.at_us")) AND r.kind = u.kind
        """

    /// The stored days from $3 on, with the fingerprint ``ValidationStore/dayFields(_:settings:)`` builds.
    static let existingDays = """
        SELECT \(micros("day_start")),
            concat_ws('|', start_index_ml, end_index_ml, volume_ml, quality, array_to_string(reasons, ','), valve,
                coalesce(interval_minutes::text, ''), coalesce(intervals_ml::text, ''),
                coalesce(intervals_estimated::text, ''), protection::text),
            version, published_version
        FROM daily_reads
        WHERE meter_id = $1::bigint AND basis = $2::smallint AND day_start >= \(instant("$3"))
        """

    static let upsertDay = """
        INSERT INTO daily_reads (meter_id, basis, day, day_start, start_index_ml, end_index_ml, volume_ml, quality,
            reasons, valve, interval_minutes, intervals_ml, intervals_estimated, version, published_version, protection)
        VALUES ($1::bigint, $2::smallint, $3::date, \(instant("$4")), $5::bigint, $6::bigint, $7::bigint, $8::smallint,
            $9::text[], $10::smallint, $11::smallint, $12::bigint[], $13::boolean[], $14::integer, $15::integer,
            $16::protection_level)
        ON CONFLICT (meter_id, basis, day) DO UPDATE SET
            day_start = excluded.day_start, start_index_ml = excluded.start_index_ml,
            end_index_ml = excluded.end_index_ml, volume_ml = excluded.volume_ml, quality = excluded.quality,
            reasons = excluded.reasons, valve = excluded.valve, interval_minutes = excluded.interval_minutes,
            intervals_ml = excluded.intervals_ml, intervals_estimated = excluded.intervals_estimated,
            version = excluded.version, published_version = excluded.published_version,
            protection = excluded.protection, updated_at = now()
        """

    /// Appends the stored day ($1 meter, $2 basis, $3 date, $4 version) to the feed; $5 whether it corrects an
    /// earlier publication.
    static let publishDay = """
        INSERT INTO billing_feed (meter_id, basis, day, day_start, version, is_correction, start_index_ml,
            end_index_ml, volume_ml, quality, reasons, interval_minutes, intervals_ml, intervals_estimated, protection)
        SELECT meter_id, basis, day, day_start, version, $5::boolean, start_index_ml, end_index_ml, volume_ml,
            quality, reasons, interval_minutes, intervals_ml, intervals_estimated, protection
        FROM daily_reads
        WHERE meter_id = $1::bigint AND basis = $2::smallint AND day = $3::date AND version = $4::integer
        """

    /// Class MPE below Qt in basis points (the tolerance of a daily volume), class 1.5 when unknown.
    private static func mpe(_ column: String) -> String {
        "(CASE \(column) WHEN '0.5' THEN 100 WHEN '1.0' THEN 200 ELSE 300 END)"
    }

    /// Supply meters whose billable day exceeds the sum of their district's customers beyond the combined
    /// tolerance, once every customer has a billable day: (meter, protocol, day end µs, imbalance ml).
    static let districtImbalance = """
        WITH day_volume AS (
            SELECT DISTINCT ON (d.meter_id, d.day) d.meter_id, d.day, d.day_start, d.volume_ml
            FROM daily_reads d
            WHERE d.basis IN (0, 1) AND d.quality IN (0, 1) AND d.day_start >= \(instant("$1"))
            ORDER BY d.meter_id, d.day, d.basis
        ),
        supply AS (
            SELECT m.id, m.protocol, m.district, v.day, v.day_start, v.volume_ml,
                v.volume_ml * \(mpe("m.accuracy_class")) / 10000 AS tolerance
            FROM meters m JOIN day_volume v ON v.meter_id = m.id
            WHERE m.role = 'district_supply' AND m.district IS NOT NULL
        ),
        customers AS (
            SELECT s.id AS supply_id, s.day, count(c.id) AS meters, count(v.meter_id) AS reported,
                coalesce(sum(v.volume_ml), 0) AS volume_ml,
                coalesce(sum(v.volume_ml * \(mpe("c.accuracy_class")) / 10000), 0) AS tolerance
            FROM supply s
            JOIN meters c ON c.district = s.district AND c.role = 'customer'
            LEFT JOIN day_volume v ON v.meter_id = c.id AND v.day = s.day
            GROUP BY s.id, s.day
        )
        SELECT s.id, s.protocol, \(micros("s.day_start + interval '1 day'")), s.volume_ml - c.volume_ml
        FROM supply s JOIN customers c ON c.supply_id = s.id AND c.day = s.day
        WHERE c.meters > 0 AND c.reported = c.meters AND s.volume_ml - c.volume_ml > s.tolerance + c.tolerance
        ORDER BY s.id, s.day
        """
}
