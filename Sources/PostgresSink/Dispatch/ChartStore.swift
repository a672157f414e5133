public import GatewayCore
public import GatewayDomain

/// Reads what the charts show and builds them: a meter's consumption (``ConsumptionChart``) and a district's
/// balance (``DistrictBalanceChart``). Read-only; it runs on the ``PostgresDatabase`` it is given (the HTTP APIs'
/// pool, or a session for the command line).
public struct ChartStore: Sendable {
    let database: any PostgresDatabase
    /// "Now" for the routes that chart the days up to today.
    public let clock: @Sendable () -> Timestamp

    /// Creates a store over a session or a pool.
    /// - Parameters:
    ///   - database: Where the statements run.
    ///   - clock: "Now" for callers that chart the days up to today.
    public init(_ database: any PostgresDatabase, clock: @escaping @Sendable () -> Timestamp = WallClock.now) {
        self.database = database
        self.clock = clock
    }

    /// What a chart could not find.
    public struct NotFound: Error, Sendable, Equatable, CustomStringConvertible {
        /// `meter`, `ticket` or `district`.
        public enum Subject: String, Sendable {
            case meter, ticket, district
        }

        public var subject: Subject
        public var message: String

        public var description: String { message }
    }

    /// A meter's consumption chart over whole local days of the signatures' zone.
    ///
    /// Without a ticket the days end with today (the day holding `now`); with one, they end with the day the ticket
    /// opened, so a ticket's chart shows what raised it however long ago that was.
    /// - Parameters:
    ///   - meter: The meter's protocol and address.
    ///   - days: How many days (1…366).
    ///   - ticketID: The ticket to explain; it must be the meter's.
    ///   - now: "Now".
    ///   - settings: The signatures' thresholds and zone (the validator's).
    /// - Returns: The chart, ready to render.
    /// - Throws: ``NotFound`` for an unknown meter or a ticket that is not the meter's; ``PostgresError``.
    public func consumptionChart(
        meter: (protocol: FrameProtocol, address: String),
        days: Int,
        ticketID: Int64?,
        now: Timestamp,
        settings: SignatureSettings
    ) async throws -> ConsumptionChart {
        // A lookup that finds nothing is returned, not thrown, inside: the session logs what its body throws as a
        // database failure.
        try await database.withConnection { connection -> Result<ConsumptionChart, NotFound> in
            guard let row = try connection.rows(ChartSQL.meter, [meter.protocol, meter.address]).first else {
                return .failure(
                    NotFound(
                        subject: .meter,
                        message: "no \(meter.protocol.rawValue) meter \(meter.address) is registered"
                    )
                )
            }
            let meterID: Int64 = try row.decode(0)
            let signatureMeter = SignatureMeter(
                meterID: meterID,
                source: meter.protocol,
                sizeMillicubicPerHour: try row.decode(1, as: String?.self).flatMap { GasMeterSize(rawValue: $0) }?
                    .millicubicPerHour,
                qmaxMillilitresPerHour: try row.decode(2, as: Int64?.self),
                hasContinuousAppliance: try row.decode(3, as: Bool?.self) ?? false
            )
            var ticket: ConsumptionChart.Ticket?
            if let ticketID {
                guard let found = try connection.rows(ChartSQL.ticket, [ticketID, meterID]).first else {
                    let message =
                        "ticket \(ticketID) is not a ticket of \(meter.protocol.rawValue) meter \(meter.address)"
                    return .failure(NotFound(subject: .ticket, message: message))
                }
                ticket = ConsumptionChart.Ticket(
                    id: ticketID,
                    condition: try found.decode(0),
                    priority: try found.decode(1),
                    openedAt: try found.decode(2)
                )
            }
            let period = ChartPeriod(days: days, endingWithDayOf: ticket?.openedAt ?? now, zone: settings.zone)
            let intervals = try connection.rows(ChartSQL.intervals, [meterID, period.start, period.end]).map {
                IntervalValue(
                    start: try $0.decode(0),
                    minutes: try $0.decode(1),
                    volumeMillilitres: try $0.decode(2),
                    isEstimated: false
                )
            }
            let reads = try connection.rows(ChartSQL.reads, [meterID, period.start, period.end]).map {
                row -> (read: IndexRead, quality: ReadQuality) in
                let read = IndexRead(
                    readAt: try row.decode(0),
                    receivedAt: try row.decode(0),
                    kind: ReadingKind(rawValue: try row.decode(1)) ?? .periodic,
                    volumeMillilitres: try row.decode(2),
                    valve: try row.decode(3, as: Int16?.self).flatMap { ValveState(rawValue: $0) } ?? .unknown
                )
                return (read, try row.decode(4, as: ReadQuality.self))
            }
            let alarms = try connection.rows(ChartSQL.alarms, [meterID, period.start, period.end]).map {
                ConsumptionChart.Alarm(raisedAt: try $0.decode(0), condition: try $0.decode(1))
            }
            return .success(
                ConsumptionChart(
                    meterLabel: "\(meter.protocol.rawValue) \(meter.address)",
                    meter: signatureMeter,
                    period: period,
                    intervals: intervals,
                    reads: reads,
                    alarms: alarms,
                    ticket: ticket,
                    settings: settings
                )
            )
        }.get()
    }

