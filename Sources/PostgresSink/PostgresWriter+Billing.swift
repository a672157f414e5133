public import GatewayCore
public import GatewayDomain

/// One published day from `billing_feed`: a first publication or a correction of an earlier one.
public struct BillingRead: Sendable, Equatable {
    public struct Interval: Sendable, Equatable {
        public var start: Timestamp
        public var volumeMillilitres: Int64
        public var isEstimated: Bool
    }

    /// The feed position; pages continue after the last one seen.
    public var seq: Int64
    public var `protocol`: FrameProtocol
    public var meter: String
    public var district: String?
    public var basis: VolumeBasis
    /// The billing day, `YYYY-MM-DD`.
    public var day: String
    public var dayStart: Timestamp
    /// 1 for the first publication, higher for each correction.
    public var version: Int
    public var isCorrection: Bool
    public var startIndexMillilitres: Int64
    public var endIndexMillilitres: Int64
    public var volumeMillilitres: Int64
    public var quality: ReadQuality
    public var reasons: [String]
    public var intervalMinutes: Int?
    public var intervals: [Interval]
}

/// A reading or a day held for review (quality suspect).
public struct HeldItem: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        /// A reading, identified by its read time and kind.
        case reading(readAt: Timestamp, kind: ReadingKind)
        /// A billing day, `YYYY-MM-DD`.
        case day(String)
    }

    public var `protocol`: FrameProtocol
    public var meter: String
    public var basis: VolumeBasis
    public var target: Target
    public var volumeMillilitres: Int64
    public var reasons: [String]
}

/// A meter whose verification has expired.
public struct ExpiredMeter: Sendable, Equatable {
    public var `protocol`: FrameProtocol
    public var meter: String
    public var district: String?
    public var expiresOn: String
}

extension PostgresWriter {
    /// The feed after `cursor`, oldest first. Rows commit in `seq` order, so a client that continues from the last
    /// `seq` it saw receives every publication exactly once, corrections included.
    /// - Parameters:
    ///   - cursor: The last `seq` seen (0 for the beginning).
    ///   - limit: At most this many rows.
    /// - Returns: The rows.
    /// - Throws: ``PostgresError``.
    public func billingPage(after cursor: Int64, limit: Int) throws -> [BillingRead] {
        let rows = try withConnection { connection in
            try connection.query(BillingSQL.page, parameters: [String(cursor), String(limit)])
        }
        return rows.compactMap(Self.billingRead(from:))
    }

