public import GatewayCore

/// Where a registry reader stands: the `xmin` of the snapshot it last read with (migration v18). Every change it
/// has not seen was made by a transaction whose id is at or above it, so the next read asks for
/// `changed_xid >= cursor` and misses nothing, however late a writer commits.
public struct RegistryCursor: Sendable, Equatable, CustomStringConvertible {
    /// The transaction id (`xid8`).
    public var xid: UInt64

    /// Creates a cursor.
    /// - Parameter xid: The transaction id.
    public init(xid: UInt64) { self.xid = xid }

    public var description: String { String(xid) }
}

/// A meter identity that left the registry: its row was deleted, or its protocol or address changed
/// (`meter_tombstones`, migration v18).
public struct MeterTombstone: Sendable, Equatable {
    /// The registry id of the meter that had the identity.
    public var meterID: Int64
    /// The protocol it had.
    public var `protocol`: FrameProtocol
    /// The address it had.
    public var address: String

    /// Creates a tombstone value.
    /// - Parameters:
    ///   - meterID: The meter's registry id.
    ///   - protocol: The protocol it had.
    ///   - address: The address it had.
    public init(meterID: Int64, protocol: FrameProtocol, address: String) {
        self.meterID = meterID
        self.protocol = `protocol`
        self.address = address
    }
}

/// The registry changes made since a cursor, read in one snapshot.
public struct RegistryChanges: Sendable {
    /// The meters inserted or updated (collector changes count as updates), keys opened.
    public var meters: [RegisteredMeter] = []
    /// The identities that left the registry.
    public var tombstones: [MeterTombstone] = []
    /// Every collector assignment of the changed meters (a changed meter with none here has none).
    public var collectors: [(meterID: Int64, collector: String)] = []
    /// The M-Bus layouts written since the cursor.
    public var layouts: [FormatLayoutRecord] = []
    /// Where the next read starts.
    public var cursor: RegistryCursor

    /// Creates an empty change set ending at `cursor`.
    /// - Parameter cursor: Where the next read starts.
    public init(cursor: RegistryCursor) { self.cursor = cursor }
}

extension MeterStore {
    /// The cursor of a snapshot taken now: read it before a full load, and every change the load does not see is
    /// read by the next ``changes(since:limit:)``.
    /// - Returns: The cursor.
    /// - Throws: ``PostgresError``.
    public func currentCursor() async throws -> RegistryCursor {
        try await database.withConnection { connection in try Self.snapshotCursor(connection) }
    }

    /// One page of a protocol's meters by ascending id, for a full load that never holds the whole registry twice.
    /// - Parameters:
    ///   - protocol: The protocol.
    ///   - afterID: The last id of the previous page (0 for the first).
    ///   - limit: The page size.
    /// - Returns: Up to `limit` meters with ids above `afterID`, keys opened.
    /// - Throws: ``PostgresError``; ``MeterKeyError`` as for ``loadMeters(protocol:)``.
    public func loadMeterPage(protocol frameProtocol: FrameProtocol, afterID: Int64, limit: Int) async throws
        -> [RegisteredMeter]
    {
        let stored = try await database.withConnection { connection in
            try connection.query(MeterChangeSQL.page, [frameProtocol, afterID, Int64(limit)], as: StoredMeter.self)
        }
        return try open(stored, what: "\(frameProtocol.rawValue) meters")
    }

    /// Every meter of one protocol, read page by page by ascending id; each page is handed to `body` and dropped
    /// before the next is read, so at most one page of rows is held at a time.
    /// - Parameters:
    ///   - protocol: The protocol.
    ///   - pageSize: Meters per page.
    ///   - body: Called once per non-empty page.
    /// - Throws: ``PostgresError``; ``MeterKeyError`` as for ``loadMeters(protocol:)``; what `body` throws.
    public func forEachMeterPage(
        protocol frameProtocol: FrameProtocol,
        pageSize: Int,
        _ body: ([RegisteredMeter]) throws -> Void
    ) async throws {
        var afterID: Int64 = 0
        while true {
            let page = try await loadMeterPage(protocol: frameProtocol, afterID: afterID, limit: pageSize)
            guard let last = page.last else { return }
            try body(page)
            if page.count < pageSize { return }
            afterID = last.id
        }
    }

    /// The changes since `cursor`, in one repeatable-read snapshot: changed meters with their collectors,
    /// tombstones and M-Bus layouts. At least once: the cursor is the snapshot's xmin, which any transaction still
    /// open on the server holds back, so a change may come again in the next set (applying it twice is harmless);
    /// none is missed.
    /// - Parameters:
    ///   - cursor: Where the last read ended.
    ///   - limit: The most changed meters worth reading one by one; more returns `nil` (load in full instead).
    /// - Returns: The changes, or `nil` when more than `limit` meters changed.
    /// - Throws: ``PostgresError``; ``MeterKeyError`` as for ``loadMeters(protocol:)``.
    public func changes(since cursor: RegistryCursor, limit: Int) async throws -> RegistryChanges? {
        let read: (RegistryChanges, [StoredMeter])? = try await database.withTransaction { connection in
            try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            var changes = RegistryChanges(cursor: try Self.snapshotCursor(connection))
            let since = String(cursor.xid)
            let stored = try connection.query(MeterChangeSQL.changedMeters, [since, Int64(limit) + 1], as: StoredMeter.self)
            guard stored.count <= limit else { return nil }
            changes.tombstones = try connection.rows(MeterChangeSQL.tombstones, [since]).map { row in
                MeterTombstone(meterID: try row.decode(0), protocol: try row.decode(1), address: try row.decode(2))
            }
            if !stored.isEmpty {
                changes.collectors = try connection.rows(MeterChangeSQL.changedAssignments, [since]).map { row in
                    (try row.decode(0, as: Int64.self), try row.decode(1, as: String.self))
                }
            }
            changes.layouts = try Self.layouts(connection.rows(MeterChangeSQL.changedLayouts, [since]))
            return (changes, stored)
        }
        guard var (changes, stored) = read else { return nil }
        changes.meters = try open(stored, what: "changed meters")
        stored.removeAll()
        return changes
    }

