public import GatewayCore
public import GatewayDomain

/// One published day from `billing_feed`: a first publication or a correction of an earlier one.
public struct BillingRead: Sendable, Equatable {
    /// One interval of the day, in slot order.
    public struct Interval: Sendable, Equatable {
        /// The interval's start.
        public var start: Timestamp
        /// The volume in the interval.
        public var volumeMillilitres: Int64
        /// Whether the gateway estimated the volume (no actual data for the slot).
        public var isEstimated: Bool
    }

    /// The feed position; pages continue after the last one seen.
    public var seq: Int64
    /// The meter's protocol.
    public var `protocol`: FrameProtocol
    /// The meter's address.
    public var meter: String
    /// The meter's district, if registered.
    public var district: String?
    /// The volume channel.
    public var basis: VolumeBasis
    /// The billing day, `YYYY-MM-DD`.
    public var day: String
    /// The first instant of the billing day.
    public var dayStart: Timestamp
    /// 1 for the first publication, higher for each correction.
    public var version: Int
    /// Whether this row replaces an earlier publication of the day.
    public var isCorrection: Bool
    /// The register index at the day's start.
    public var startIndexMillilitres: Int64
    /// The register index at the day's end.
    public var endIndexMillilitres: Int64
    /// The day's volume.
    public var volumeMillilitres: Int64
    /// The day's quality (valid or estimated when first published; a correction may carry any).
    public var quality: ReadQuality
    /// The validation reason codes of the day.
    public var reasons: [String]
    /// The interval length, when the day has interval data.
    public var intervalMinutes: Int?
    /// The day's intervals (empty without interval data).
    public var intervals: [Interval]
    /// The weakest protection of the readings and intervals the day was derived from.
    public var protection: ProtectionLevel
}

/// A reading or a day held for review (quality suspect).
public struct HeldItem: Sendable, Equatable {
    /// What is held.
    public enum Target: Sendable, Equatable {
        /// A reading, identified by its read time and kind.
        case reading(readAt: Timestamp, kind: ReadingKind)
        /// A billing day, `YYYY-MM-DD`.
        case day(String)
    }

    /// The meter's protocol.
    public var `protocol`: FrameProtocol
    /// The meter's address.
    public var meter: String
    /// The volume channel.
    public var basis: VolumeBasis
    /// The held reading or day.
    public var target: Target
    /// The reading's register volume, or the day's volume.
    public var volumeMillilitres: Int64
    /// The validation reason codes that hold it.
    public var reasons: [String]
    /// How the reading was protected, or the weakest protection of what the day was derived from.
    public var protection: ProtectionLevel
    /// Which key protected a held reading (`default`: a manufacturer's published default key); `nil` when none did,
    /// and for a held day.
    public var keySource: KeySource? = nil
    /// Where the item stands in the held list, to continue after it; `nil` when made by hand.
    public var position: HeldPosition? = nil
}

/// The key of a held item in the order of ``BillingStore/heldForReview(after:limit:)``: the readings by
/// (read time, meter id, kind, basis, storage, tariff), then the days by (day, meter id, basis).
public enum HeldPosition: Sendable, Equatable {
    /// A held reading's key.
    case reading(readAt: Timestamp, meterID: Int64, kind: Int16, basis: Int16, storage: Int16, tariff: Int16)
    /// A held day's key; `day` is `YYYY-MM-DD`.
    case day(day: String, meterID: Int64, basis: Int16)
}

/// A meter whose verification has expired.
public struct ExpiredMeter: Sendable, Equatable {
    /// The meter's protocol.
    public var `protocol`: FrameProtocol
    /// The meter's address.
    public var meter: String
    /// The meter's district, if registered.
    public var district: String?
    /// The date the verification expired, `YYYY-MM-DD`.
    public var expiresOn: String
}

/// The billing interfaces: the billing feed, the review queue and reviewers' decisions, expired verifications,
/// and the meter-accuracy tests (``recordAccuracyTest(meter:testedOn:kind:flowMillilitresPerHour:errorBasisPoints:tester:note:table:inServicePercent:)``).
///
/// Thread rules: a value over a ``PostgresDatabase``; every statement runs on the database's own thread. The HTTP
/// APIs use it over a ``PostgresSessionPool`` of their own, so a slow page does not stall ingest or dispatch.
public struct BillingStore: Sendable {
    let database: any PostgresDatabase

    /// Creates a store over a session or pool.
    /// - Parameter database: Where the SQL runs.
    public init(_ database: any PostgresDatabase) {
        self.database = database
    }

