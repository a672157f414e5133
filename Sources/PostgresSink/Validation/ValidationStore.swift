public import GatewayCore
public import GatewayDomain

/// A meter waiting in `validation_queue`.
public struct DirtyMeter: Sendable, Equatable {
    /// `meters.id`.
    public var meterID: Int64
    /// The earliest read time of new data since the meter was last validated.
    public var dirtyFrom: Timestamp
    /// Bumped by every ingest that touches the meter; the validator dequeues only the version it saw.
    public var version: Int64
}

/// What one meter's validation changed.
public struct MeterValidationSummary: Sendable, Equatable {
    /// Another validator holds the meter; it stays queued.
    public var wasBusy = false
    /// Readings judged (every reading of the window, changed or not).
    public var readsValidated = 0
    /// Readings whose stored quality or reasons changed.
    public var readsChanged = 0
    /// Days whose determinants changed (inserted or updated in `daily_reads`).
    public var daysChanged = 0
    /// Rows appended to `billing_feed` (first publications and corrections).
    public var published = 0
    /// Of the published rows, those that correct an earlier publication.
    public var corrections = 0
    /// Reads per quality after this run (of the reads in the window).
    public var qualityCounts: [ReadQuality: Int] = [:]
    /// Leak-signature alarms newly stored, and the ticket changes they made.
    public var signatureAlarms = 0
    /// The ticket events the signature alarms caused.
    public var ticketEvents: [TicketEventSummary] = []

    /// An empty summary.
    public init() {}
}

/// The validator's side of the database: the validation queue, the validation transaction of a batch of meters
/// (reading verdicts, daily reads, billing-feed publications, leak-signature alarms; set-based, with a constant
/// number of statements per batch) and the district balance.
///
/// Thread rules: a value over a ``PostgresDatabase``; every statement runs on the database's own thread. The rules
/// themselves are pure (``ValidationEngine``, ``LeakSignatures``, ``BillingDay``); this store reads their input and
/// writes their verdicts.
public struct ValidationStore: Sendable {
    let database: any PostgresDatabase
    let rules: TicketRules

    /// Creates a store over a session or pool.
    /// - Parameters:
    ///   - database: Where the SQL runs.
    ///   - rules: The ticket rules applied to the alarms validation raises (leak signatures, district balance).
    public init(_ database: any PostgresDatabase, rules: TicketRules = TicketRules()) {
        self.database = database
        self.rules = rules
    }

    /// Marks the meters a batch touched for validation, from the earliest read or interval of each. Runs inside
    /// the ingest transaction, so a committed reading is always either validated or queued.
    static func markForValidation(_ batch: SinkBatch, on connection: PostgresConnection) throws {
        guard let statement = validationQueueing(batch) else { return }
        _ = try connection.rows(statement)
    }

    /// The statement that queues the meters `batch` touched for validation (``markForValidation(_:on:)``), or nil
    /// when it touched none that validation reads.
    static func validationQueueing(_ batch: SinkBatch) -> PipelinedStatement? {
        var earliest: [Int64: Int64] = [:]
        for reading in batch.readings where reading.storage == 0 && reading.tariff == 0 && reading.kind != .historic {
            let at = reading.readAt.microsecondsSinceEpoch
            if let known = earliest[reading.meterID], known <= at { continue }
            earliest[reading.meterID] = at
        }
        for interval in batch.intervals {
            let at = interval.intervalStart.microsecondsSinceEpoch
            if let known = earliest[interval.meterID], known <= at { continue }
            earliest[interval.meterID] = at
        }
        guard !earliest.isEmpty else { return nil }
        let meters = earliest.keys.sorted()
        return PipelinedStatement(ValidationSQL.enqueue, [meters, meters.map { earliest[$0] ?? 0 }])
    }

    /// Analyses the partitions of `readings` and `interval_days` whose statistics are missing or far behind
    /// (``ValidationBatchSQL/partitionsWithoutStatistics``), so that the validator's next statements are planned
    /// on what the partitions hold. A role that does not own a partition cannot analyse it: PostgreSQL skips it with
    /// a warning, and autovacuum remains the only remedy there.
    /// - Returns: The partitions analysed (or skipped for want of ownership).
    /// - Throws: ``PostgresError``.
    @discardableResult
    public func analyzePartitionsWithoutStatistics() async throws -> [String] {
        try await database.withConnection { connection in
            let names = try connection.query(ValidationBatchSQL.partitionsWithoutStatistics).compactMap {
                $0.first ?? nil
            }
            for name in names { _ = try connection.execute("ANALYZE \(name)") }
            return names
        }
    }

    /// The meters waiting for validation, longest-waiting first.
    /// - Parameters:
    ///   - limit: At most this many.
    ///   - settledSeconds: Only meters queued at least this long ago, so that a meter sending several frames in a
    ///     row is validated once for all of them.
    /// - Returns: The queue rows.
    /// - Throws: ``PostgresError``.
    public func dirtyMeters(limit: Int, settledSeconds: Int = 0) async throws -> [DirtyMeter] {
        try await database.withConnection { connection in
            try connection.query(ValidationSQL.dirtyMeters, [limit, settledSeconds], as: DirtyMeter.self)
        }
    }

