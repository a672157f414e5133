public import GatewayCore

/// A `quarantine` row as `quarantine list` and `quarantine replay` see it.
public struct QuarantinedFrame: Sendable, Equatable {
    /// `quarantine.id`.
    public var id: Int64
    /// When the first delivery of these bytes with this reason was received.
    public var receivedAt: Timestamp
    /// When the last one was received.
    public var lastReceivedAt: Timestamp
    /// How many deliveries the row stands for.
    public var repeatCount: Int64
    /// The MQTT topic.
    public var topic: String
    /// The frame's bytes as received (the first bytes only for `frame_too_large`).
    public var payload: [UInt8]
    /// The reason code.
    public var reason: String
    /// The human-readable detail.
    public var detail: String
    /// When `quarantine replay` last ran the frame up the ladder, if ever.
    public var replayedAt: Timestamp?
    /// What that replay decided: `stored`, `duplicate`, `quarantined:<reason>` or `not_replayable`.
    public var replayOutcome: String?
}

/// The quarantine as `quarantine list` and `quarantine replay` see it: frames the admission ladder refused, and
/// what a replay decided for each.
///
/// Thread rules: a value over a ``PostgresDatabase``; every statement runs on the database's own thread.
public struct QuarantineStore: Sendable {
    private let database: any PostgresDatabase

    /// Creates a store over a session or pool.
    /// - Parameter database: Where the SQL runs.
    public init(_ database: any PostgresDatabase) {
        self.database = database
    }

    /// Quarantined frames in id order.
    /// - Parameters:
    ///   - reason: Only this reason, or all.
    ///   - since: Only frames first received at or after this time (`timestamptz` text, e.g. `2026-12-01` or
    ///     `2026-12-01T08:00:00Z`), or all.
    ///   - pendingOnly: Leave out frames a replay already stored (outcome `stored` or `duplicate`).
    ///   - afterID: Only rows with a larger id (for paging).
    ///   - limit: At most this many rows.
    /// - Returns: The rows.
    /// - Throws: ``PostgresError`` (SQLSTATE 22007/22008 when `since` is not a time).
    public func quarantinedFrames(
        reason: String?,
        since: String?,
        pendingOnly: Bool,
        afterID: Int64 = 0,
        limit: Int
    ) async throws -> [QuarantinedFrame] {
        try await database.withConnection { connection in
            try connection.query(
                QuarantineSQL.frames,
                [afterID, reason, since, pendingOnly, limit],
                as: QuarantinedFrame.self
            )
        }
    }

    /// Records what a replay decided for a quarantined frame.
    /// - Parameters:
    ///   - id: `quarantine.id`.
    ///   - outcome: `stored`, `duplicate`, `quarantined:<reason>` or `not_replayable`.
    ///   - detail: Why, for a frame that stays quarantined.
    ///   - at: When the replay ran.
    /// - Throws: ``PostgresError``.
    public func recordReplay(id: Int64, outcome: String, detail: String?, at: Timestamp) async throws {
        try await database.withConnection { connection in
            _ = try connection.execute(
                QuarantineSQL.recordReplay,
                parameters: [String(id), String(at.microsecondsSinceEpoch), outcome, detail]
            )
        }
    }
}

extension QuarantinedFrame: PostgresRowDecodable {
    /// Decodes the columns of ``QuarantineSQL/frames``.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) for a NULL or malformed column.
    public init(row: PostgresRow) throws {
        guard let payload = Hex.decode(try row.decode(5, as: String.self)) else {
            throw PostgresError(code: .unexpectedResult, message: "column 5 is not hex")
        }
        self.init(
            id: try row.decode(0),
            receivedAt: try row.decode(1),
            lastReceivedAt: try row.decode(2),
            repeatCount: try row.decode(3),
            topic: try row.decode(4),
            payload: payload,
            reason: try row.decode(6),
            detail: try row.decode(7, as: String?.self) ?? "",
            replayedAt: try row.decode(8, as: Timestamp?.self),
            replayOutcome: try row.decode(9, as: String?.self)
        )
    }
}

/// The statements of ``QuarantineStore``.
enum QuarantineSQL {
    static let frames = """
        SELECT id, \(WriterSQL.epochMicros("received_at")), \(WriterSQL.epochMicros("last_received_at")),
            repeat_count, topic, encode(payload, 'hex'), reason, detail,
            \(WriterSQL.epochMicros("replayed_at")), replay_outcome
        FROM quarantine
        WHERE id > $1::bigint AND ($2::text IS NULL OR reason = $2)
            AND ($3::timestamptz IS NULL OR received_at >= $3::timestamptz)
            AND (NOT $4::boolean OR replay_outcome IS NULL OR replay_outcome NOT IN ('stored', 'duplicate'))
        ORDER BY id
        LIMIT $5::integer
        """

    static let recordReplay = """
        UPDATE quarantine SET replayed_at = to_timestamp($2::bigint / 1000000.0), replay_outcome = $3,
            replay_detail = $4
        WHERE id = $1::bigint
        """
}
