/// The kind of a `ticket_events` row.
public struct TicketEventKind: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible
{
    /// The text stored in `ticket_events.kind`.
    public var rawValue: String

    /// Creates a kind from its stored text.
    /// - Parameters:
    ///   - rawValue: The text.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// Creates a kind from a string literal.
    /// - Parameters:
    ///   - value: The text.
    public init(stringLiteral value: String) {
        self.rawValue = value
    }

    /// The alarm that opened the ticket.
    public static let opened: TicketEventKind = "opened"
    /// A further alarm joined the active ticket.
    public static let alarm: TicketEventKind = "alarm"
    /// The meter reported the condition cleared; the ticket stays active until a person closes it (a P3 device
    /// fault not yet dispatched is resolved by the gateway, see ``TicketFolding``).
    public static let alarmCleared: TicketEventKind = "alarm_cleared"
    /// A more urgent alarm raised the ticket's priority (and tightened its deadlines).
    public static let priorityRaised: TicketEventKind = "priority_raised"
    /// The ticket reached the `resolved` step (by a person, or by the gateway for a cleared device fault).
    public static let resolved: TicketEventKind = "resolved"
    /// The ticket was linked to a major incident of its district.
    public static let incidentLinked: TicketEventKind = "incident_linked"
    /// A person's note, or a hotline call joining an active ticket.
    public static let note: TicketEventKind = "note"

    public var description: String { rawValue }
}