    /// The feed after `cursor`, oldest first. Rows commit in `seq` order, so a client that continues from the last
    /// `seq` it saw receives every publication exactly once, corrections included.
    /// - Parameters:
    ///   - cursor: The last `seq` seen (0 for the beginning).
    ///   - limit: At most this many rows.
    /// - Returns: The rows.
    /// - Throws: ``PostgresError``.
    public func billingPage(after cursor: Int64, limit: Int) async throws -> [BillingRead] {
        try await database.withConnection { connection in
            try connection.query(BillingSQL.page, [cursor, limit], as: BillingRead.self)
        }
    }

    /// Readings and days held for review: the readings oldest first, then the days oldest first, each with its
    /// ``HeldPosition`` to continue after.
    /// - Parameters:
    ///   - after: Continue after this item (a page's keyset cursor), or `nil` from the start.
    ///   - limit: At most this many items in all.
    /// - Returns: Held readings, then held days.
    /// - Throws: ``PostgresError``.
    public func heldForReview(after: HeldPosition? = nil, limit: Int) async throws -> [HeldItem] {
        try await database.withConnection { connection in
            var readings: [HeldItem] = []
            var readingKey: [(any PostgresEncodable)?] = [nil, nil, nil, nil, nil, nil]
            var isPastReadings = false
            switch after {
            case .reading(let readAt, let meterID, let kind, let basis, let storage, let tariff):
                readingKey = [readAt, meterID, kind, basis, storage, tariff]
            case .day: isPastReadings = true
            case nil: break
            }
            if !isPastReadings {
                readings = try connection.rows(BillingSQL.heldReadings, [limit] + readingKey).map { row in
                    let readAt = try row.decode(3, as: Timestamp.self)
                    guard let kind = ReadingKind(rawValue: try row.decode(4)) else {
                        throw PostgresError(code: .unexpectedResult, message: "column 4 is not a reading kind")
                    }
                    return HeldItem(
                        protocol: try row.decode(0),
                        meter: try row.decode(1),
                        basis: try Self.basis(row, 2),
                        target: .reading(readAt: readAt, kind: kind),
                        volumeMillilitres: try row.decode(5),
                        reasons: try row.decode(6, as: [String]?.self) ?? [],
                        protection: try ProtectionLevel(storedCode: row.decode(7), column: 7),
                        keySource: try row.decode(8, as: String?.self).flatMap { KeySource(code: $0) },
                        position: .reading(
                            readAt: try row.decode(9),
                            meterID: try row.decode(10),
                            kind: try row.decode(11),
                            basis: try row.decode(12),
                            storage: try row.decode(13),
                            tariff: try row.decode(14)
                        )
                    )
                }
            }
            guard readings.count < limit else { return readings }
            var dayKey: [(any PostgresEncodable)?] = [nil, nil, nil]
            if case .day(let day, let meterID, let basis) = after { dayKey = [day, meterID, basis] }
            let days = try connection.rows(BillingSQL.heldDays, [limit - readings.count] + dayKey).map { row in
                HeldItem(
                    protocol: try row.decode(0),
                    meter: try row.decode(1),
                    basis: try Self.basis(row, 2),
                    target: .day(try row.decode(3)),
                    volumeMillilitres: try row.decode(4),
                    reasons: try row.decode(5, as: [String]?.self) ?? [],
                    protection: try ProtectionLevel(storedCode: row.decode(6), column: 6),
                    position: .day(day: try row.decode(7), meterID: try row.decode(8), basis: try row.decode(9))
                )
            }
            return readings + days
        }
    }