    /// Readings and days held for review, oldest first.
    /// - Parameter limit: At most this many of each.
    /// - Returns: Held readings, then held days.
    /// - Throws: ``PostgresError``.
    public func heldForReview(limit: Int) throws -> [HeldItem] {
        try withConnection { connection in
            var items: [HeldItem] = []
            for row in try connection.query(BillingSQL.heldReadings, parameters: [String(limit)]) {
                guard row.count == 7, let source = row[0].flatMap({ FrameProtocol(rawValue: $0) }), let meter = row[1],
                    let basis = row[2].flatMap({ Int16($0) }).flatMap({ VolumeBasis(rawValue: $0) }),
                    let readAt = row[3].flatMap({ Int64($0) }),
                    let kind = row[4].flatMap({ Int16($0) }).flatMap({ ReadingKind(rawValue: $0) }),
                    let volume = row[5].flatMap({ Int64($0) })
                else { continue }
                items.append(
                    HeldItem(
                        protocol: source,
                        meter: meter,
                        basis: basis,
                        target: .reading(readAt: Timestamp(microsecondsSinceEpoch: readAt), kind: kind),
                        volumeMillilitres: volume,
                        reasons: Self.names(row[6])
                    )
                )
            }
            for row in try connection.query(BillingSQL.heldDays, parameters: [String(limit)]) {
                guard row.count == 6, let source = row[0].flatMap({ FrameProtocol(rawValue: $0) }), let meter = row[1],
                    let basis = row[2].flatMap({ Int16($0) }).flatMap({ VolumeBasis(rawValue: $0) }), let day = row[3],
                    let volume = row[4].flatMap({ Int64($0) })
                else { continue }
                items.append(
                    HeldItem(
                        protocol: source,
                        meter: meter,
                        basis: basis,
                        target: .day(day),
                        volumeMillilitres: volume,
                        reasons: Self.names(row[5])
                    )
                )
            }
            return items
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
    ) throws {
        guard !reviewer.isEmpty, !reason.isEmpty, !reviewer.utf8.contains(0), !reason.utf8.contains(0) else {
            throw PostgresError(code: .invalidArgument, message: "a review needs a reviewer and a reason")
        }
        try withTransaction { connection in
            let found = try connection.query(
                "SELECT id FROM meters WHERE protocol = $1 AND address = $2",
                parameters: [meter.protocol.rawValue, meter.address]
            )
            guard let id = found.first?.first.flatMap({ $0 }) else {
                throw PostgresError(
                    code: .invalidArgument,
                    message: "no \(meter.protocol.rawValue) meter \(meter.address)"
                )
            }
            let basisText = String(basis.rawValue)
            let recorded: [[String?]]
            switch target {
            case .reading(let readAt, let kind):
                recorded = try connection.query(
                    BillingSQL.reviewReading,
                    parameters: [
                        id, basisText, String(readAt.microsecondsSinceEpoch), String(kind.rawValue), decision.rawValue,
                        reviewer, reason,
                    ]
                )
            case .day(let day):
                guard CivilDate(iso: day) != nil else {
                    throw PostgresError(code: .invalidArgument, message: "\(day) is not a date YYYY-MM-DD")
                }
                recorded = try connection.query(
                    BillingSQL.reviewDay,
                    parameters: [id, basisText, day, decision.rawValue, reviewer, reason]
                )
            }
            guard let dirtyFrom = recorded.first?.first.flatMap({ $0 }) else {
                throw PostgresError(code: .invalidArgument, message: "that reading or day is not held for review")
            }
            try connection.execute(ValidationSQL.enqueue, parameters: ["{\(id)}", "{\(dirtyFrom)}"])
        }
    }

    /// Meters whose verification expired on or before `date`.
    /// - Parameter date: `YYYY-MM-DD`.
    /// - Returns: The meters, soonest expired first.
    /// - Throws: ``PostgresError``.
    public func expiredMeters(asOf date: CivilDate) throws -> [ExpiredMeter] {
        let rows = try withConnection { connection in
            try connection.query(BillingSQL.expiredMeters, parameters: [date.description])
        }
        return rows.compactMap { row in
            guard row.count == 4, let source = row[0].flatMap({ FrameProtocol(rawValue: $0) }), let meter = row[1],
                let expires = row[3]
            else { return nil }
            return ExpiredMeter(protocol: source, meter: meter, district: row[2], expiresOn: expires)
        }
    }

    static func names(_ array: String?) -> [String] { arrayElements(array).map(String.init) }

    /// The elements of a one-dimensional array of numbers, booleans or simple words as PostgreSQL prints it
    /// (`{1,2,3}`); empty for NULL or `{}`.
    static func arrayElements(_ array: String?) -> [Substring] {
        (reasonsText(array) ?? "").split(separator: ",")
    }

    static func billingRead(from row: [String?]) -> BillingRead? {
        guard row.count == 17, let seq = row[0].flatMap({ Int64($0) }),
            let source = row[1].flatMap({ FrameProtocol(rawValue: $0) }), let meter = row[2],
            let basis = row[4].flatMap({ Int16($0) }).flatMap({ VolumeBasis(rawValue: $0) }), let day = row[5],
            let dayStart = row[6].flatMap({ Int64($0) }), let version = row[7].flatMap({ Int($0) }),
            let start = row[9].flatMap({ Int64($0) }), let end = row[10].flatMap({ Int64($0) }),
            let volume = row[11].flatMap({ Int64($0) }), let quality = row[12].flatMap({ ReadQuality(name: $0) })
        else { return nil }
        let minutes = row[14].flatMap { Int($0) }
        let volumes = arrayElements(row[15]).compactMap { Int64($0) }
        let flags = arrayElements(row[16]).map { $0 == "t" }
        var intervals: [BillingRead.Interval] = []
        if let minutes, volumes.count == flags.count {
            for (slot, volume) in volumes.enumerated() {
                intervals.append(
                    BillingRead.Interval(
                        start: Timestamp(microsecondsSinceEpoch: dayStart).adding(seconds: Int64(slot * minutes * 60)),
                        volumeMillilitres: volume,
                        isEstimated: flags[slot]
                    )
                )
            }
        }
        return BillingRead(
            seq: seq,
            protocol: source,
            meter: meter,
            district: row[3],
            basis: basis,
            day: day,
            dayStart: Timestamp(microsecondsSinceEpoch: dayStart),
            version: version,
            isCorrection: row[8] == "t",
            startIndexMillilitres: start,
            endIndexMillilitres: end,
            volumeMillilitres: volume,
            quality: quality,
            reasons: names(row[13]),
            intervalMinutes: minutes,
            intervals: intervals
        )
    }
}

/// The statements of the billing and review interfaces.
enum BillingSQL {
    static let page = """
        SELECT f.seq, m.protocol, m.address, m.district, f.basis, f.day::text, \(WriterSQL.epochMicros("f.day_start")),
            f.version, f.is_correction, f.start_index_ml, f.end_index_ml, f.volume_ml, f.quality, f.reasons,
            f.interval_minutes, f.intervals_ml, f.intervals_estimated
        FROM billing_feed f JOIN meters m ON m.id = f.meter_id
        WHERE f.seq > $1::bigint
        ORDER BY f.seq
        LIMIT $2::integer
        """

