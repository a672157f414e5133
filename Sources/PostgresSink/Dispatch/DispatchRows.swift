public import GatewayCore
public import GatewayDomain

/// One ticket with its deadlines and lifecycle times.
public struct DispatchTicket: Sendable, Equatable {
    public var id: Int64
    public var meterID: Int64
    public var `protocol`: FrameProtocol
    public var meter: String
    public var district: String?
    public var isRural: Bool
    public var condition: String
    public var priority: TicketPriority
    public var status: String
    public var origin: String
    public var incidentID: Int64?
    public var escalationLevel: Int
    public var alarmCount: Int
    public var openedAt: Timestamp
    /// acknowledge, arrive, make safe, repair.
    public var deadlines: [String: Timestamp]
    /// When each step was reached, by step name.
    public var steps: [String: Timestamp]
    public var reporter: String?
    public var note: String?
    /// The weakest protection of the alarms that opened, joined or cleared the ticket; `nil` when none did (a
    /// hotline ticket).
    public var alarmProtection: ProtectionLevel?

    /// Whether an alarm below `authenticated` acted on the ticket (e.g. one from the OMS mode-5 status byte, which
    /// anyone on the radio path can set): dispatch still goes, knowing the alarm is not proven to be the meter's.
    public var hasUnauthenticatedAlarms: Bool { alarmProtection.map { $0 < .authenticated } ?? false }

    /// The deadline of the ticket's next pending step (``TicketDeadlines/next(for:)``): an acknowledged ticket
    /// shows its arrival deadline, never its passed `acknowledge_by`. `nil` for a ticket with none pending.
    public var nextDeadline: Timestamp? {
        guard let status = TicketStatus(rawValue: status) else { return nil }
        var instants: [TicketDeadline: Timestamp] = [:]
        for deadline in TicketDeadline.allCases {
            instants[deadline] = deadlines[deadline.rawValue]
        }
        return TicketDeadlines(instants).next(for: status)?.at
    }
}

extension DispatchTicket: PostgresRowDecodable {
    /// Decodes the columns of `DispatchSQL.ticketColumns`.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a required column is NULL or malformed.
    public init(row: PostgresRow) throws {
        var deadlines: [String: Timestamp] = [:]
        for (offset, deadline) in TicketDeadline.allCases.enumerated() {
            if let at = try row.decode(14 + offset, as: Timestamp?.self) { deadlines[deadline.rawValue] = at }
        }
        var steps: [String: Timestamp] = [:]
        for (offset, step) in TicketStep.allCases.enumerated() {
            if let at = try row.decode(18 + offset, as: Timestamp?.self) { steps[step.rawValue] = at }
        }
        self.init(
            id: try row.decode(0),
            meterID: try row.decode(1),
            protocol: try row.decode(2),
            meter: try row.decode(3),
            district: try row.decode(4, as: String?.self),
            isRural: try row.decode(5, as: Bool?.self) ?? false,
            condition: try row.decode(6),
            priority: try row.decode(7),
            status: try row.decode(8),
            origin: try row.decode(9),
            incidentID: try row.decode(10, as: Int64?.self),
            escalationLevel: try row.decode(11, as: Int?.self) ?? 0,
            alarmCount: try row.decode(12, as: Int?.self) ?? 0,
            openedAt: try row.decode(13),
            deadlines: deadlines,
            steps: steps,
            reporter: try row.decode(25, as: String?.self),
            note: try row.decode(26, as: String?.self),
            alarmProtection: try row.decode(27, as: String?.self).map {
                try ProtectionLevel(storedCode: $0, column: 27)
            }
        )
    }
}

/// One event of a ticket's audit trail.
public struct DispatchEvent: Sendable, Equatable {
    public var id: Int64
    public var ticketID: Int64
    public var at: Timestamp
    public var kind: String
    public var actor: String
    public var alarmID: Int64?
    public var detail: String?
}

extension DispatchEvent: PostgresRowDecodable {
    /// Decodes `id, ticket_id, at (µs), kind, actor, alarm_id, detail` (further columns are ignored).
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a required column is NULL or malformed.
    public init(row: PostgresRow) throws {
        self.init(
            id: try row.decode(0),
            ticketID: try row.decode(1),
            at: try row.decode(2),
            kind: try row.decode(3),
            actor: try row.decode(4),
            alarmID: try row.decode(5, as: Int64?.self),
            detail: try row.decode(6, as: String?.self)
        )
    }
}

/// Which open tickets to list.
public struct TicketFilter: Sendable, Equatable {
    public var priority: TicketPriority?
    public var district: String?
    /// Only tickets with a pending deadline (of their next step) before this instant.
    public var dueBefore: Timestamp?
    /// Include resolved and closed tickets.
    public var includeClosed = false
    /// At most this many tickets.
    public var limit = 500
    /// Only tickets after this place in the list's order (priority, next pending deadline, id): the keyset cursor
    /// of a paginated list, the place of the previous page's last ticket as it was when that page was read. A
    /// ticket acknowledged, resolved or re-prioritised between two pages moves in the order, and the tickets between
    /// its old and new place are still listed.
    public var after: TicketListPosition?
    /// Only tickets after this one in the list's order as that ticket stands now (``after`` wins when both are set).
    /// The cursors of earlier versions held only the id: if that ticket moved meanwhile, the tickets between its old
    /// and new place are skipped or repeated.
    public var afterTicket: Int64?

