import GatewayCore
import Hummingbird
import PostgresSink

/// One event of a ticket as `GET /dispatch/v1/tickets/{id}` lists it:
/// `{"id","at","kind","actor","alarm_id","detail"}`, `alarm_id` and `detail` `null` when absent.
///
/// The HTTP form of a ticket event, rendered from the store's `DispatchEvent` in this one place.
struct TicketEventResponse: Encodable, Sendable {
    var id: Int64
    var at: String
    var kind: String
    var actor: String
    @ExplicitNull var alarmID: Int64?
    @ExplicitNull var detail: String?

    enum CodingKeys: String, CodingKey {
        case id, at, kind, actor, detail
        case alarmID = "alarm_id"
    }

    init(_ event: DispatchEvent) {
        self.id = event.id
        self.at = event.at.description
        self.kind = event.kind
        self.actor = event.actor
        self.alarmID = event.alarmID
        self.detail = event.detail
    }
}

/// The answer to a step or a note: `{"event_id","ticket_id","event"}`.
struct TicketEventRecordedResponse: ResponseEncodable, Sendable {
    var eventID: Int64
    var ticketID: Int64
    /// The step's name, or `note`.
    var event: String

    enum CodingKeys: String, CodingKey {
        case event
        case eventID = "event_id"
        case ticketID = "ticket_id"
    }
}