    /// Validates one queued meter in one transaction (a batch of one, ``validate(batch:settings:signatures:now:)``):
    /// every billing channel (storage 0, tariff 0, per volume basis) from the day before `dirtyFrom` on. Stores the
    /// changed reading verdicts apart from the insert-only readings (`validated_reading_days`, `reading_verdicts`,
    /// migration v25), upserts the changed `daily_reads`, publishes new billable days and every change to a published day to
    /// `billing_feed`, and dequeues the meter if no newer data arrived meanwhile.
    /// - Parameters:
    ///   - meter: The queue row.
    ///   - settings: The rule parameters.
    ///   - signatures: The leak-signature thresholds, or `nil` to skip the signatures. Their alarms are stored in
    ///     the same transaction and open or join tickets like any alarm.
    ///   - now: The current time (days are determined only once they ended).
    /// - Returns: What changed.
    /// - Throws: ``PostgresError``; nothing is written then.
    public func validate(
        _ meter: DirtyMeter,
        settings: ValidationSettings,
        signatures: SignatureSettings? = nil,
        now: Timestamp
    ) async throws -> MeterValidationSummary {
        try await validate(batch: [meter], settings: settings, signatures: signatures, now: now).totals
    }

    /// Stores alarms the validator raised and runs the ticket step for them, in the caller's transaction (the
    /// alarm stage tables are the session's, emptied at its commit).
    static func storeAlarms(
        _ alarms: [AlarmRecord],
        rules: TicketRules,
        now: Timestamp,
        on connection: PostgresConnection
    ) throws -> CommitSummary {
        try StageTables.ensureSessionTables([StageTables.alarms, StageTables.newAlarms], on: connection)
        var encoder = BinaryCopyEncoder(reservingCapacity: alarms.count * 96 + 64)
        var commit = CommitSummary()
        try TelemetryStore.writeAlarms(
            alarms,
            rules: rules,
            now: now,
            encoder: &encoder,
            into: &commit,
            on: connection
        )
        return commit
    }

    /// The parameter values of a day row ($3…$13 of ``ValidationBatchSQL/upsertDays``) and a fingerprint to compare with
    /// the stored row.
    static func dayFields(
        _ day: DailyDeterminant,
        settings: ValidationSettings
    ) -> (values: [String?], fingerprint: String) {
        let date = settings.billingZone.date(of: day.dayStart).description
        let reasons = day.reasons.names.joined(separator: ",")
        let hasIntervals = !day.intervals.isEmpty
        let volumes = hasIntervals ? day.intervals.map(\.volumeMillilitres).postgresText : nil
        let estimated =
            hasIntervals ? "{" + day.intervals.map { $0.isEstimated ? "t" : "f" }.joined(separator: ",") + "}" : nil
        let minutes = day.intervals.first.map { String($0.minutes) }
        let values: [String?] = [
            date, String(day.dayStart.microsecondsSinceEpoch), String(day.startIndexMillilitres),
            String(day.endIndexMillilitres), String(day.volumeMillilitres), day.quality.postgresText, "{\(reasons)}",
            String(day.valve.rawValue), minutes, volumes, estimated,
        ]
        let fingerprint = [
            String(day.startIndexMillilitres), String(day.endIndexMillilitres), String(day.volumeMillilitres),
            day.quality.postgresText, reasons, String(day.valve.rawValue), minutes ?? "", volumes ?? "",
            estimated ?? "", day.protection.code,
        ].joined(separator: "|")
        return (values, fingerprint)
    }

    /// The district balance: for each district supply meter and billing day since `since`, the supply's volume
    /// minus the sum of its district's customer meters (metering conditions: basis 0 or 1), once every customer
    /// meter has a billable day. When the difference exceeds the meters' combined tolerance (each meter's volume ×
    /// its class MPE below Qt: 3 % for class 1.5, 2 % for 1.0, 1 % for 0.5; class 1.5 when unknown), a
    /// `network_leak_suspected` alarm is stored on the supply meter (raised at the day's end, detail = the
    /// difference in ml), which opens a P1 ticket. Stored alarms are not repeated.
    /// - Parameters:
    ///   - since: The earliest day start to check.
    ///   - zone: The zone of billing days (``ValidationSettings/billingZone``): a day ends at its next local midnight,
    ///     which PostgreSQL computes with the zone's name (`AT TIME ZONE`).
    ///   - now: Recorded as the alarms' receive time.
    /// - Returns: The alarms newly stored.
    /// - Throws: ``PostgresError``.
    public func checkDistrictBalance(since: Timestamp, zone: TimeZoneRules, now: Timestamp) async throws -> Int {
        try await database.withTransaction { connection in
            let alarms = try connection.rows(ValidationSQL.districtImbalance, [since, zone.postgresName]).map { row in
                AlarmRecord(
                    meterID: try row.decode(0),
                    raisedAt: try row.decode(2),
                    receivedAt: now,
                    source: try row.decode(1),
                    rawCode: LeakSignatures.Code.networkImbalance,
                    condition: .networkLeakSuspected,
                    isCleared: false,
                    priority: rules.policy.priority(for: .networkLeakSuspected, valve: .unknown),
                    valve: .unknown,
                    detail: try row.decode(3),
                    frameCounter: nil
                )
            }
            guard !alarms.isEmpty else { return 0 }
            return try Self.storeAlarms(alarms, rules: rules, now: now, on: connection).alarmsInserted
        }
    }
}