    static let heldReadings = """
        SELECT m.protocol, m.address, r.basis, \(WriterSQL.epochMicros("r.read_at")), r.kind, r.volume_ml, r.reasons
        FROM readings r JOIN meters m ON m.id = r.meter_id
        WHERE r.quality = 2
        ORDER BY r.read_at, r.meter_id
        LIMIT $1::integer
        """

    static let heldDays = """
        SELECT m.protocol, m.address, d.basis, d.day::text, d.volume_ml, d.reasons
        FROM daily_reads d JOIN meters m ON m.id = d.meter_id
        WHERE d.quality = 'suspect'
        ORDER BY d.day, d.meter_id
        LIMIT $1::integer
        """

    /// Inserts the review when the reading is held; returns its read time (µs) to requeue from, or no row.
    static let reviewReading = """
        INSERT INTO reading_reviews (meter_id, read_at, kind, basis, decision, reviewer, reason)
        SELECT r.meter_id, r.read_at, r.kind, r.basis, $5, $6, $7
        FROM readings r
        WHERE r.meter_id = $1::bigint AND r.basis = $2::smallint AND r.storage = 0 AND r.tariff = 0
            AND r.read_at = \(ValidationSQL.instant("$3")) AND r.kind = $4::smallint AND r.quality = 2
        RETURNING \(WriterSQL.epochMicros("read_at"))
        """

    /// Inserts the review when the day is held; returns the day's start (µs) to requeue from, or no row.
    static let reviewDay = """
        WITH held AS (
            SELECT meter_id, basis, day, day_start FROM daily_reads
            WHERE meter_id = $1::bigint AND basis = $2::smallint AND day = $3::date AND quality = 'suspect'
        ),
        recorded AS (
            INSERT INTO day_reviews (meter_id, basis, day, decision, reviewer, reason)
            SELECT meter_id, basis, day, $4, $5, $6 FROM held
            RETURNING id
        )
        SELECT \(WriterSQL.epochMicros("held.day_start")) FROM held, recorded
        """

