public import GatewayCore

/// Safety inspections of premises (residential at least yearly, non-residential twice a year, as settings):
/// which are due, and recording one.
///
/// Runs on the ``PostgresDatabase`` it is given.
public struct InspectionStore: Sendable {
    private let database: any PostgresDatabase

    /// Creates a store over a session or a pool.
    /// - Parameter database: Where the statements run.
    public init(_ database: any PostgresDatabase) {
        self.database = database
    }

    /// Premises due for a safety inspection on `date`: residential after `residentialMonths`, commercial and
    /// industrial after `nonResidentialMonths`, counted from the last inspection (or from registration).
    /// - Parameters:
    ///   - date: The day to judge on.
    ///   - residentialMonths: Interval for residential customers.
    ///   - nonResidentialMonths: Interval for the others.
    ///   - limit: At most this many.
    ///   - after: Continue after this premises in the order (due date, protocol, address): a page's keyset cursor;
    ///     `nil` from the start.
    /// - Returns: The premises, earliest due first, then by protocol and address.
    /// - Throws: ``PostgresError``.
    public func inspectionsDue(
        asOf date: CivilDate,
        residentialMonths: Int,
        nonResidentialMonths: Int,
        limit: Int,
        after: (due: CivilDate, protocol: FrameProtocol, address: String)? = nil
    ) async throws -> [InspectionDue] {
        try await database.withConnection { connection in
            try connection.query(
                DispatchSQL.inspectionsDue,
                [
                    date.description, residentialMonths, nonResidentialMonths, limit, after?.due.description,
                    after?.protocol.rawValue, after?.address,
                ],
                as: InspectionDue.self
            )
        }
    }

    /// Records a safety inspection of a premises.
    /// - Parameters:
    ///   - meter: The premises' meter.
    ///   - date: The day of the inspection.
    ///   - inspector: Who inspected.
    ///   - result: The outcome.
    ///   - note: Free text.
    ///   - recordedBy: Who recorded it (the audit: the HTTP credential's name), not necessarily the inspector.
    /// - Throws: ``PostgresError`` with code `.invalidArgument` for an unknown meter or an empty field.
    public func recordInspection(
        meter: (protocol: FrameProtocol, address: String),
        on date: CivilDate,
        inspector: String,
        result: String,
        note: String?,
        recordedBy: String
    ) async throws {
        guard !inspector.isEmpty, !result.isEmpty, !recordedBy.isEmpty,
            ![inspector, result, note ?? "", recordedBy].contains(where: { $0.utf8.contains(0) })
        else {
            throw PostgresError(
                code: .invalidArgument,
                message: "an inspection needs an inspector, a result and who recorded it"
            )
        }
        let (source, address) = meter
        let inserted = try await database.withConnection { connection in
            try connection.rows(
                DispatchSQL.recordInspection,
                [source, address, date.description, inspector, result, note, recordedBy]
            ).count
        }
        guard inserted == 1 else {
            throw PostgresError(code: .invalidArgument, message: "no \(source.rawValue) meter \(address)")
        }
    }
}

/// A premises due for its safety inspection.
public struct InspectionDue: Sendable, Equatable {
    public var `protocol`: FrameProtocol
    public var meter: String
    public var district: String?
    public var customerClass: String
    public var lastInspection: String?
    public var dueOn: String
}

extension InspectionDue: PostgresRowDecodable {
    /// Decodes the columns of `DispatchSQL.inspectionsDue`.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a required column is NULL or malformed.
    public init(row: PostgresRow) throws {
        self.init(
            protocol: try row.decode(0),
            meter: try row.decode(1),
            district: try row.decode(2, as: String?.self),
            customerClass: try row.decode(3),
            lastInspection: try row.decode(4, as: String?.self),
            dueOn: try row.decode(5)
        )
    }
}
