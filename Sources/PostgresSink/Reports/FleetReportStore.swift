import GatewayCore
import GatewayDomain

/// Reads what a run left in the database for the `demo` command's summary: row counts, quarantine by reason, the
/// tickets with their deadlines, validation results and the consumption-derived leak signatures.
///
/// Read-only. Thread rules: a value over a ``PostgresDatabase``; every statement runs on the database's own thread.
public struct FleetReportStore: Sendable {
    let database: any PostgresDatabase

    /// Creates a store over a session or pool.
    /// - Parameter database: Where the SQL runs.
    public init(_ database: any PostgresDatabase) {
        self.database = database
    }

    /// Meters waiting in `validation_queue` for the validator (zero once it has caught up).
    /// - Returns: How many meters.
    /// - Throws: ``PostgresError``.
    public func validationBacklog() async throws -> Int64 {
        try await database.withConnection { connection in
            try Self.count(FleetReportSQL.validationBacklog, on: connection)
        }
    }

    /// Reads the whole report in one repeatable-read transaction, so its parts agree with each other.
    /// - Returns: The report.
    /// - Throws: ``PostgresError`` (`.unexpectedResult` when a row does not decode).
    public func report() async throws -> FleetReport {
        try await database.withTransaction { connection in
            _ = try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            return FleetReport(
                framesStored: try Self.count(FleetReportSQL.framesStored, on: connection),
                readings: try Self.count(FleetReportSQL.readings, on: connection),
                intervalPoints: try Self.count(FleetReportSQL.intervalPoints, on: connection),
                alarms: try Self.count(FleetReportSQL.alarms, on: connection),
                quarantined: try Self.count(FleetReportSQL.quarantined, on: connection),
                quarantineByReason: try connection.query(FleetReportSQL.quarantineByReason, as: FleetReport.Count.self),
                tickets: try connection.query(FleetReportSQL.tickets, as: FleetReport.Ticket.self),
                ticketEvents: try Self.count(FleetReportSQL.ticketEvents, on: connection),
                readingsByQuality: try connection.query(FleetReportSQL.readingsByQuality, as: FleetReport.Count.self),
                heldReadingsByReasons: try connection.query(
                    FleetReportSQL.heldReadingsByReasons,
                    as: FleetReport.Count.self
                ),
                daysByQuality: try connection.query(FleetReportSQL.daysByQuality, as: FleetReport.Count.self),
                dayFlags: try connection.query(FleetReportSQL.dayFlags, as: FleetReport.Count.self),
                metersPastVerification: try Self.count(FleetReportSQL.metersPastVerification, on: connection),
                leakSignatures: try connection.query(FleetReportSQL.leakSignatures, as: FleetReport.LeakSignature.self)
            )
        }
    }

    private static func count(_ sql: String, on connection: PostgresConnection) throws -> Int64 {
        guard let row = try connection.rows(sql).first else {
            throw PostgresError(code: .unexpectedResult, message: "a count returned no row")
        }
        return try row.decode(0, as: Int64.self)
    }
}

extension FleetReport.Count: PostgresRowDecodable {
    /// Decodes a `(name, count)` row.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) for a NULL or malformed column.
    public init(row: PostgresRow) throws {
        self.init(name: try row.decode(0), count: try row.decode(1))
    }
}

extension FleetReport.Ticket: PostgresRowDecodable {
    /// Decodes the columns of the report's ticket query.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) for a NULL or malformed column.
    public init(row: PostgresRow) throws {
        self.init(
            id: try row.decode(0),
            meterAddress: try row.decode(1),
            condition: try row.decode(2),
            priority: try row.decode(3),
            status: try row.decode(4),
            alarmCount: try row.decode(5),
            openedAt: try row.decode(6),
            arriveBy: try row.decode(7, as: Timestamp?.self),
            repairBy: try row.decode(8, as: Timestamp?.self)
        )
    }
}

extension FleetReport.LeakSignature: PostgresRowDecodable {
    /// Decodes a `(condition, count, addresses joined by spaces)` row.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) for a NULL or malformed column.
    public init(row: PostgresRow) throws {
        let addresses: String = try row.decode(2)
        self.init(
            condition: try row.decode(0),
            count: try row.decode(1),
            meterAddresses: addresses.split(separator: " ").map(String.init)
        )
    }
}

/// The statements of ``FleetReportStore``.
enum FleetReportSQL {
    static let validationBacklog = "SELECT count(*) FROM validation_queue"
    static let framesStored = "SELECT count(*) FROM uplink_frames"
    static let readings = "SELECT count(*) FROM readings"
    static let intervalPoints = "SELECT count(*) FROM interval_readings"
    static let alarms = "SELECT count(*) FROM alarms"
    static let quarantined = "SELECT count(*) FROM quarantine"
    static let ticketEvents = "SELECT count(*) FROM ticket_events"
    static let quarantineByReason = "SELECT reason, count(*) FROM quarantine GROUP BY reason ORDER BY reason"
    static let tickets = """
        SELECT t.id, m.address, t.condition, t.priority, t.status, t.alarm_count,
               \(WriterSQL.epochMicros("t.opened_at")), \(WriterSQL.epochMicros("t.arrive_by")),
               \(WriterSQL.epochMicros("t.repair_by"))
        FROM repair_tickets t JOIN meters m ON m.id = t.meter_id ORDER BY t.priority, t.id
        """
    static let readingsByQuality = """
        SELECT CASE quality WHEN 0 THEN 'valid' WHEN 1 THEN 'estimated' WHEN 2 THEN 'suspect'
            WHEN 3 THEN 'rejected' ELSE 'pending' END, count(*)
        FROM readings_validated GROUP BY 1 ORDER BY min(coalesce(quality, 9))
        """
    static let heldReadingsByReasons = """
        SELECT coalesce(array_to_string(reasons, '+'), '?'), count(*) FROM reading_verdicts WHERE quality >= 2
        GROUP BY 1 ORDER BY 1
        """
    static let daysByQuality = """
        SELECT coalesce(read_quality_name(quality), '?'), count(*) FROM daily_reads GROUP BY 1 ORDER BY 1
        """
    static let dayFlags = """
        SELECT coalesce(r, '?'), count(*) FROM daily_reads, unnest(reasons) AS r GROUP BY r ORDER BY r
        """
    static let metersPastVerification = "SELECT count(*) FROM meters WHERE verification_expires_on <= current_date"
    static let leakSignatures = """
        SELECT a.condition, count(*), string_agg(DISTINCT m.address, ' ' ORDER BY m.address)
        FROM alarms a JOIN meters m ON m.id = a.meter_id
        WHERE a.raw_code BETWEEN \(LeakSignatures.Code.continuousWarning) AND \(LeakSignatures.Code.networkImbalance)
        GROUP BY 1 ORDER BY 1
        """
}