    static let expiredMeters = """
        SELECT protocol, address, district, verification_expires_on::text FROM meters
        WHERE verification_expires_on <= $1::date
        ORDER BY verification_expires_on, protocol, address
        """
}

/// One recorded meter-accuracy test.
public struct AccuracyTestRecord: Sendable, Equatable {
    public var `protocol`: FrameProtocol
    public var meter: String
    public var testedOn: String
    public var kind: AccuracyTestKind
    public var flowMillilitresPerHour: Int64
    public var errorBasisPoints: Int64
    public var verdict: AccuracyVerdict
    public var band: String?
    public var limitBasisPoints: Int64?
    public var tester: String
}

extension PostgresWriter {
    /// Judges a test result against the meter's class and flow limits from the registry and records both.
    /// - Parameters:
    ///   - meter: The meter's protocol and address.
    ///   - testedOn: The test date.
    ///   - kind: Verification, field or dispute.
    ///   - flowMillilitresPerHour: The test flow.
    ///   - errorBasisPoints: The measured error in hundredths of a percent.
    ///   - tester: Who tested.
    ///   - note: Free text, optional.
    ///   - table: The first-verification limits.
    ///   - inServicePercent: The in-service limit as a percentage of the verification MPE.
    /// - Returns: The judgement stored with the test.
    /// - Throws: ``PostgresError`` with code `.invalidArgument` for an unknown meter or an empty tester.
    public func recordAccuracyTest(
        meter: (protocol: FrameProtocol, address: String),
        testedOn: CivilDate,
        kind: AccuracyTestKind,
        flowMillilitresPerHour: Int64,
        errorBasisPoints: Int64,
        tester: String,
        note: String?,
        table: MPETable = MPETable(),
        inServicePercent: Int64
    ) throws -> AccuracyJudgement {
        guard !tester.isEmpty, !tester.utf8.contains(0), !(note?.utf8.contains(0) ?? false), flowMillilitresPerHour > 0
        else {
            throw PostgresError(code: .invalidArgument, message: "a test needs a tester and a positive flow")
        }
        return try withTransaction { connection in
            let rows = try connection.query(
                "SELECT id, accuracy_class, qmin_ml_per_h, qt_ml_per_h, qmax_ml_per_h FROM meters WHERE protocol = $1 AND address = $2",
                parameters: [meter.protocol.rawValue, meter.address]
            )
            guard let row = rows.first, let id = row[0] else {
                throw PostgresError(
                    code: .invalidArgument,
                    message: "no \(meter.protocol.rawValue) meter \(meter.address)"
                )
            }
            let judgement = AccuracyJudge.judge(
                errorBasisPoints: errorBasisPoints,
                flowMillilitresPerHour: flowMillilitresPerHour,
                accuracyClass: row[1].flatMap { AccuracyClass(rawValue: $0) },
                qmin: row[2].flatMap { Int64($0) },
                qt: row[3].flatMap { Int64($0) },
                qmax: row[4].flatMap { Int64($0) },
                kind: kind,
                table: table,
                inServicePercent: inServicePercent
            )
            try connection.execute(
                """
                INSERT INTO accuracy_tests (meter_id, tested_on, kind, flow_ml_per_h, error_bp, verdict, band, limit_bp,
                    tester, note)
                VALUES ($1::bigint, $2::date, $3, $4::bigint, $5::integer, $6, $7, $8::integer, $9, $10)
                """,
                parameters: [
                    id, testedOn.description, kind.rawValue, String(flowMillilitresPerHour), String(errorBasisPoints),
                    judgement.verdict.rawValue, judgement.band, judgement.limitBasisPoints.map { String($0) }, tester,
                    note,
                ]
            )
            return judgement
        }
    }

    /// Recorded tests, newest first.
    /// - Parameters:
    ///   - failedOnly: Only tests that failed.
    ///   - limit: At most this many.
    /// - Returns: The tests.
    /// - Throws: ``PostgresError``.
    public func accuracyTests(failedOnly: Bool, limit: Int) throws -> [AccuracyTestRecord] {
        let rows = try withConnection { connection in
            try connection.query(
                """
                SELECT m.protocol, m.address, t.tested_on::text, t.kind, t.flow_ml_per_h, t.error_bp, t.verdict, t.band,
                    t.limit_bp, t.tester
                FROM accuracy_tests t JOIN meters m ON m.id = t.meter_id
                WHERE NOT $1::boolean OR t.verdict = 'fail'
                ORDER BY t.tested_on DESC, t.id DESC
                LIMIT $2::integer
                """,
                parameters: [failedOnly ? "true" : "false", String(limit)]
            )
        }
        return rows.compactMap { row in
            guard row.count == 10, let source = row[0].flatMap({ FrameProtocol(rawValue: $0) }), let meter = row[1],
                let date = row[2], let kind = row[3].flatMap({ AccuracyTestKind(rawValue: $0) }),
                let flow = row[4].flatMap({ Int64($0) }), let error = row[5].flatMap({ Int64($0) }),
                let verdict = row[6].flatMap({ AccuracyVerdict(rawValue: $0) }), let tester = row[9]
            else { return nil }
            return AccuracyTestRecord(
                protocol: source,
                meter: meter,
                testedOn: date,
                kind: kind,
                flowMillilitresPerHour: flow,
                errorBasisPoints: error,
                verdict: verdict,
                band: row[7],
                limitBasisPoints: row[8].flatMap { Int64($0) },
                tester: tester
            )
        }
    }
}
