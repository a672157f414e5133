import GatewayCore
import GatewayDomain
import Hummingbird
import PostgresSink

/// A ticket as the dispatch API shows it: `{"id","meter":{…},"condition","priority","status","origin",
/// "incident_id","escalation_level","alarm_count","opened_at","deadlines":{…},"steps":{…},"alarm_protection",
/// "unauthenticated_alarms"}`, plus `reporter` and `note` when the ticket has them.
///
/// `alarm_protection` is the weakest protection of the alarms that acted on the ticket (`null` without alarms);
/// `unauthenticated_alarms` is `true` when one of them was below `authenticated` (e.g. from the OMS mode-5 status
/// byte, which anyone on the radio path can set): such a ticket is dispatched all the same, and dispatch sees it.
struct TicketResponse: Encodable, Sendable {
    struct Meter: Encodable, Sendable {
        var `protocol`: String
        var id: String
        @ExplicitNull var district: String?
        var rural: Bool
    }

    /// Every deadline, `null` when the ticket has none of that kind.
    struct Deadlines: Encodable, Sendable {
        @ExplicitNull var acknowledgeBy: String?
        @ExplicitNull var arriveBy: String?
        @ExplicitNull var makeSafeBy: String?
        @ExplicitNull var repairBy: String?

        enum CodingKeys: String, CodingKey {
            case acknowledgeBy = "acknowledge_by"
            case arriveBy = "arrive_by"
            case makeSafeBy = "make_safe_by"
            case repairBy = "repair_by"
        }
    }

    /// The steps taken so far, each at its time, in lifecycle order; steps not taken are left out.
    struct Steps: Encodable, Sendable {
        var taken: [(step: String, at: String)]

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for (step, at) in taken { try container.encode(at, forKey: Key(stringValue: step)) }
        }
    }

    var id: Int64
    var meter: Meter
    var condition: String
    var priority: String
    var status: String
    var origin: String
    @ExplicitNull var incidentID: Int64?
    var escalationLevel: Int
    var alarmCount: Int
    var openedAt: String
    var deadlines: Deadlines
    var steps: Steps
    var reporter: String?
    var note: String?
    @ExplicitNull var alarmProtection: String?
    var unauthenticatedAlarms: Bool

    enum CodingKeys: String, CodingKey {
        case id, meter, condition, priority, status, origin, deadlines, steps, reporter, note
        case alarmProtection = "alarm_protection"
        case unauthenticatedAlarms = "unauthenticated_alarms"
        case incidentID = "incident_id"
        case escalationLevel = "escalation_level"
        case alarmCount = "alarm_count"
        case openedAt = "opened_at"
    }

    init(_ ticket: DispatchTicket) {
        self.id = ticket.id
        self.meter = Meter(
            protocol: ticket.protocol.rawValue,
            id: ticket.meter,
            district: ticket.district,
            rural: ticket.isRural
        )
        self.condition = ticket.condition
        self.priority = ticket.priority.rawValue
        self.status = ticket.status
        self.origin = ticket.origin
        self.incidentID = ticket.incidentID
        self.escalationLevel = ticket.escalationLevel
        self.alarmCount = ticket.alarmCount
        self.openedAt = ticket.openedAt.description
        self.deadlines = Deadlines(
            acknowledgeBy: ticket.deadlines["acknowledge_by"]?.description,
            arriveBy: ticket.deadlines["arrive_by"]?.description,
            makeSafeBy: ticket.deadlines["make_safe_by"]?.description,
            repairBy: ticket.deadlines["repair_by"]?.description
        )
        self.steps = Steps(
            taken: TicketStep.allCases.compactMap { step in
                ticket.steps[step.rawValue].map { (step.rawValue, $0.description) }
            }
        )
        self.reporter = ticket.reporter
        self.note = ticket.note
        self.alarmProtection = ticket.alarmProtection?.code
        self.unauthenticatedAlarms = ticket.hasUnauthenticatedAlarms
    }
}

/// `GET /dispatch/v1/tickets`: `{"tickets":[…],"next_cursor":…}`, most urgent first (see ``Page``).
struct TicketListResponse: Encodable, Sendable {
    var tickets: [TicketResponse]
    @ExplicitNull var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case tickets
        case nextCursor = "next_cursor"
    }
}

/// `GET /dispatch/v1/tickets/{id}`: `{"ticket":{…},"events":[…],"household":{…}}`, each event the
/// ``TicketEventMessage`` NOTIFY and MQTT carry for it.
struct TicketDetailResponse: ResponseEncodable, Sendable {
    var ticket: TicketResponse
    var events: [TicketEventMessage]
    var household: HouseholdResponse
}

/// The household file of a ticket's meter: appliances, recent readings, alarms, tickets and inspections.
struct HouseholdResponse: Encodable, Sendable {
    struct Reading: Encodable, Sendable {
        var readAt: String
        var volumeMillilitres: Int64
        var valve: String
        @ExplicitNull var quality: String?

        enum CodingKeys: String, CodingKey {
            case valve, quality
            case readAt = "read_at"
            case volumeMillilitres = "volume_ml"
        }
    }

    struct Alarm: Encodable, Sendable {
        var raisedAt: String
        var condition: String
        var priority: String
        var cleared: Bool
        var protection: String

        enum CodingKeys: String, CodingKey {
            case condition, priority, cleared, protection
            case raisedAt = "raised_at"
        }
    }

    struct PastTicket: Encodable, Sendable {
        var id: Int64
        var condition: String
        var priority: String
        var status: String
        var openedAt: String

        enum CodingKeys: String, CodingKey {
            case id, condition, priority, status
            case openedAt = "opened_at"
        }
    }

    struct Inspection: Encodable, Sendable {
        var date: String
        var inspector: String
        var result: String
    }

    var continuousAppliance: Bool
    var methaneDetectorLinked: Bool
    @ExplicitNull var customerClass: String?
    var readings: [Reading]
    var alarms: [Alarm]
    var tickets: [PastTicket]
    var inspections: [Inspection]

    enum CodingKeys: String, CodingKey {
        case readings, alarms, tickets, inspections
        case continuousAppliance = "continuous_appliance"
        case methaneDetectorLinked = "methane_detector_linked"
        case customerClass = "customer_class"
    }

    init(_ household: HouseholdFile) {
        self.continuousAppliance = household.hasContinuousAppliance
        self.methaneDetectorLinked = household.isMethaneDetectorLinked
        self.customerClass = household.customerClass
        self.readings = household.readings.map {
            Reading(
                readAt: $0.readAt.description,
                volumeMillilitres: $0.volumeMillilitres,
                valve: $0.valve.name,
                quality: $0.quality?.name
            )
        }
        self.alarms = household.alarms.map {
            Alarm(
                raisedAt: $0.raisedAt.description,
                condition: $0.condition,
                priority: $0.priority,
                cleared: $0.isCleared,
                protection: $0.protection.code
            )
        }
        self.tickets = household.tickets.map {
            PastTicket(
                id: $0.id,
                condition: $0.condition,
                priority: $0.priority,
                status: $0.status,
                openedAt: $0.openedAt.description
            )
        }
        self.inspections = household.inspections.map {
            Inspection(date: $0.date, inspector: $0.inspector, result: $0.result)
        }
    }
}