    /// Records a reviewer's decision on a held reading or day and queues the meter for revalidation, in one
    /// transaction. The decision outlasts revalidation: the rules run again, the decision stands.
    /// - Parameters:
    ///   - meter: The meter's protocol and address.
    ///   - basis: The volume channel.
    ///   - target: The reading or day.
    ///   - decision: Accept (billable) or reject (never billed).
    ///   - reviewer: Who decided (recorded).
    ///   - reason: Why (recorded).
    /// - Throws: ``PostgresError`` with code `.invalidArgument` when the meter, reading or day does not exist or is
    ///   not held for review, or the reviewer or reason is empty.
    public func review(
        meter: (protocol: FrameProtocol, address: String),
        basis: VolumeBasis,
        target: HeldItem.Target,
        decision: ReviewDecision,
        reviewer: String,
        reason: String
    ) async throws {
        guard !reviewer.isEmpty, !reason.isEmpty, !reviewer.utf8.contains(0), !reason.utf8.contains(0) else {
            throw PostgresError(code: .invalidArgument, message: "a review needs a reviewer and a reason")
        }
        let (frameProtocol, address) = meter
        try await database.withTransaction { connection in
            guard
                let id = try connection.rows(BillingSQL.meterID, [frameProtocol, address]).first?.decode(
                    0,
                    as: Int64.self
                )
            else {
                throw PostgresError(code: .invalidArgument, message: "no \(frameProtocol.rawValue) meter \(address)")
            }
            let recorded: [PostgresRow]
            switch target {
            case .reading(let readAt, let kind):
                recorded = try connection.rows(
                    BillingSQL.reviewReading,
                    [id, basis.rawValue, readAt, kind.rawValue, decision.rawValue, reviewer, reason]
                )
            case .day(let day):
                guard CivilDate(iso: day) != nil else {
                    throw PostgresError(code: .invalidArgument, message: "\(day) is not a date YYYY-MM-DD")
                }
                recorded = try connection.rows(
                    BillingSQL.reviewDay,
                    [id, basis.rawValue, day, decision.rawValue, reviewer, reason]
                )
            }
            guard let dirtyFrom = try recorded.first?.decode(0, as: Int64.self) else {
                throw PostgresError(code: .invalidArgument, message: "that reading or day is not held for review")
            }
            try connection.execute(ValidationSQL.enqueue, parameters: [[id].postgresText, [dirtyFrom].postgresText])
        }
    }

    /// Meters whose verification expired on or before `date`.
    /// - Parameters:
    ///   - date: `YYYY-MM-DD`.
    ///   - after: Continue after this meter in the order (expiry date, protocol, address): a page's keyset cursor;
    ///     `nil` from the start.
    ///   - limit: At most this many.
    /// - Returns: The meters, soonest expired first, then by protocol and address.
    /// - Throws: ``PostgresError``.
    public func expiredMeters(
        asOf date: CivilDate,
        after: (expiresOn: CivilDate, protocol: FrameProtocol, address: String)? = nil,
        limit: Int = 1_000_000
    ) async throws -> [ExpiredMeter] {
        let key = after.map { ($0.expiresOn.description, $0.protocol.rawValue, $0.address) }
        return try await database.withConnection { connection in
            try connection.rows(BillingSQL.expiredMeters, [date.description, key?.0, key?.1, key?.2, limit]).map {
                row in
                ExpiredMeter(
                    protocol: try row.decode(0),
                    meter: try row.decode(1),
                    district: try row.decode(2, as: String?.self),
                    expiresOn: try row.decode(3)
                )
            }
        }
    }

    /// A volume basis column.
    static func basis(_ row: PostgresRow, _ column: Int) throws -> VolumeBasis {
        guard let basis = VolumeBasis(rawValue: try row.decode(column)) else {
            throw PostgresError(code: .unexpectedResult, message: "column \(column) is not a volume basis")
        }
        return basis
    }
}

extension BillingRead: PostgresRowDecodable {
    /// Decodes the columns of ``BillingSQL/page``.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) for a NULL or malformed column.
    public init(row: PostgresRow) throws {
        let dayStart = try row.decode(6, as: Timestamp.self)
        let minutes = try row.decode(14, as: Int?.self)
        let volumes = try row.decode(15, as: [Int64]?.self) ?? []
        let flags = try row.decode(16, as: [Bool]?.self) ?? []
        var intervals: [BillingRead.Interval] = []
        if let minutes, volumes.count == flags.count {
            for (slot, volume) in volumes.enumerated() {
                intervals.append(
                    BillingRead.Interval(
                        start: dayStart.adding(seconds: Int64(slot * minutes * 60)),
                        volumeMillilitres: volume,
                        isEstimated: flags[slot]
                    )
                )
            }
        }
        self.init(
            seq: try row.decode(0),
            protocol: try row.decode(1),
            meter: try row.decode(2),
            district: try row.decode(3, as: String?.self),
            basis: try BillingStore.basis(row, 4),
            day: try row.decode(5),
            dayStart: dayStart,
            version: try row.decode(7),
            isCorrection: try row.decode(8, as: Bool?.self) ?? false,
            startIndexMillilitres: try row.decode(9),
            endIndexMillilitres: try row.decode(10),
            volumeMillilitres: try row.decode(11),
            quality: try row.decode(12),
            reasons: try row.decode(13, as: [String]?.self) ?? [],
            intervalMinutes: minutes,
            intervals: intervals,
            protection: try ProtectionLevel(storedCode: row.decode(17), column: 17)
        )
    }
}

/// The statements of the billing and review interfaces.
enum BillingSQL {
    static let meterID = "SELECT id FROM meters WHERE protocol = $1 AND address = $2"

