import Foundation
import GatewayCore
import GatewayDomain
import Testing

/// The one ticket-event shape: every key present, versioned, and read back unchanged.
@Suite struct TicketEventMessageTests {
    static let opened = Timestamp(secondsSinceEpoch: 1_780_000_000)
    static let message = TicketEventMessage(
        eventID: 42,
        event: "escalated",
        at: opened.adding(seconds: 400),
        actor: "gateway",
        detail: "acknowledge_by passed",
        alarmID: nil,
        ticket: TicketEventMessage.Ticket(
            id: 7,
            meterID: 3,
            condition: "methane_detector",
            priority: .p0,
            status: "open",
            origin: "alarm",
            incidentID: nil,
            escalationLevel: 1,
            openedAt: opened,
            acknowledgeBy: opened.adding(seconds: 300),
            arriveBy: opened.adding(seconds: 1800),
            makeSafeBy: nil,
            repairBy: opened.adding(seconds: 86_400),
            meter: TicketEventMessage.Meter(protocol: "native", id: "1001", district: nil, rural: false)
        )
    )

    @Test func encodesVersionOneWithEveryKeyPresent() throws {
        let data = try JSONEncoder().encode(Self.message)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["version"] as? Int == 1)
        #expect(object["event_id"] as? Int == 42 && object["event"] as? String == "escalated")
        #expect(object["at"] as? String == "2026-05-28T20:33:20Z")
        #expect(object["alarm_id"] is NSNull && object["alarm_protection"] is NSNull)
        let ticket = try #require(object["ticket"] as? [String: Any])
        #expect(ticket["priority"] as? String == "P0" && ticket["meter_id"] as? Int == 3)
        #expect(ticket["make_safe_by"] is NSNull && ticket["incident_id"] is NSNull)
        #expect(ticket["acknowledge_by"] as? String == "2026-05-28T20:31:40Z")
        let meter = try #require(ticket["meter"] as? [String: Any])
        #expect(meter["id"] as? String == "1001" && meter["district"] is NSNull && meter["rural"] as? Bool == false)
    }

    @Test func decodesWhatItEncodes() throws {
        let data = try JSONEncoder().encode(Self.message)
        #expect(try JSONDecoder().decode(TicketEventMessage.self, from: data) == Self.message)
    }

    /// An alarm's event says how the alarm was protected; a message written before the key existed reads as none.
    @Test func carriesTheAlarmsProtectionAndReadsOlderMessagesWithoutIt() throws {
        var message = Self.message
        message.alarmID = 9
        message.alarmProtection = .plain
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(message), as: UTF8.self)
        #expect(text.contains(#""alarm_id":9,"alarm_protection":"plain""#))
        #expect(try JSONDecoder().decode(TicketEventMessage.self, from: Data(text.utf8)) == message)
        let older = text.replacingOccurrences(of: #""alarm_protection":"plain","#, with: "")
        let read = try JSONDecoder().decode(TicketEventMessage.self, from: Data(older.utf8))
        #expect(read.alarmID == 9 && read.alarmProtection == nil)
    }

    @Test func rejectsATimeThatIsNotISO8601UTC() throws {
        var text = String(decoding: try JSONEncoder().encode(Self.message), as: UTF8.self)
        text = text.replacingOccurrences(of: "2026-05-28T20:33:20Z", with: "yesterday")
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(TicketEventMessage.self, from: Data(text.utf8))
        }
    }
}
