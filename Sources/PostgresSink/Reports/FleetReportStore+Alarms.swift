extension FleetReportStore {
    /// A stored alarm named the way the frame that carried it names it: meter protocol, address and frame
    /// counter. The alarm-latency benchmark (`meter-gateway bench-alarms`) uses it to tie a ticket event's
    /// `alarm_id` to the frame the fleet published.
    public struct AlarmFrame: Sendable, Equatable, PostgresRowDecodable {
        /// `alarms.id`.
        public var alarmID: Int64
        /// The meter's protocol (`native`, …).
        public var meterProtocol: String
        /// The meter's address (a native meter's decimal id).
        public var address: String
        /// The frame counter of the frame that carried the alarm (`nil` for protocols without one, and for alarms
        /// the validator derived from readings).
        public var frameCounter: Int64?
        /// `alarms.received_at` in µs since 1970: when the gateway's MQTT callback received the frame.
        public var receivedMicros: Int64

        /// Decodes `(id, protocol, address, frame_counter, received_at µs)`.
        /// - Throws: ``PostgresError`` (`.unexpectedResult`) for a NULL or malformed column.
        public init(row: PostgresRow) throws {
            alarmID = try row.decode(0)
            meterProtocol = try row.decode(1)
            address = try row.decode(2)
            frameCounter = try row.decode(3, as: Int64?.self)
            receivedMicros = try row.decode(4)
        }
    }

    /// The meter and frame counter of each of the given alarms, with the gateway's receive stamp (ids that do not
    /// exist are left out).
    /// - Parameter ids: `alarms.id` values.
    /// - Returns: One entry per stored alarm among `ids`.
    /// - Throws: ``PostgresError``.
    public func alarmFrames(ids: [Int64]) async throws -> [AlarmFrame] {
        guard !ids.isEmpty else { return [] }
        let array = "{" + ids.map(String.init).joined(separator: ",") + "}"
        return try await database.withConnection { connection in
            try connection.query(
                """
                SELECT a.id, m.protocol, m.address, a.frame_counter,
                       (extract(epoch FROM a.received_at) * 1000000)::bigint
                FROM alarms a JOIN meters m ON m.id = a.meter_id
                WHERE a.id = ANY($1::bigint[])
                """,
                [array],
                as: AlarmFrame.self
            )
        }
    }
}