// MARK: Rows

extension DirtyMeter: PostgresRowDecodable {
    /// Decodes the columns of ``ValidationSQL/dirtyMeters``: meter id, dirty-from µs, version.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) for a NULL or malformed column.
    public init(row: PostgresRow) throws {
        self.init(meterID: try row.decode(0), dirtyFrom: try row.decode(1), version: try row.decode(2))
    }
}

/// A quality as `readings`, `daily_reads` and `billing_feed` store it (migration v7): its raw value, 0 valid,
/// 1 estimated, 2 suspect, 3 rejected.
extension ReadQuality: PostgresDecodable, PostgresEncodable {
    public init?(postgresText: String) {
        guard let raw = Int16(postgresText, radix: 10) else { return nil }
        self.init(rawValue: raw)
    }

    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) {
        guard let raw = Int16(postgresBytes: postgresBytes) else { return nil }
        self.init(rawValue: raw)
    }

    public var postgresText: String { String(rawValue) }
}

extension ReviewDecision: PostgresDecodable {}

/// A meter's rule parameters and signature facts (``ValidationBatchSQL/meterLimits``).
struct MeterRow {
    var limits: MeterLimits
    var source: FrameProtocol?
    var size: GasMeterSize?
    var hasContinuousAppliance: Bool
    var role: String?

    /// Reads the row; the verification expires at the start of its expiry date in `zone` (the billing day's).
    init(row: PostgresRow, zone: TimeZoneRules) throws {
        var limits = MeterLimits()
        limits.qminMillilitresPerHour = try row.decode(0, as: Int64?.self)
        limits.qmaxMillilitresPerHour = try row.decode(1, as: Int64?.self)
        limits.registerModulusMillilitres = try row.decode(2, as: Int?.self).flatMap(
            MeterProfile.registerModulus(digits:)
        )
        limits.verificationExpiresAt = try row.decode(3, as: Int64?.self).map {
            zone.startOfDay(CivilDate(Timestamp(secondsSinceEpoch: $0 * 86_400)))
        }
        self.limits = limits
        self.source = try row.decode(4, as: FrameProtocol?.self)
        self.size = try row.decode(5, as: String?.self).flatMap { GasMeterSize(rawValue: $0) }
        self.hasContinuousAppliance = try row.decode(6, as: Bool?.self) ?? false
        self.role = try row.decode(7, as: String?.self)
    }
}

/// A reading of the validation window (``ValidationSQL/windowReads``, ``ValidationSQL/previousValidRead``): the
/// rule input and the verdict stored on the row.
struct WindowRead: PostgresRowDecodable {
    var read: IndexRead
    var quality: ReadQuality?
    var reasons: [String]?

    /// Columns: read_at µs, received_at µs, kind, volume, modulus, flow, valve, protection, has conflict, review
    /// decision, stored quality, stored reasons (the last two only when the row has them).
    init(row: PostgresRow) throws {
        try self.init(row: row, hasVerdict: row.count > 10)
    }

    /// Columns as ``init(row:)``; `hasVerdict` says whether columns 10 and 11 are the stored quality and reasons
    /// (further columns are the caller's).
    init(row: PostgresRow, hasVerdict: Bool) throws {
        guard let kind = ReadingKind(rawValue: try row.decode(2)) else {
            throw PostgresError(code: .unexpectedResult, message: "column 2 is not a reading kind")
        }
        self.read = IndexRead(
            readAt: try row.decode(0),
            receivedAt: try row.decode(1),
            kind: kind,
            volumeMillilitres: try row.decode(3),
            registerModulusMillilitres: try row.decode(4),
            flowMillilitresPerHour: try row.decode(5, as: Int64?.self),
            valve: try row.decode(6, as: Int16?.self).flatMap { ValveState(rawValue: $0) } ?? .unknown,
            hasConflict: try row.decode(8, as: Bool?.self) ?? false,
            review: try row.decode(9, as: ReviewDecision?.self),
            protection: try ProtectionLevel(storedCode: row.decode(7), column: 7)
        )
        // The previous valid read has no stored verdict columns.
        self.quality = hasVerdict ? try row.decode(10, as: ReadQuality?.self) : nil
        self.reasons = hasVerdict ? try row.decode(11, as: [String]?.self) : nil
    }
}

/// A stored day's version state (``ValidationSQL/existingDays``).
struct StoredDay: PostgresRowDecodable {
    var dayStart: Timestamp
    var fingerprint: String
    var version: Int
    var published: Int

    init(row: PostgresRow) throws {
        self.dayStart = try row.decode(0)
        self.fingerprint = try row.decode(1)
        self.version = try row.decode(2)
        self.published = try row.decode(3)
    }
}