    /// Looks up meters by (protocol, address) in one statement, with their collectors: the registry's answer to a
    /// frame from a meter it does not hold.
    /// - Parameter identities: The (protocol, address) pairs.
    /// - Returns: The meters found (keys opened) and every collector assignment of them.
    /// - Throws: ``PostgresError``; ``MeterKeyError`` as for ``loadMeters(protocol:)``.
    public func lookupMeters(_ identities: [(protocol: FrameProtocol, address: String)]) async throws -> (
        meters: [RegisteredMeter], collectors: [(meterID: Int64, collector: String)]
    ) {
        guard !identities.isEmpty else { return ([], []) }
        let protocols = MeterChangeSQL.textArray(identities.map(\.protocol.rawValue))
        let addresses = MeterChangeSQL.textArray(identities.map(\.address))
        let (stored, collectors) = try await database.withConnection { connection in
            let stored = try connection.query(MeterChangeSQL.byIdentities, [protocols, addresses], as: StoredMeter.self)
            guard !stored.isEmpty else { return ([StoredMeter](), [(meterID: Int64, collector: String)]()) }
            let ids = stored.map(\.meter.id)
            let collectors = try connection.rows(MeterChangeSQL.assignmentsOf, [ids]).map { row in
                (meterID: try row.decode(0, as: Int64.self), collector: try row.decode(1, as: String.self))
            }
            return (stored, collectors)
        }
        return (try open(stored, what: "meters"), collectors)
    }

    /// Deletes tombstones older than `seconds` (a gateway whose cursor is older reloads in full anyway).
    /// - Parameter seconds: The age.
    /// - Returns: The rows deleted.
    /// - Throws: ``PostgresError``.
    public func pruneTombstones(olderThanSeconds seconds: Int64) async throws -> Int {
        try await database.withConnection { connection in
            try connection.execute(MeterChangeSQL.pruneTombstones, parameters: [String(seconds)])
        }
    }

    private static func snapshotCursor(_ connection: PostgresConnection) throws -> RegistryCursor {
        let text = try connection.query(MeterChangeSQL.cursor).first?.first ?? nil
        guard let text, let xid = UInt64(text) else {
            throw PostgresError(code: .unexpectedResult, message: "the snapshot's xmin is not a transaction id")
        }
        return RegistryCursor(xid: xid)
    }

    private static func layouts(_ rows: [PostgresRow]) throws -> [FormatLayoutRecord] {
        try rows.compactMap { row in
            guard let chain = Hex.decode(try row.decode(2, as: String.self)),
                let layout = MBusRecordLayout(bytes: chain)
            else { return nil }
            return FormatLayoutRecord(meterID: try row.decode(0), layout: layout, seenAt: try row.decode(3))
        }
    }
}

/// The statements of the registry's incremental reads (migration v18).
enum MeterChangeSQL {
    static let cursor = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text"

    static let page = "SELECT \(MeterSQL.columns) FROM meters WHERE protocol = $1 AND id > $2::bigint ORDER BY id LIMIT $3"

    static let changedMeters =
        "SELECT \(MeterSQL.columns) FROM meters WHERE changed_xid >= $1::xid8 ORDER BY id LIMIT $2"

    static let tombstones = """
        SELECT meter_id, protocol, address FROM meter_tombstones WHERE changed_xid >= $1::xid8
        ORDER BY changed_xid, meter_id
        """

    static let changedAssignments = """
        SELECT c.meter_id, c.collector FROM collector_meters c JOIN meters m ON m.id = c.meter_id
        WHERE m.changed_xid >= $1::xid8
        """

    static let changedLayouts = """
        SELECT meter_id, signature, encode(chain, 'hex'), \(WriterSQL.epochMicros("last_seen"))
        FROM mbus_format_layouts WHERE changed_xid >= $1::xid8
        """

    static let byIdentities = """
        SELECT \(MeterSQL.columns) FROM meters
        WHERE (protocol, address) IN (SELECT * FROM unnest($1::text[], $2::text[]))
        """

    static let assignmentsOf = "SELECT meter_id, collector FROM collector_meters WHERE meter_id = ANY ($1::bigint[])"

    static let pruneTombstones =
        "DELETE FROM meter_tombstones WHERE removed_at < now() - make_interval(secs => $1::bigint)"

    /// A text array literal with every element quoted (addresses may hold commas, quotes or backslashes).
    static func textArray(_ values: [String]) -> String {
        var literal = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { literal += "," }
            literal += "\""
            for character in value {
                if character == "\"" || character == "\\" { literal += "\\" }
                literal.append(character)
            }
            literal += "\""
        }
        return literal + "}"
    }
}
