import GatewayCore
public import GatewayDomain

/// The dispatch outbox: ticket events waiting for the MQTT dispatch topic, and the valve-close commands of P0
/// tickets.
///
/// Delivery is at least once and in order: ``undispatchedEvents(limit:)`` reads events whose `dispatched_at` is NULL
/// in id order, the service publishes them and then calls ``markDispatched(_:)``. Runs on the ``PostgresDatabase``
/// it is given.
public struct DispatchOutbox: Sendable {
    private let database: any PostgresDatabase
    private let sealer: MeterKeySealer?
    private let keyTable: MeterKeyTable?

    /// Creates an outbox over a session or a pool.
    /// - Parameters:
    ///   - database: Where the statements run.
    ///   - sealer: The master key that opens sealed meter keys (for valve commands); nil when none is configured.
    ///   - keyTable: Keys from a key file, used instead of the database's; nil for none.
    public init(_ database: any PostgresDatabase, sealer: MeterKeySealer? = nil, keyTable: MeterKeyTable? = nil) {
        self.database = database
        self.sealer = sealer
        self.keyTable = keyTable
    }

    /// Events not yet published on the dispatch topic, oldest first, each as the message to publish (the same
    /// shape NOTIFY carries; ``TicketEventMessage/jsonText()``).
    /// - Parameter limit: At most this many.
    /// - Returns: The messages, in event-id order.
    /// - Throws: ``PostgresError``.
    public func undispatchedEvents(limit: Int) async throws -> [TicketEventMessage] {
        try await database.withConnection { connection in
            try connection.query(DispatchSQL.undispatched, [limit], as: TicketEventMessage.self)
        }
    }

    /// Marks events as published on the dispatch topic.
    ///
    /// The mark commits without waiting for its WAL flush (`synchronous_commit = off` for this transaction only), so
    /// the dispatch loop is not held for a disk sync after every page of events. A server crash can lose the marks of
    /// the last fraction of a second; those events are then published again, which the at-least-once contract of the
    /// dispatch topic already allows (consumers dedupe on `event_id`).
    /// - Parameter ids: The events the broker acknowledged.
    /// - Throws: ``PostgresError``.
    public func markDispatched(_ ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await database.withTransaction { connection in
            try connection.execute("SET LOCAL synchronous_commit = off")
            _ = try connection.rows(DispatchSQL.markDispatched, [ids])
        }
    }

    /// Complaint events not yet published on the dispatch topic, oldest first, each with its complaint's category
    /// (the topic's last level) and its message: the JSON `NOTIFY complaint_events` carried, byte for byte, as it was
    /// when the event was written (migration v29's `complaint_event_message`, without the complainant's name, contact
    /// or texts).
    /// - Parameter limit: At most this many.
    /// - Returns: The events, in event-id order.
    /// - Throws: ``PostgresError``.
    public func undispatchedComplaintEvents(limit: Int) async throws -> [ComplaintEventMessage] {
        try await database.withConnection { connection in
            try connection.rows(DispatchSQL.undispatchedComplaintEvents, [limit]).map { row in
                ComplaintEventMessage(eventID: try row.decode(0), category: try row.decode(1), json: try row.decode(2))
            }
        }
    }

    /// Marks complaint events as published (removes them from the outbox), committing as ``markDispatched(_:)`` does.
    /// - Parameter ids: The events the broker acknowledged.
    /// - Throws: ``PostgresError``.
    public func markComplaintEventsDispatched(_ ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await database.withTransaction { connection in
            try connection.execute("SET LOCAL synchronous_commit = off")
            _ = try connection.rows(DispatchSQL.markComplaintEventsDispatched, [ids])
        }
    }

    /// Active P0 tickets of native meters with a key whose valve-close command was not sent yet.
    /// - Parameter limit: At most this many.
    /// - Returns: The tickets, oldest first.
    /// - Throws: ``PostgresError``; ``MeterKeyError`` when a meter's key is sealed and there is no master key or
    ///   it does not open the key (naming how many, never a key).
    public func pendingValveCloses(limit: Int) async throws -> [PendingValveClose] {
        let rows = try await database.withConnection { connection in
            try connection.query(DispatchSQL.pendingValveCloses, [limit], as: StoredValveClose.self)
        }
        var pending: [PendingValveClose] = []
        var unopened = 0
        for row in rows {
            var close = row.close
            if let keyTable {
                // The key file decides; a meter it has no key for gets no command.
                guard let key = keyTable.key(protocol: .native, address: close.address) else { continue }
                close.key = key
            } else if let sealed = row.sealedKey {
                guard let key = sealer?.open(sealed, protocol: .native, address: close.address) else {
                    unopened += 1
                    continue
                }
                close.key = key
            } else if close.key.isEmpty {
                continue
            }
            pending.append(close)
        }
        if unopened > 0 {
            throw MeterKeyError(
                problem: sealer == nil
                    ? "\(unopened) meters with a P0 ticket have sealed keys but no master key is configured "
                        + "(meters.master_key_file)"
                    : "the master key (meters.master_key_file) does not open the sealed keys of \(unopened) meters "
                        + "with a P0 ticket"
            )
        }
        return pending
    }