    public init() {}
}

/// A ticket's place in the ticket list's order: priority, then the deadline of its next pending step (tickets with
/// none last), then id.
public struct TicketListPosition: Sendable, Equatable {
    public var priority: TicketPriority
    /// ``DispatchTicket/nextDeadline``; `nil` sorts after every deadline.
    public var nextDeadline: Timestamp?
    public var id: Int64

    public init(priority: TicketPriority, nextDeadline: Timestamp?, id: Int64) {
        self.priority = priority
        self.nextDeadline = nextDeadline
        self.id = id
    }

    /// The place of `ticket` as it was read.
    public init(of ticket: DispatchTicket) {
        self.init(priority: ticket.priority, nextDeadline: ticket.nextDeadline, id: ticket.id)
    }
}

/// The household file of a meter (一户一档): what a crew wants to know before arriving.
public struct HouseholdFile: Sendable, Equatable {
    /// One of the latest readings.
    public struct Reading: Sendable, Equatable {
        public var readAt: Timestamp
        public var volumeMillilitres: Int64
        public var valve: ValveState
        public var quality: ReadQuality?

        public init(readAt: Timestamp, volumeMillilitres: Int64, valve: ValveState, quality: ReadQuality?) {
            self.readAt = readAt
            self.volumeMillilitres = volumeMillilitres
            self.valve = valve
            self.quality = quality
        }
    }

    /// One of the latest alarms.
    public struct Alarm: Sendable, Equatable {
        public var raisedAt: Timestamp
        public var condition: String
        public var priority: String
        public var isCleared: Bool
        /// How the field the alarm came from was protected.
        public var protection: ProtectionLevel

        public init(
            raisedAt: Timestamp,
            condition: String,
            priority: String,
            isCleared: Bool,
            protection: ProtectionLevel
        ) {
            self.raisedAt = raisedAt
            self.condition = condition
            self.priority = priority
            self.isCleared = isCleared
            self.protection = protection
        }
    }

    /// One of the meter's latest tickets.
    public struct Ticket: Sendable, Equatable {
        public var id: Int64
        public var condition: String
        public var priority: String
        public var status: String
        public var openedAt: Timestamp

        public init(id: Int64, condition: String, priority: String, status: String, openedAt: Timestamp) {
            self.id = id
            self.condition = condition
            self.priority = priority
            self.status = status
            self.openedAt = openedAt
        }
    }

    /// One of the latest safety inspections.
    public struct Inspection: Sendable, Equatable {
        /// `YYYY-MM-DD`.
        public var date: String
        public var inspector: String
        public var result: String

        public init(date: String, inspector: String, result: String) {
            self.date = date
            self.inspector = inspector
            self.result = result
        }
    }

    /// The latest readings, newest first.
    public var readings: [Reading]
    /// The latest alarms, newest first.
    public var alarms: [Alarm]
    /// The meter's latest tickets, newest first.
    public var tickets: [Ticket]
    /// The latest inspections, newest first.
    public var inspections: [Inspection]
    public var hasContinuousAppliance: Bool
    public var isMethaneDetectorLinked: Bool
    public var customerClass: String?
}

extension HouseholdFile.Reading: PostgresRowDecodable {
    /// Decodes `read_at (µs), volume_ml, valve, quality`; an unknown valve code reads as `.unknown`.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a required column is NULL or malformed.
    public init(row: PostgresRow) throws {
        self.init(
            readAt: try row.decode(0),
            volumeMillilitres: try row.decode(1),
            valve: try row.decode(2, as: Int16?.self).flatMap(ValveState.init(rawValue:)) ?? .unknown,
            quality: try row.decode(3, as: Int16?.self).flatMap(ReadQuality.init(rawValue:))
        )
    }
}

extension HouseholdFile.Alarm: PostgresRowDecodable {
    /// Decodes `raised_at (µs), condition, priority, is_cleared, protection`.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a required column is NULL or malformed.
    public init(row: PostgresRow) throws {
        self.init(
            raisedAt: try row.decode(0),
            condition: try row.decode(1),
            priority: try row.decode(2),
            isCleared: try row.decode(3, as: Bool?.self) ?? false,
            protection: try ProtectionLevel(storedCode: row.decode(4), column: 4)
        )
    }
}

extension HouseholdFile.Ticket: PostgresRowDecodable {
    /// Decodes `id, condition, priority, status, opened_at (µs)`.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a column is NULL or malformed.
    public init(row: PostgresRow) throws {
        self.init(
            id: try row.decode(0),
            condition: try row.decode(1),
            priority: try row.decode(2),
            status: try row.decode(3),
            openedAt: try row.decode(4)
        )
    }
}

extension HouseholdFile.Inspection: PostgresRowDecodable {
    /// Decodes `inspected_on::text, inspector, result`.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a column is NULL.
    public init(row: PostgresRow) throws {
        self.init(date: try row.decode(0), inspector: try row.decode(1), result: try row.decode(2))
    }
}

extension TicketStatus: PostgresDecodable, PostgresEncodable {}
extension TicketDeadline: PostgresDecodable, PostgresEncodable {}
