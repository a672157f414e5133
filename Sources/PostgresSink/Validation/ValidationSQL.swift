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

    /// The columns of a read, `r` a row of the view `readings_validated`.
    static let readColumns = """
        \(micros("r.read_at")), \(micros("r.received_at")), r.kind, r.volume_ml, r.register_modulus_ml,
            r.flow_ml_per_h, r.valve, r.protection::text
        """

    /// ``readColumns`` of `r` a row of the table `readings`, which stores the protection level in
    /// `protection_flags` (migration v28).
    static let storedReadColumns = """
        \(micros("r.read_at")), \(micros("r.received_at")), r.kind, r.volume_ml, r.register_modulus_ml,
            r.flow_ml_per_h, r.valve, reading_protection(r.protection_flags)::text
        """

    /// Reads in the order the meter took them: by read time and, within one second (meter clocks tick in whole
    /// seconds, and an alarm snapshot and a reading are often taken in the same one), by the native frame counter
    /// the meter's key authenticated, which counts up; other protocols' counters (M-Bus access numbers, CJ/T 188
    /// SER) wrap at 255 and are left out. Without it a reading and a lower alarm snapshot of the same second came in
    /// kind order, and the snapshot was rejected as an index decrease.
    static let takenOrder = "r.read_at, CASE WHEN r.source = 'native' THEN r.frame_counter END, r.kind"

    /// ``takenOrder`` of `r` a row of the table `readings`, which stores the source as its code (migration v28; 1 is
    /// native).
    static let storedTakenOrder = "r.read_at, CASE WHEN r.source = 1 THEN r.frame_counter END, r.kind"

    /// ``takenOrder`` backwards.
    static let takenOrderDescending =
        "r.read_at DESC, CASE WHEN r.source = 'native' THEN r.frame_counter END DESC, r.kind DESC"

    /// ``takenOrderDescending`` of `r` a row of the table `readings`, which stores the source as its code
    /// (migration v28; 1 is native).
    static let storedTakenOrderDescending =
        "r.read_at DESC, CASE WHEN r.source = 1 THEN r.frame_counter END DESC, r.kind DESC"

    /// Class MPE below Qt in basis points (the tolerance of a daily volume), class 1.5 when unknown.
    private static func mpe(_ column: String) -> String {
        "(CASE \(column) WHEN '0.5' THEN 100 WHEN '1.0' THEN 200 ELSE 300 END)"
    }

    /// The district balance per supply meter and billing day from `$1` (µs): the `balance` CTE, one row per day
    /// with the supply meter (id, protocol, address, district), the day (its local date and start), the supply's
    /// volume, the sum of its customers' volumes (metering conditions: basis 0 or 1, billable quality), the
    /// combined tolerance (each meter's volume × its class MPE below Qt: 3 % for class 1.5, 2 % for 1.0, 1 % for
    /// 0.5; class 1.5 when unknown), the customer meters and how many reported, and `imbalanced`: the supply exceeds
    /// the customers by more than the tolerance once every customer has a billable day — the rule of
    /// `network_leak_suspected`, shared by the balance check (``districtImbalance``) and the balance chart
    /// (``ChartSQL/districtBalance``) so the chart shows exactly what the check decided.
    /// - Parameter district: The parameter (e.g. `$3`) naming the one district to balance, `nil` for all.
    static func balanceDays(district: String? = nil) -> String {
        let onlyDistrict = district.map { " AND m.district = \($0)::text" } ?? ""
        let meterFilter =
            district.map { " AND d.meter_id IN (SELECT id FROM meters WHERE district = \($0)::text)" } ?? ""
        return """
            WITH day_volume AS (
                SELECT DISTINCT ON (d.meter_id, d.day) d.meter_id, d.day, d.day_start, d.volume_ml
                FROM daily_reads d
                WHERE d.basis IN (0, 1) AND d.quality IN (0, 1) AND d.day_start >= \(instant("$1"))\(meterFilter)
                ORDER BY d.meter_id, d.day, d.basis
            ),
            supply AS (
                SELECT m.id, m.protocol, m.address, m.district, v.day, v.day_start, v.volume_ml,
                    v.volume_ml * \(mpe("m.accuracy_class")) / 10000 AS tolerance
                FROM meters m JOIN day_volume v ON v.meter_id = m.id
                WHERE m.role = 'district_supply' AND m.district IS NOT NULL\(onlyDistrict)
            ),
            customers AS (
                SELECT s.id AS supply_id, s.day, count(c.id) AS meters, count(v.meter_id) AS reported,
                    coalesce(sum(v.volume_ml), 0) AS volume_ml,
                    coalesce(sum(v.volume_ml * \(mpe("c.accuracy_class")) / 10000), 0) AS tolerance
                FROM supply s
                JOIN meters c ON c.district = s.district AND c.role = 'customer'
                LEFT JOIN day_volume v ON v.meter_id = c.id AND v.day = s.day
                GROUP BY s.id, s.day
            ),
            balance AS (
                SELECT s.id, s.protocol, s.address, s.district, s.day, s.day_start, s.volume_ml AS supply_ml,
                    c.volume_ml AS customers_ml, s.tolerance + c.tolerance AS tolerance_ml, c.meters, c.reported,
                    c.meters > 0 AND c.reported = c.meters
                        AND s.volume_ml - c.volume_ml > s.tolerance + c.tolerance AS imbalanced
                FROM supply s JOIN customers c ON c.supply_id = s.id AND c.day = s.day
            )
            """
    }

    /// Supply meters whose billable day exceeds the sum of their district's customers beyond the combined
    /// tolerance, once every customer has a billable day (``balanceDays(district:)``): (meter, protocol, day end µs,
    /// imbalance ml). The day ends at the next local midnight in the billing zone `$2` (a name `AT TIME ZONE`
    /// reads, ``TimeZoneRules/postgresName``): 23 or 25 hours after its start across a clock change.
    static let districtImbalance = """
        \(balanceDays())
        SELECT b.id, b.protocol, \(micros("((b.day + 1)::timestamp AT TIME ZONE $2::text)")),
            b.supply_ml - b.customers_ml
        FROM balance b
        WHERE b.imbalanced
        ORDER BY b.id, b.day
        """
}