    static let page = """
        SELECT f.seq, m.protocol, m.address, m.district, f.basis, f.day::text, \(WriterSQL.epochMicros("f.day_start")),
            f.version, f.is_correction, f.start_index_ml, f.end_index_ml, f.volume_ml, f.quality, f.reasons,
            f.interval_minutes, f.intervals_ml, f.intervals_estimated, f.protection::text
        FROM billing_feed f JOIN meters m ON m.id = f.meter_id
        WHERE f.seq > $1::bigint
        ORDER BY f.seq
        LIMIT $2::integer
        """

    /// Held readings in (read_at, meter_id, kind, basis, storage, tariff) order, from the quality-2 rows of
    /// `reading_verdicts` (v25; its partial index `reading_verdicts_held_idx` keeps that order). Only billing-channel
    /// readings (storage 0, tariff 0) are validated, so storage and tariff are 0. $1 limit; $2 … $7 continue after
    /// this key (all NULL: from the start). Columns 9 … 14 are the row's key.
    static let heldReadings = """
        SELECT m.protocol, m.address, r.basis, \(WriterSQL.epochMicros("r.read_at")), r.kind, r.volume_ml, h.reasons,
            reading_protection(r.protection_flags)::text, reading_key_source(r.protection_flags),
            \(WriterSQL.epochMicros("h.read_at")), h.meter_id, h.kind, h.basis, r.storage, r.tariff
        FROM reading_verdicts h
        JOIN readings r ON r.meter_id = h.meter_id AND r.read_at = h.read_at AND r.kind = h.kind
            AND r.basis = h.basis AND r.storage = 0 AND r.tariff = 0
        JOIN meters m ON m.id = r.meter_id
        WHERE h.quality = 2
            AND ($2::bigint IS NULL OR (h.read_at, h.meter_id, h.kind, h.basis, 0::smallint, 0::smallint)
                > (\(ValidationSQL.instant("$2")), $3::bigint, $4::smallint, $5::smallint, $6::smallint, $7::smallint))
        ORDER BY h.read_at, h.meter_id, h.kind, h.basis
        LIMIT $1::integer
        """

    /// Held days in (day, meter_id, basis) order: $1 limit; $2 … $4 continue after this key (all NULL: from the
    /// start). Columns 7 … 9 are the row's key.
    static let heldDays = """
        SELECT m.protocol, m.address, d.basis, d.day::text, d.volume_ml, d.reasons, d.protection::text,
            d.day::text, d.meter_id, d.basis
        FROM daily_reads d JOIN meters m ON m.id = d.meter_id
        WHERE d.quality = 2
            AND ($2::date IS NULL OR (d.day, d.meter_id, d.basis) > ($2::date, $3::bigint, $4::smallint))
        ORDER BY d.day, d.meter_id, d.basis
        LIMIT $1::integer
        """

    /// Inserts the review when the reading is held; returns its read time (µs) to requeue from, or no row.
    static let reviewReading = """
        INSERT INTO reading_reviews (meter_id, read_at, kind, basis, decision, reviewer, reason)
        SELECT r.meter_id, r.read_at, r.kind, r.basis, $5, $6, $7
        FROM reading_verdicts r
        WHERE r.meter_id = $1::bigint AND r.basis = $2::smallint
            AND r.read_at = \(ValidationSQL.instant("$3")) AND r.kind = $4::smallint AND r.quality = 2
        RETURNING \(WriterSQL.epochMicros("read_at"))
        """

    /// Inserts the review when the day is held; returns the day's start (µs) to requeue from, or no row.
    static let reviewDay = """
        WITH held AS (
            SELECT meter_id, basis, day, day_start FROM daily_reads
            WHERE meter_id = $1::bigint AND basis = $2::smallint AND day = $3::date AND quality = 2
        ),
        recorded AS (
            INSERT INTO day_reviews (meter_id, basis, day, decision, reviewer, reason)
            SELECT meter_id, basis, day, $4, $5, $6 FROM held
            RETURNING id
        )
        SELECT \(WriterSQL.epochMicros("held.day_start")) FROM held, recorded
        """

    /// $1 as of; $2, $3, $4: continue after this expiry date, protocol and address (all NULL: from the start); $5
    /// limit.
    static let expiredMeters = """
        SELECT protocol, address, district, verification_expires_on::text FROM meters
        WHERE verification_expires_on <= $1::date
            AND ($2::date IS NULL OR (verification_expires_on, protocol, address) > ($2::date, $3::text, $4::text))
        ORDER BY verification_expires_on, protocol, address
        LIMIT $5::integer
        """
}