    /// Reserves the valve-close command of a ticket (one per ticket) and returns its frame counter. The first
    /// reservation writes the `valve_command` event (before the downlink leaves, so the meter's answer always
    /// follows it in the ticket's history).
    /// - Parameters:
    ///   - ticketID: The P0 ticket.
    ///   - meterID: Its meter.
    ///   - detail: The event's detail.
    /// - Returns: The command's frame counter.
    /// - Throws: ``PostgresError``.
    public func reserveValveCommand(
        ticketID: Int64,
        meterID: Int64,
        detail: @escaping @Sendable (UInt32) -> String
    ) async throws -> UInt32? {
        try await database.withTransaction { connection -> UInt32? in
            guard let row = try connection.rows(DispatchSQL.reserveValveCommand, [ticketID, meterID]).first,
                let counter = try row.decode(0, as: Int64?.self).flatMap(UInt32.init(exactly:))
            else { return nil }
            if try row.decode(1, as: Bool?.self) == true {
                let events = try connection.query(
                    DispatchSQL.valveCommandEvent,
                    [ticketID, detail(counter)],
                    as: DispatchEvent.self
                )
                try DispatchOutbox.notify(eventIDs: events.map(\.id), on: connection)
            }
            return counter
        }
    }

    /// Records that the broker acknowledged the valve-close command of a ticket.
    /// - Parameter ticketID: The ticket.
    /// - Throws: ``PostgresError``.
    public func markValveCommandSent(ticketID: Int64) async throws {
        try await database.withConnection { connection in
            _ = try connection.rows(DispatchSQL.markValveCommandSent, [ticketID])
        }
    }

    /// Records meters' answers to commands as `valve_answer` events, inside the caller's (ingest) transaction.
    /// - Parameters:
    ///   - results: The answers decoded from uplinks.
    ///   - connection: The connection of the open transaction.
    /// - Returns: How many answers matched a command.
    /// - Throws: ``PostgresError``.
    static func recordCommandResults(_ results: [CommandResultRecord], on connection: PostgresConnection) throws -> Int
    {
        guard !results.isEmpty else { return 0 }
        let events = try connection.query(
            DispatchSQL.recordCommandResults,
            [
                results.map(\.meterID), results.map(\.commandFrameCounter), results.map(\.outcome),
                results.map(\.valve.rawValue), results.map(\.receivedAt.microsecondsSinceEpoch),
            ],
            as: DispatchEvent.self
        )
        try notify(eventIDs: events.map(\.id), on: connection)
        return events.count
    }
}

/// A P0 ticket whose meter should get a valve-close command.
public struct PendingValveClose: Sendable, Equatable {
    public var ticketID: Int64
    public var meterID: Int64
    public var address: String
    public var key: [UInt8]
    public var condition: String
}

/// A row of ``DispatchSQL/pendingValveCloses``: the command, with its key in plaintext or sealed.
struct StoredValveClose: PostgresRowDecodable {
    var close: PendingValveClose
    var sealedKey: [UInt8]?

    /// Decodes `ticket id, meter id, address, hex key, condition, hex sealed key` (at most one key; none gives an
    /// empty ``PendingValveClose/key``).
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a column is NULL or a key is not hex.
    init(row: PostgresRow) throws {
        func hex(_ column: Int) throws -> [UInt8]? {
            try row.decode(column, as: String?.self).map { text in
                guard let bytes = Hex.decode(text) else {
                    throw PostgresError(code: .unexpectedResult, message: "column \(column) is not a hex key")
                }
                return bytes
            }
        }
        let key = try hex(3)
        sealedKey = try hex(5)
        close = PendingValveClose(
            ticketID: try row.decode(0),
            meterID: try row.decode(1),
            address: try row.decode(2),
            key: key ?? [],
            condition: try row.decode(4)
        )
    }
}

/// A complaint event waiting for the dispatch topic.
public struct ComplaintEventMessage: Sendable, Equatable {
    /// The `complaint_events` id (consumers dedupe on it: delivery is at least once).
    public var eventID: Int64
    /// The complaint's category: `<prefix>/dispatch/complaints/<category>`.
    public var category: String
    /// The message, JSON version 1 (see ``DispatchOutbox/undispatchedComplaintEvents(limit:)``).
    public var json: String
}
