/// The statements of the validation queue, the district balance and the pieces the validator's set-based statements
/// share (``ValidationBatchSQL``).
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

    static let lockFeed = "SELECT pg_advisory_xact_lock(\(feedLockKey))"

    static let readColumns = """
        \(micros("r.read_at")), \(micros("r.received_at")), r.kind, r.volume_ml, r.register_modulus_ml,
            r.flow_ml_per_h, r.valve, r.protection::text
        """

    /// Reads in the order the meter took them: by read time and, within one second (meter clocks tick in whole
    /// seconds, and an alarm snapshot and a reading are often taken in the same one), by the native frame counter
    /// the meter's key authenticated, which counts up; other protocols' counters (M-Bus access numbers, CJ/T 188
    /// SER) wrap at 255 and are left out. Without it a reading and a lower alarm snapshot of the same second came in
    /// kind order, and the snapshot was rejected as an index decrease.
    static let takenOrder = "r.read_at, CASE WHEN r.source = 'native' THEN r.frame_counter END, r.kind"

    /// ``takenOrder`` backwards.
    static let takenOrderDescending =
        "r.read_at DESC, CASE WHEN r.source = 'native' THEN r.frame_counter END DESC, r.kind DESC"

    /// Class MPE below Qt in basis points (the tolerance of a daily volume), class 1.5 when unknown.
    private static func mpe(_ column: String) -> String {
        "(CASE \(column) WHEN '0.5' THEN 100 WHEN '1.0' THEN 200 ELSE 300 END)"
    }

    /// Supply meters whose billable day exceeds the sum of their district's customers beyond the combined
    /// tolerance, once every customer has a billable day: (meter, protocol, day end µs, imbalance ml). The day ends
    /// at the next local midnight in the billing zone `$2` (a name `AT TIME ZONE` reads, ``TimeZoneRules/postgresName``):
    /// 23 or 25 hours after its start across a clock change.
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
        SELECT s.id, s.protocol, \(micros("((s.day + 1)::timestamp AT TIME ZONE $2::text)")), s.volume_ml - c.volume_ml
        FROM supply s JOIN customers c ON c.supply_id = s.id AND c.day = s.day
        WHERE c.meters > 0 AND c.reported = c.meters AND s.volume_ml - c.volume_ml > s.tolerance + c.tolerance
        ORDER BY s.id, s.day
        """
}
