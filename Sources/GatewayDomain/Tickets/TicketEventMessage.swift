public import GatewayCore

/// One ticket event as every consumer sees it: the `ticket_events` NOTIFY payload and the MQTT dispatch-topic
/// message carry this one shape (JSON, snake_case keys), versioned so consumers can tell a future shape apart.
///
/// Version 1:
/// ```json
/// {"version": 1, "event_id": 42, "event": "escalated", "at": "2026-11-23T08:00:00Z", "actor": "gateway",
///  "detail": "arrive_by passed", "alarm_id": null, "alarm_protection": null,
///  "ticket": {"id": 7, "meter_id": 3, "condition": "methane_detector", "priority": "P0", "status": "open",
///             "origin": "alarm", "incident_id": null, "escalation_level": 1, "opened_at": "…",
///             "acknowledge_by": "…", "arrive_by": "…", "make_safe_by": "…", "repair_by": "…",
///             "meter": {"protocol": "native", "id": "1001", "district": "d1", "rural": false}}}
/// ```
/// Times are ISO 8601 UTC (``Timestamp/description``). Delivery is at least once; consumers dedupe on `event_id`.
/// `alarm_protection` (added within version 1; absent in older messages) is how the event's alarm was protected on
/// its way from the meter (`authenticated`, `encrypted`, `plain`; `null` without an alarm): a `plain` alarm, such
/// as one from an OMS mode-5 status byte, may have been forged on the radio path and still opens its ticket.
public struct TicketEventMessage: Sendable, Equatable, Codable {
    /// The shape's version; this type writes ``currentVersion``.
    public var version: Int
    /// The event's id (`ticket_events.id`): increasing, the dedupe key.
    public var eventID: Int64
    /// The event kind: `opened`, `alarm`, a lifecycle step, `note`, `escalated`, `valve_command`, …
    public var event: String
    /// When it happened.
    public var at: Timestamp
    /// Who: a person, `gateway` or `meter`.
    public var actor: String
    /// Free text (a note, the deadline that passed, a command's outcome).
    public var detail: String?
    /// The alarm that caused it, if any.
    public var alarmID: Int64?
    /// How that alarm was protected (`nil` without an alarm).
    public var alarmProtection: ProtectionLevel?
    /// The ticket as it stands after the event.
    public var ticket: Ticket

    /// The version this type writes.
    public static let currentVersion = 1

    /// The ticket of an event.
    public struct Ticket: Sendable, Equatable, Codable {
        public var id: Int64
        public var meterID: Int64
        public var condition: String
        public var priority: TicketPriority
        public var status: String
        public var origin: String
        public var incidentID: Int64?
        public var escalationLevel: Int
        public var openedAt: Timestamp
        public var acknowledgeBy: Timestamp?
        public var arriveBy: Timestamp?
        public var makeSafeBy: Timestamp?
        public var repairBy: Timestamp?
        public var meter: Meter

        /// Creates the ticket part of a message.
        public init(
            id: Int64,
            meterID: Int64,
            condition: String,
            priority: TicketPriority,
            status: String,
            origin: String,
            incidentID: Int64?,
            escalationLevel: Int,
            openedAt: Timestamp,
            acknowledgeBy: Timestamp?,
            arriveBy: Timestamp?,
            makeSafeBy: Timestamp?,
            repairBy: Timestamp?,
            meter: Meter
        ) {
            self.id = id
            self.meterID = meterID
            self.condition = condition
            self.priority = priority
            self.status = status
            self.origin = origin
            self.incidentID = incidentID
            self.escalationLevel = escalationLevel
            self.openedAt = openedAt
            self.acknowledgeBy = acknowledgeBy
            self.arriveBy = arriveBy
            self.makeSafeBy = makeSafeBy
            self.repairBy = repairBy
            self.meter = meter
        }

        enum CodingKeys: String, CodingKey {
            case id
            case meterID = "meter_id"
            case condition, priority, status, origin
            case incidentID = "incident_id"
            case escalationLevel = "escalation_level"
            case openedAt = "opened_at"
            case acknowledgeBy = "acknowledge_by"
            case arriveBy = "arrive_by"
            case makeSafeBy = "make_safe_by"
            case repairBy = "repair_by"
            case meter
        }

        /// Decodes the ticket; times are ISO 8601 UTC text.
        /// - Throws: `DecodingError` for a missing key or a malformed time.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int64.self, forKey: .id)
            meterID = try c.decode(Int64.self, forKey: .meterID)
            condition = try c.decode(String.self, forKey: .condition)
            priority = try c.decode(TicketPriorityText.self, forKey: .priority).value
            status = try c.decode(String.self, forKey: .status)
            origin = try c.decode(String.self, forKey: .origin)
            incidentID = try c.decodeIfPresent(Int64.self, forKey: .incidentID)
            escalationLevel = try c.decode(Int.self, forKey: .escalationLevel)
            openedAt = try c.decode(ISOTime.self, forKey: .openedAt).value
            acknowledgeBy = try c.decodeIfPresent(ISOTime.self, forKey: .acknowledgeBy)?.value
            arriveBy = try c.decodeIfPresent(ISOTime.self, forKey: .arriveBy)?.value
            makeSafeBy = try c.decodeIfPresent(ISOTime.self, forKey: .makeSafeBy)?.value
            repairBy = try c.decodeIfPresent(ISOTime.self, forKey: .repairBy)?.value
            meter = try c.decode(Meter.self, forKey: .meter)
        }