    /// A district's balance chart over the `days` local days ending with the one holding `now`.
    /// - Parameters:
    ///   - district: The district.
    ///   - days: How many days (1…366).
    ///   - now: "Now".
    ///   - zone: The zone of billing days.
    /// - Returns: The chart.
    /// - Throws: ``NotFound`` when no meter is in the district; ``PostgresError``.
    public func districtBalanceChart(
        district: String,
        days: Int,
        now: Timestamp,
        zone: TimeZoneRules
    ) async throws -> DistrictBalanceChart {
        try await database.withConnection { connection -> Result<DistrictBalanceChart, NotFound> in
            let supply = try connection.rows(ChartSQL.districtMeters, [district]).first
            guard let supply else {
                return .failure(NotFound(subject: .district, message: "no meter is in district \(district)"))
            }
            let supplyLabel: String? = try supply.decode(0, as: String?.self)
            let period = ChartPeriod(days: days, endingWithDayOf: now, zone: zone)
            var supplyID: Int64?
            var balance: [DistrictBalanceChart.Day] = []
            for row in try connection.rows(ChartSQL.districtBalance, [period.start, district, period.end]) {
                // One supply meter per district is the usual; with more, the first (lowest id) is shown.
                let id: Int64 = try row.decode(0)
                guard supplyID == nil || supplyID == id else { continue }
                supplyID = id
                balance.append(
                    DistrictBalanceChart.Day(
                        dayStart: try row.decode(1),
                        supplyMillilitres: try row.decode(2),
                        customersMillilitres: try row.decode(3),
                        toleranceMillilitres: try row.decode(4),
                        customerMeters: try row.decode(5),
                        customersReported: try row.decode(6),
                        isImbalanced: try row.decode(7)
                    )
                )
            }
            return .success(
                DistrictBalanceChart(district: district, supplyLabel: supplyLabel, period: period, days: balance)
            )
        }.get()
    }
}

/// The statements of ``ChartStore``. Instants travel as µs since 1970.
enum ChartSQL {
    private static func instant(_ micros: String) -> String { ValidationSQL.instant(micros) }
    private static func micros(_ expression: String) -> String { WriterSQL.epochMicros(expression) }

    /// $1 protocol, $2 address: id, size, Qmax, continuous appliance.
    static let meter = """
        SELECT id, size, qmax_ml_per_h, continuous_appliance FROM meters WHERE protocol = $1 AND address = $2
        """

    /// $1 ticket, $2 meter: condition, priority, opened at.
    static let ticket = """
        SELECT condition, priority, \(micros("opened_at")) FROM repair_tickets
        WHERE id = $1::bigint AND meter_id = $2::bigint
        """

    /// $1 meter, [$2, $3) µs: the intervals starting then, in start order (read from `interval_days` by UTC day, the
    /// way the `interval_readings` view unnests them, so only the period's rows are touched).
    static let intervals = """
        SELECT \(micros("p.interval_start")), p.interval_minutes, p.volume_ml
        FROM interval_days d CROSS JOIN LATERAL interval_day_points(d) AS p
        WHERE d.meter_id = $1::bigint
            AND d.day BETWEEN (\(instant("$2")) AT TIME ZONE 'UTC')::date AND (\(instant("$3")) AT TIME ZONE 'UTC')::date
            AND p.interval_start >= \(instant("$2")) AND p.interval_start < \(instant("$3"))
        ORDER BY p.interval_start
        """

    /// $1 meter, [$2, $3) µs: the validated main-register reads (one per instant and kind, the lowest basis), in the
    /// order the meter took them: read at, kind, volume, valve, quality.
    static let reads = """
        SELECT DISTINCT ON (r.read_at, r.kind) \(micros("r.read_at")), r.kind, r.volume_ml, r.valve, r.quality
        FROM readings_validated r
        WHERE r.meter_id = $1::bigint AND r.storage = 0 AND r.tariff = 0 AND r.quality IS NOT NULL
            AND r.read_at >= \(instant("$2")) AND r.read_at < \(instant("$3"))
        ORDER BY r.read_at, r.kind, r.basis
        """

    /// $1 meter, [$2, $3) µs: alarms raised then (at most 500), raised at and condition.
    static let alarms = """
        SELECT \(micros("raised_at")), condition FROM alarms
        WHERE meter_id = $1::bigint AND raised_at >= \(instant("$2")) AND raised_at < \(instant("$3"))
        ORDER BY raised_at LIMIT 500
        """

    /// $1 district: its supply meter's protocol and address (NULL when it has none), one row when any meter is there.
    static let districtMeters = """
        SELECT (SELECT protocol || ' ' || address FROM meters
                WHERE district = $1::text AND role = 'district_supply' ORDER BY id LIMIT 1)
        FROM meters WHERE district = $1::text LIMIT 1
        """

    /// $1 first day start, $2 district, $3 end (µs): ``ValidationSQL/balanceDays(district:)`` per supply meter and
    /// day: supply id, day start, supply, customers, tolerance (ml), meters, reported, imbalanced.
    static let districtBalance = """
        \(ValidationSQL.balanceDays(district: "$2"))
        SELECT b.id, \(micros("b.day_start")), b.supply_ml, b.customers_ml::bigint, b.tolerance_ml::bigint, b.meters,
            b.reported, b.imbalanced
        FROM balance b
        WHERE b.day_start < \(instant("$3"))
        ORDER BY b.id, b.day
        """
}

extension ChartStore {
    /// A chart store on the dispatch store's database, with its clock.
    /// - Parameter dispatch: The dispatch store whose database the charts read.
    public init(sharing dispatch: DispatchStore) {
        self.init(dispatch.database, clock: dispatch.clock)
    }
}
