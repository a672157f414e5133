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

extension PostgresWriter {
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
    ) throws -> [QuarantinedFrame] {
        let rows = try withConnection { connection in
            try connection.query(
                """
                SELECT id, \(WriterSQL.epochMicros("received_at")), \(WriterSQL.epochMicros("last_received_at")),
                    repeat_count, topic, encode(payload, 'hex'), reason, detail,
                    \(WriterSQL.epochMicros("replayed_at")), replay_outcome
                FROM quarantine
                WHERE id > $1::bigint AND ($2::text IS NULL OR reason = $2)
                    AND ($3::timestamptz IS NULL OR received_at >= $3::timestamptz)
                    AND (NOT $4::boolean OR replay_outcome IS NULL OR replay_outcome NOT IN ('stored', 'duplicate'))
                ORDER BY id
                LIMIT $5::integer
                """,
                parameters: [String(afterID), reason, since, pendingOnly ? "true" : "false", String(limit)]
            )
        }
        return rows.compactMap { row -> QuarantinedFrame? in
            guard row.count == 10, let id = row[0].flatMap({ Int64($0) }),
                let received = row[1].flatMap({ Int64($0) }), let last = row[2].flatMap({ Int64($0) }),
                let repeats = row[3].flatMap({ Int64($0) }), let topic = row[4], let hex = row[5],
                let payload = Hex.decode(hex), let reason = row[6]
            else { return nil }
            return QuarantinedFrame(
                id: id,
                receivedAt: Timestamp(microsecondsSinceEpoch: received),
                lastReceivedAt: Timestamp(microsecondsSinceEpoch: last),
                repeatCount: repeats,
                topic: topic,
                payload: payload,
                reason: reason,
                detail: row[7] ?? "",
                replayedAt: row[8].flatMap { Int64($0) }.map { Timestamp(microsecondsSinceEpoch: $0) },
                replayOutcome: row[9]
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
    public func recordReplay(id: Int64, outcome: String, detail: String?, at: Timestamp) throws {
        try withConnection { connection in
            _ = try connection.execute(
                """
                UPDATE quarantine SET replayed_at = to_timestamp($2::bigint / 1000000.0), replay_outcome = $3,
                    replay_detail = $4
                WHERE id = $1::bigint
                """,
                parameters: [String(id), String(at.microsecondsSinceEpoch), outcome, detail]
            )
        }
    }
}