        /// Encodes the ticket; absent deadlines and incident are written as `null`.
        /// - Throws: What the encoder throws.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(meterID, forKey: .meterID)
            try c.encode(condition, forKey: .condition)
            try c.encode(priority.rawValue, forKey: .priority)
            try c.encode(status, forKey: .status)
            try c.encode(origin, forKey: .origin)
            try c.encode(incidentID, forKey: .incidentID)
            try c.encode(escalationLevel, forKey: .escalationLevel)
            try c.encode(openedAt.description, forKey: .openedAt)
            try c.encode(acknowledgeBy?.description, forKey: .acknowledgeBy)
            try c.encode(arriveBy?.description, forKey: .arriveBy)
            try c.encode(makeSafeBy?.description, forKey: .makeSafeBy)
            try c.encode(repairBy?.description, forKey: .repairBy)
            try c.encode(meter, forKey: .meter)
        }
    }

    /// The meter of a ticket, as the field crew knows it.
    public struct Meter: Sendable, Equatable, Codable {
        /// `native`, `cjt188` or `mbus`.
        public var `protocol`: String
        /// The meter's address in its protocol.
        public var id: String
        public var district: String?
        public var rural: Bool

        /// Creates the meter part of a message.
        public init(protocol: String, id: String, district: String?, rural: Bool) {
            self.protocol = `protocol`
            self.id = id
            self.district = district
            self.rural = rural
        }

        enum CodingKeys: String, CodingKey {
            case `protocol`, id, district, rural
        }

        /// Encodes the meter; an unknown district is written as `null`.
        /// - Throws: What the encoder throws.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(self.protocol, forKey: .protocol)
            try c.encode(id, forKey: .id)
            try c.encode(district, forKey: .district)
            try c.encode(rural, forKey: .rural)
        }
    }

    /// Creates a message of the current version.
    public init(
        eventID: Int64,
        event: String,
        at: Timestamp,
        actor: String,
        detail: String?,
        alarmID: Int64?,
        alarmProtection: ProtectionLevel? = nil,
        ticket: Ticket
    ) {
        self.version = Self.currentVersion
        self.eventID = eventID
        self.event = event
        self.at = at
        self.actor = actor
        self.detail = detail
        self.alarmID = alarmID
        self.alarmProtection = alarmProtection
        self.ticket = ticket
    }

    enum CodingKeys: String, CodingKey {
        case version
        case eventID = "event_id"
        case event, at, actor, detail
        case alarmID = "alarm_id"
        case alarmProtection = "alarm_protection"
        case ticket
    }

    /// Decodes a message of any version that has the version-1 fields.
    /// - Throws: `DecodingError` for a missing key or a malformed time.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        eventID = try c.decode(Int64.self, forKey: .eventID)
        event = try c.decode(String.self, forKey: .event)
        at = try c.decode(ISOTime.self, forKey: .at).value
        actor = try c.decode(String.self, forKey: .actor)
        detail = try c.decodeIfPresent(String.self, forKey: .detail)
        alarmID = try c.decodeIfPresent(Int64.self, forKey: .alarmID)
        alarmProtection = try c.decodeIfPresent(String.self, forKey: .alarmProtection).flatMap {
            ProtectionLevel(code: $0)
        }
        ticket = try c.decode(Ticket.self, forKey: .ticket)
    }

    /// Encodes the message; absent optional fields are written as `null`, so every key is always present.
    /// - Throws: What the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(eventID, forKey: .eventID)
        try c.encode(event, forKey: .event)
        try c.encode(at.description, forKey: .at)
        try c.encode(actor, forKey: .actor)
        try c.encode(detail, forKey: .detail)
        try c.encode(alarmID, forKey: .alarmID)
        try c.encode(alarmProtection?.code, forKey: .alarmProtection)
        try c.encode(ticket, forKey: .ticket)
    }
}

/// A time as ISO 8601 UTC text (``Timestamp/init(iso:)``).
private struct ISOTime: Decodable {
    var value: Timestamp

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Timestamp(iso: text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 UTC time")
            )
        }
        self.value = value
    }
}

/// A ticket priority as its text (`P0` … `P3`).
private struct TicketPriorityText: Decodable {
    var value: TicketPriority

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = TicketPriority(rawValue: text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "not a ticket priority")
            )
        }
        self.value = value
    }
}
