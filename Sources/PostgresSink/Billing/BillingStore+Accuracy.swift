public import GatewayCore

/// One recorded meter-accuracy test.
public struct AccuracyTestRecord: Sendable, Equatable {
    /// The meter's protocol.
    public var `protocol`: FrameProtocol
    /// The meter's address.
    public var meter: String
    /// The test date, `YYYY-MM-DD`.
    public var testedOn: String
    /// Verification, field or dispute.
    public var kind: AccuracyTestKind
    /// The test flow.
    public var flowMillilitresPerHour: Int64
    /// The measured error in hundredths of a percent.
    public var errorBasisPoints: Int64
    /// The judgement against the limit.
    public var verdict: AccuracyVerdict
    /// `low` (Qmin ≤ Q < Qt) or `high` (Qt ≤ Q ≤ Qmax), `nil` when out of range or unknown.
    public var band: String?
    /// The limit applied, in hundredths of a percent, `nil` when none applies.
    public var limitBasisPoints: Int64?
    /// Who tested.
    public var tester: String
}

extension BillingStore {
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
    ) async throws -> AccuracyJudgement {
        guard !tester.isEmpty, !tester.utf8.contains(0), !(note?.utf8.contains(0) ?? false), flowMillilitresPerHour > 0
        else {
            throw PostgresError(code: .invalidArgument, message: "a test needs a tester and a positive flow")
        }
        let (frameProtocol, address) = meter
        return try await database.withTransaction { connection in
            guard let row = try connection.rows(AccuracySQL.meterClass, [frameProtocol, address]).first else {
                throw PostgresError(code: .invalidArgument, message: "no \(frameProtocol.rawValue) meter \(address)")
            }
            let id = try row.decode(0, as: Int64.self)
            let judgement = AccuracyJudge.judge(
                errorBasisPoints: errorBasisPoints,
                flowMillilitresPerHour: flowMillilitresPerHour,
                accuracyClass: try row.decode(1, as: String?.self).flatMap { AccuracyClass(rawValue: $0) },
                qmin: try row.decode(2, as: Int64?.self),
                qt: try row.decode(3, as: Int64?.self),
                qmax: try row.decode(4, as: Int64?.self),
                kind: kind,
                table: table,
                inServicePercent: inServicePercent
            )
            try connection.execute(
                AccuracySQL.insert,
                parameters: [
                    String(id), testedOn.description, kind.rawValue, String(flowMillilitresPerHour),
                    String(errorBasisPoints),
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
    public func accuracyTests(failedOnly: Bool, limit: Int) async throws -> [AccuracyTestRecord] {
        try await database.withConnection { connection in
            try connection.query(AccuracySQL.tests, [failedOnly, limit], as: AccuracyTestRecord.self)
        }
    }
}

extension AccuracyTestRecord: PostgresRowDecodable {
    /// Decodes the columns of ``AccuracySQL/tests``.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) for a NULL or malformed column.
    public init(row: PostgresRow) throws {
        guard let kind = AccuracyTestKind(rawValue: try row.decode(3)),
            let verdict = AccuracyVerdict(rawValue: try row.decode(6))
        else {
            throw PostgresError(code: .unexpectedResult, message: "column 3 or 6 is not a test kind or verdict")
        }
        self.init(
            protocol: try row.decode(0),
            meter: try row.decode(1),
            testedOn: try row.decode(2),
            kind: kind,
            flowMillilitresPerHour: try row.decode(4),
            errorBasisPoints: try row.decode(5),
            verdict: verdict,
            band: try row.decode(7, as: String?.self),
            limitBasisPoints: try row.decode(8, as: Int64?.self),
            tester: try row.decode(9)
        )
    }
}

/// The statements of the accuracy tests.
enum AccuracySQL {
    static let meterClass = """
        SELECT id, accuracy_class, qmin_ml_per_h, qt_ml_per_h, qmax_ml_per_h FROM meters
        WHERE protocol = $1 AND address = $2
        """

    static let insert = """
        INSERT INTO accuracy_tests (meter_id, tested_on, kind, flow_ml_per_h, error_bp, verdict, band, limit_bp,
            tester, note)
        VALUES ($1::bigint, $2::date, $3, $4::bigint, $5::integer, $6, $7, $8::integer, $9, $10)
        """

    static let tests = """
        SELECT m.protocol, m.address, t.tested_on::text, t.kind, t.flow_ml_per_h, t.error_bp, t.verdict, t.band,
            t.limit_bp, t.tester
        FROM accuracy_tests t JOIN meters m ON m.id = t.meter_id
        WHERE NOT $1::boolean OR t.verdict = 'fail'
        ORDER BY t.tested_on DESC, t.id DESC
        LIMIT $2::integer
        """
}
