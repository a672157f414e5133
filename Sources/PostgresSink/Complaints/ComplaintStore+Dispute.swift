public import GatewayCore

/// A billing dispute in one file: the complaint, the meter's dispute accuracy tests (`meters test --kind dispute`)
/// since the first disputed day, the validated days in question with their quality and reasons, and every
/// billing-feed version of those days published since the complaint was received (the corrections; the answer's
/// `corrected` outcome points at them).
public struct DisputeFile: Sendable, Equatable {
    /// One `accuracy_tests` row of kind `dispute`.
    public struct AccuracyTestRow: Sendable, Equatable, PostgresRowDecodable {
        public var id: Int64
        public var testedOn: String
        public var flowMillilitresPerHour: Int64
        public var errorBasisPoints: Int
        public var verdict: String
        public var limitBasisPoints: Int?
        public var tester: String
        public var note: String?

        public init(row: PostgresRow) throws {
            id = try row.decode(0)
            testedOn = try row.decode(1)
            flowMillilitresPerHour = try row.decode(2)
            errorBasisPoints = try row.decode(3)
            verdict = try row.decode(4)
            limitBasisPoints = try row.decode(5, as: Int?.self)
            tester = try row.decode(6)
            note = try row.decode(7, as: String?.self)
        }
    }

    /// One `daily_reads` row: the day as validation determined it.
    public struct DayRow: Sendable, Equatable, PostgresRowDecodable {
        public var day: String
        public var basis: Int
        public var volumeMillilitres: Int64
        public var quality: String
        public var reasons: [String]
        public var version: Int
        public var publishedVersion: Int

        public init(row: PostgresRow) throws {
            day = try row.decode(0)
            basis = try row.decode(1)
            volumeMillilitres = try row.decode(2)
            quality = try row.decode(3)
            let joined = try row.decode(4, as: String.self)
            reasons = joined.isEmpty ? [] : joined.split(separator: "\u{1F}").map(String.init)
            version = try row.decode(5)
            publishedVersion = try row.decode(6)
        }
    }

    /// One `billing_feed` row of a disputed day.
    public struct BillingVersionRow: Sendable, Equatable, PostgresRowDecodable {
        public var seq: Int64
        public var day: String
        public var basis: Int
        public var version: Int
        public var isCorrection: Bool
        public var volumeMillilitres: Int64
        public var quality: String
        public var publishedAt: Timestamp

        public init(row: PostgresRow) throws {
            seq = try row.decode(0)
            day = try row.decode(1)
            basis = try row.decode(2)
            version = try row.decode(3)
            isCorrection = try row.decode(4)
            volumeMillilitres = try row.decode(5)
            quality = try row.decode(6)
            publishedAt = try row.decode(7)
        }
    }

    public var complaint: Complaint
    public var accuracyTests: [AccuracyTestRow]
    public var days: [DayRow]
    public var billingVersions: [BillingVersionRow]
}

extension ComplaintStore {
    /// The file of a billing dispute (any complaint with a meter and disputed days; the lists are empty otherwise).
    /// - Parameter id: The complaint.
    /// - Returns: `nil` when there is no such complaint.
    public func disputeFile(_ id: Int64) async throws -> DisputeFile? {
        try await database.withConnection { connection -> DisputeFile? in
            guard let complaint = try connection.query(ComplaintSQL.one, [id], as: Complaint.self).first else {
                return nil
            }
            return DisputeFile(
                complaint: complaint,
                accuracyTests: try connection.query(DisputeSQL.tests, [id], as: DisputeFile.AccuracyTestRow.self),
                days: try connection.query(DisputeSQL.days, [id], as: DisputeFile.DayRow.self),
                billingVersions: try connection.query(
                    DisputeSQL.versions,
                    [id],
                    as: DisputeFile.BillingVersionRow.self
                )
            )
        }
    }
}

/// The statements of ``ComplaintStore/disputeFile(_:)``: $1 complaint.
enum DisputeSQL {
    static let tests = """
        SELECT t.id, t.tested_on::text, t.flow_ml_per_h, t.error_bp, t.verdict, t.limit_bp, t.tester, t.note
        FROM complaints c JOIN accuracy_tests t ON t.meter_id = c.meter_id
        WHERE c.id = $1::bigint AND t.kind = 'dispute' AND t.tested_on >= c.disputed_from
        ORDER BY t.tested_on, t.id
        """

    static let days = """
        SELECT d.day::text, d.basis, d.volume_ml, read_quality_name(d.quality), array_to_string(d.reasons, chr(31)), d.version,
            d.published_version
        FROM complaints c JOIN daily_reads d ON d.meter_id = c.meter_id
            AND d.day BETWEEN c.disputed_from AND c.disputed_to
        WHERE c.id = $1::bigint
        ORDER BY d.day, d.basis
        """

    /// The corrections among ``versions``: their `seq`.
    static let correctionSeqs = """
        SELECT f.seq
        FROM complaints c JOIN billing_feed f ON f.meter_id = c.meter_id
            AND f.day BETWEEN c.disputed_from AND c.disputed_to
        WHERE c.id = $1::bigint AND f.is_correction AND f.published_at >= c.received_at
        ORDER BY f.seq
        """

    static let versions = """
        SELECT f.seq, f.day::text, f.basis, f.version, f.is_correction, f.volume_ml, read_quality_name(f.quality),
            \(WriterSQL.epochMicros("f.published_at"))
        FROM complaints c JOIN billing_feed f ON f.meter_id = c.meter_id
            AND f.day BETWEEN c.disputed_from AND c.disputed_to
        WHERE c.id = $1::bigint AND f.published_at >= c.received_at
        ORDER BY f.seq
        """
}
