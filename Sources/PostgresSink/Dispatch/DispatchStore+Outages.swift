public import GatewayCore
import GatewayDomain

/// A planned outage as recorded: its window, who announced it, and its cancellation if any.
public struct PlannedOutage: Sendable, Equatable {
    public var id: Int64
    public var district: String
    public var startsAt: Timestamp
    public var endsAt: Timestamp
    public var reason: String
    /// Who announced it: the HTTP credential's name, or the CLI's `--by`.
    public var announcedBy: String
    public var announcedAt: Timestamp
    /// When, by whom and why it was cancelled; all `nil` while it stands.
    public var cancelledAt: Timestamp?
    public var cancelledBy: String?
    public var cancelReason: String?
}

extension PlannedOutage: PostgresRowDecodable {
    /// Decodes the columns of `DispatchSQL.outageColumns`.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a column is malformed.
    public init(row: PostgresRow) throws {
        self.init(
            id: try row.decode(0),
            district: try row.decode(1),
            startsAt: try row.decode(2),
            endsAt: try row.decode(3),
            reason: try row.decode(4),
            announcedBy: try row.decode(5),
            announcedAt: try row.decode(6),
            cancelledAt: try row.decode(7, as: Timestamp?.self),
            cancelledBy: try row.decode(8, as: String?.self),
            cancelReason: try row.decode(9, as: String?.self)
        )
    }
}

extension DispatchStore {
    /// Announces a planned outage: pressure-loss alarms from the district received during the window are recorded
    /// but open no ticket (``OutageRule``), until the outage is cancelled.
    ///
    /// The window must satisfy the store's ``PlannedOutagePolicy``: not empty, at most its maximum long, not ending
    /// in the past (at the store's clock).
    /// - Parameters:
    ///   - district: The district.
    ///   - start: Start of the window.
    ///   - end: End of the window.
    ///   - reason: Why (recorded).
    ///   - by: Who announced it (recorded).
    /// - Returns: The outage id.
    /// - Throws: ``PlannedOutagePolicy/Refusal`` for a window the policy refuses; ``PostgresError`` with code
    ///   `.invalidArgument` when the district, reason or announcer is empty.
    public func announceOutage(
        district: String,
        from start: Timestamp,
        to end: Timestamp,
        reason: String,
        by: String
    ) async throws -> Int64 {
        guard !district.isEmpty, !reason.isEmpty, !by.isEmpty,
            ![district, reason, by].contains(where: { $0.utf8.contains(0) })
        else {
            throw PostgresError(
                code: .invalidArgument,
                message: "an outage needs a district, a window, a reason and who announced it"
            )
        }
        let now = clock()
        try outagePolicy.checkAnnouncement(from: start, to: end, now: now)
        let row = try await database.withConnection { connection in
            try connection.rows(DispatchSQL.announceOutage, [district, start, end, reason, by, now]).first
        }
        guard let row else { throw PostgresError(code: .unexpectedResult, message: "the outage was not recorded") }
        return try row.decode(0)
    }

    /// Cancels a planned outage at once: from the cancellation on it explains no alarm, and pressure-loss alarms of
    /// its district open tickets again. Who, when (the store's clock) and why are recorded on the outage.
    /// - Parameters:
    ///   - id: The outage.
    ///   - reason: Why (recorded).
    ///   - by: Who cancelled it (recorded).
    /// - Returns: The outage as cancelled, or `nil` when there is no such outage.
    /// - Throws: ``PlannedOutagePolicy/Refusal`` when it was cancelled before or its window is over;
    ///   ``PostgresError`` with code `.invalidArgument` when the reason or canceller is empty.
    public func cancelOutage(_ id: Int64, reason: String, by: String) async throws -> PlannedOutage? {
        guard !reason.isEmpty, !by.isEmpty, !reason.utf8.contains(0), !by.utf8.contains(0) else {
            throw PostgresError(code: .invalidArgument, message: "a cancellation needs a reason and who cancelled")
        }
        let now = clock()
        let policy = outagePolicy
        let cancelled = try await database.withTransaction { connection -> PlannedOutage? in
            guard let outage = try connection.query(DispatchSQL.lockOutage, [id], as: PlannedOutage.self).first else {
                return nil
            }
            try policy.checkCancellation(of: id, endingAt: outage.endsAt, cancelledAt: outage.cancelledAt, now: now)
            return try connection.query(DispatchSQL.cancelOutage, [id, by, reason, now], as: PlannedOutage.self).first
        }
        return cancelled
    }

    /// The outages whose window has not ended, cancelled ones included, by start (then id).
    /// - Parameters:
    ///   - district: Only this district, or `nil` for all.
    ///   - afterOutage: Continue after this outage in that order (a page's keyset cursor), or `nil` from the start.
    ///   - limit: At most this many.
    /// - Returns: The outages.
    /// - Throws: ``PostgresError``.
    public func currentOutages(
        district: String? = nil,
        afterOutage: Int64? = nil,
        limit: Int = 10_000
    ) async throws -> [PlannedOutage] {
        let now = clock()
        return try await database.withConnection { connection in
            try connection.query(DispatchSQL.outages, [now, district, afterOutage, limit], as: PlannedOutage.self)
        }
    }
}
