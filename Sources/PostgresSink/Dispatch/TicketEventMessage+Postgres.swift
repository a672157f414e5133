import Foundation
import GatewayCore
public import GatewayDomain

extension TicketEventMessage: PostgresRowDecodable {
    /// Decodes the columns of `DispatchSQL.messageColumns`.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a required column is NULL or malformed.
    public init(row: PostgresRow) throws {
        self.init(
            eventID: try row.decode(0),
            event: try row.decode(1),
            at: try row.decode(2),
            actor: try row.decode(3),
            detail: try row.decode(4, as: String?.self),
            alarmID: try row.decode(5, as: Int64?.self),
            alarmProtection: try row.decode(23, as: String?.self).map { try ProtectionLevel(storedCode: $0, column: 23) },
            ticket: Ticket(
                id: try row.decode(6),
                meterID: try row.decode(7),
                condition: try row.decode(8),
                priority: try row.decode(9),
                status: try row.decode(10),
                origin: try row.decode(11),
                incidentID: try row.decode(12, as: Int64?.self),
                escalationLevel: try row.decode(13, as: Int?.self) ?? 0,
                openedAt: try row.decode(14),
                acknowledgeBy: try row.decode(15, as: Timestamp?.self),
                arriveBy: try row.decode(16, as: Timestamp?.self),
                makeSafeBy: try row.decode(17, as: Timestamp?.self),
                repairBy: try row.decode(18, as: Timestamp?.self),
                meter: Meter(
                    protocol: try row.decode(19),
                    id: try row.decode(20),
                    district: try row.decode(21, as: String?.self),
                    rural: try row.decode(22, as: Bool?.self) ?? false
                )
            )
        )
    }

    /// The message as the JSON text sent on NOTIFY and MQTT (keys sorted, so equal messages are equal bytes).
    /// - Throws: `EncodingError` (not expected for this type).
    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

extension DispatchOutbox {
    /// Notifies `ticket_events` once per event, in id order, with its ``TicketEventMessage``, inside the caller's
    /// transaction: PostgreSQL delivers the notifications when (and only if) it commits.
    /// - Parameters:
    ///   - eventIDs: The events just written.
    ///   - connection: The connection of the open transaction.
    /// - Returns: The messages notified, in id order.
    /// - Throws: ``PostgresError``.
    @discardableResult
    static func notify(eventIDs: [Int64], on connection: PostgresConnection) throws -> [TicketEventMessage] {
        guard !eventIDs.isEmpty else { return [] }
        let messages = try connection.query(DispatchSQL.messagesByID, [eventIDs], as: TicketEventMessage.self)
        for message in messages {
            _ = try connection.rows(DispatchSQL.notify, [try message.jsonText()])
        }
        return messages
    }
}
