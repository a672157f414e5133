import GatewayDomain
import Hummingbird

/// The answer to a step or a note: the event's ``TicketEventMessage``, the same JSON (member for member) that
/// NOTIFY `ticket_events` and the MQTT dispatch topic carry for it.
struct TicketEventRecordedResponse: ResponseEncodable, Sendable {
    var message: TicketEventMessage

    init(_ message: TicketEventMessage) {
        self.message = message
    }

    func encode(to encoder: any Encoder) throws {
        try message.encode(to: encoder)
    }
}
