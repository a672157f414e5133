import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import GatewayHTTP
@testable import PostgresSink

/// The dispatch JSON, member for member, and the request bodies as the dispatch desk sends them.
@Suite struct DispatchResponsesTests {
    /// 2026-01-01 00:00 UTC.
    private let t0 = Timestamp(secondsSinceEpoch: 1_767_225_600)

    private var ticket: DispatchTicket {
        DispatchTicket(
            id: 5,
            meterID: 9,
            protocol: .native,
            meter: "777",
            district: nil,
            isRural: true,
            condition: "methane_detector",
            priority: .p0,
            status: "acknowledged",
            origin: "alarm",
            incidentID: nil,
            escalationLevel: 1,
            alarmCount: 2,
            openedAt: t0,
            deadlines: ["acknowledge_by": t0.adding(seconds: 300), "arrive_by": t0.adding(seconds: 3600)],
            steps: ["acknowledged": t0.adding(seconds: 120)],
            reporter: nil,
            note: "gas smell",
            alarmProtection: .authenticated
        )
    }

    private let ticketJSON =
        #"{"alarm_count":2,"alarm_protection":"authenticated","condition":"methane_detector","deadlines":{"acknowledge_by":"2026-01-01T00:05:00Z","#
        + #""arrive_by":"2026-01-01T01:00:00Z","make_safe_by":null,"repair_by":null},"escalation_level":1,"id":5,"#
        + #""incident_id":null,"meter":{"district":null,"id":"777","protocol":"native","rural":true},"#
        + #""note":"gas smell","opened_at":"2026-01-01T00:00:00Z","origin":"alarm","priority":"P0","#
        + #""status":"acknowledged","steps":{"acknowledged":"2026-01-01T00:02:00Z"},"unauthenticated_alarms":false}"#

    @Test func ticketShowsEveryDeadlineAndOnlyTheStepsTaken() throws {
        #expect(
            try GatewayJSONEncoder().text(TicketListResponse(tickets: [TicketResponse(ticket)], nextCursor: "Yw"))
                == #"{"next_cursor":"Yw","tickets":["# + ticketJSON + "]}"
        )
        var reported = ticket
        reported.reporter = "hotline 4711"
        reported.note = nil
        reported.incidentID = 3
        let text = try GatewayJSONEncoder().text(TicketResponse(reported))
        #expect(text.contains(#""incident_id":3,"#))
        #expect(text.contains(#""reporter":"hotline 4711""#))
        #expect(!text.contains(#""note""#))
        #expect(
            text.contains(#""alarm_protection":"authenticated""#) && text.contains(#""unauthenticated_alarms":false"#)
        )
    }

    @Test func aTicketAnUnauthenticatedAlarmActedOnIsMarked() throws {
        var forged = ticket
        forged.alarmProtection = .plain
        let text = try GatewayJSONEncoder().text(TicketResponse(forged))
        #expect(text.contains(#""alarm_protection":"plain""#) && text.contains(#""unauthenticated_alarms":true"#))
        forged.alarmProtection = .encrypted
        #expect(try GatewayJSONEncoder().text(TicketResponse(forged)).contains(#""unauthenticated_alarms":true"#))
        var hotline = ticket
        hotline.alarmProtection = nil
        let hotlineText = try GatewayJSONEncoder().text(TicketResponse(hotline))
        #expect(
            hotlineText.contains(#""alarm_protection":null"#)
                && hotlineText.contains(#""unauthenticated_alarms":false"#)
        )
    }

    /// The ticket part of ``message(id:event:actor:detail:alarmID:)``.
    private var messageTicket: TicketEventMessage.Ticket {
        TicketEventMessage.Ticket(
            id: 5,
            meterID: 9,
            condition: "methane_detector",
            priority: .p0,
            status: "acknowledged",
            origin: "alarm",
            incidentID: nil,
            escalationLevel: 1,
            openedAt: t0,
            acknowledgeBy: t0.adding(seconds: 300),
            arriveBy: t0.adding(seconds: 3600),
            makeSafeBy: nil,
            repairBy: nil,
            meter: TicketEventMessage.Meter(protocol: "native", id: "777", district: nil, rural: true)
        )
    }

    private let messageTicketJSON =
        #"{"acknowledge_by":"2026-01-01T00:05:00Z","arrive_by":"2026-01-01T01:00:00Z","#
        + #""condition":"methane_detector","escalation_level":1,"id":5,"incident_id":null,"make_safe_by":null,"#
        + #""meter":{"district":null,"id":"777","protocol":"native","rural":true},"meter_id":9,"#
        + #""opened_at":"2026-01-01T00:00:00Z","origin":"alarm","priority":"P0","repair_by":null,"#
        + #""status":"acknowledged"}"#

    @Test func detailShowsEventsAndTheHouseholdFile() throws {
        let event = TicketEventMessage(
            eventID: 11,
            event: "opened",
            at: t0,
            actor: "gateway",
            detail: nil,
            alarmID: 3,
            ticket: messageTicket
        )
        let household = HouseholdFile(
            readings: [HouseholdFile.Reading(readAt: t0, volumeMillilitres: 100, valve: .open, quality: nil)],
            alarms: [
                HouseholdFile.Alarm(
                    raisedAt: t0,
                    condition: "methane_detector",
                    priority: "P0",
                    isCleared: false,
                    protection: .plain
                )
            ],
            tickets: [HouseholdFile.Ticket(id: 4, condition: "leak", priority: "P1", status: "closed", openedAt: t0)],
            inspections: [HouseholdFile.Inspection(date: "2025-06-01", inspector: "i.k", result: "pass")],
            hasContinuousAppliance: false,
            isMethaneDetectorLinked: true,
            customerClass: nil
        )
        let detail = TicketDetailResponse(
            ticket: TicketResponse(ticket),
            events: [event],
            household: HouseholdResponse(household)
        )
        #expect(
            try GatewayJSONEncoder().text(detail)
                == #"{"events":[{"actor":"gateway","alarm_id":3,"alarm_protection":null,"at":"2026-01-01T00:00:00Z","detail":null,"#
                + #""event":"opened","event_id":11,"ticket":"# + messageTicketJSON + #","version":1}],"#
                + #""household":{"alarms":[{"cleared":false,"condition":"methane_detector","#
                + #""priority":"P0","protection":"plain","raised_at":"2026-01-01T00:00:00Z"}],"#
                + #""continuous_appliance":false,"#
                + #""customer_class":null,"inspections":[{"date":"2025-06-01","inspector":"i.k","result":"pass"}],"#
                + #""methane_detector_linked":true,"readings":[{"quality":null,"read_at":"2026-01-01T00:00:00Z","#
                + #""valve":"open","volume_ml":100}],"tickets":[{"condition":"leak","id":4,"#
                + #""opened_at":"2026-01-01T00:00:00Z","priority":"P1","status":"closed"}]},"ticket":"#
                + ticketJSON + "}"
        )
    }

    @Test func slaReportRoundsSharesToFourDecimalsAndShowsMissingValuesAsNull() throws {
        let rows = [
            SLARow(
                priority: "P0",
                district: "north",
                tickets: 3,
                deadlines: [
                    "acknowledge": SLARow.Compliance(met: 2, decided: 3),
                    "arrive": SLARow.Compliance(met: 3, decided: 3),
                ],
                arrivalMinutes: SLARow.ArrivalMinutes(p50: 12, p90: 30.5, max: 41)
            ),
            SLARow(priority: "P2", district: "south", tickets: 0, deadlines: [:], arrivalMinutes: nil),
        ]
        #expect(
            try GatewayJSONEncoder().text(SLAReportResponse(rows))
                == #"{"rows":[{"acknowledge":{"decided":3,"met":2,"share":0.6667},"#
                + #""arrival_minutes":{"max":41,"p50":12,"p90":30.5},"arrive":{"decided":3,"met":3,"share":1},"#
                + #""district":"north","make_safe":{"decided":0,"met":0,"share":null},"priority":"P0","#
                + #""repair":{"decided":0,"met":0,"share":null},"tickets":3},"#
                + #"{"acknowledge":{"decided":0,"met":0,"share":null},"arrival_minutes":null,"#
                + #""arrive":{"decided":0,"met":0,"share":null},"district":"south","#
                + #""make_safe":{"decided":0,"met":0,"share":null},"priority":"P2","#
                + #""repair":{"decided":0,"met":0,"share":null},"tickets":0}]}"#
        )
    }

    @Test func inspectionsDueShowMissingValuesAsNull() throws {
        let due = [
            InspectionDue(
                protocol: .native,
                meter: "1",
                district: nil,
                customerClass: "residential",
                lastInspection: nil,
                dueOn: "2026-01-01"
            )
        ]
        let date = try #require(CivilDate(iso: "2026-03-01"))
        #expect(
            try GatewayJSONEncoder().text(InspectionsDueResponse(asOf: date, due: due))
                == #"{"as_of":"2026-03-01","due":[{"customer_class":"residential","district":null,"#
                + #""due_on":"2026-01-01","last_inspection":null,"meter":"1","protocol":"native"}],"next_cursor":null}"#
        )
    }

    @Test func writesAnswerWithTheirIdentifiers() throws {
        let encoder = GatewayJSONEncoder()
        // A step or a note answers with the event's message: the same text NOTIFY and MQTT carry.
        let step = TicketEventMessage(
            eventID: 12,
            event: "acknowledged",
            at: t0.adding(seconds: 120),
            actor: "desk-9",
            detail: "on it",
            alarmID: nil,
            ticket: messageTicket
        )
        let stepJSON =
            #"{"actor":"desk-9","alarm_id":null,"alarm_protection":null,"at":"2026-01-01T00:02:00Z","detail":"on it","#
            + #""event":"acknowledged","event_id":12,"ticket":"# + messageTicketJSON + #","version":1}"#
        #expect(try encoder.text(TicketEventRecordedResponse(step)) == stepJSON)
        #expect(try step.jsonText() == stepJSON)
        #expect(
            try encoder.text(ManualTicketResponse(ticketID: 5, opened: false)) == #"{"opened":false,"ticket_id":5}"#
        )
        #expect(try encoder.text(OutageResponse(outageID: 3)) == #"{"outage_id":3}"#)
    }

    @Test func requestBodiesDecodeAsDocumented() throws {
        let decoder = JSONDecoder()
        // Bodies carry no actor; one a client still sends is ignored (the credential's name is recorded).
        let step = try decoder.decode(
            StepRequest.self,
            from: Data(#"{"step":"acknowledged","actor":"desk-9","note":null}"#.utf8)
        )
        #expect(step.step == "acknowledged" && step.note == nil)
        let outage = try decoder.decode(
            OutageRequest.self,
            from: Data(
                (#"{"district":"north","starts_at":"2026-01-01T00:00:00Z","ends_at":"2026-01-01T04:00:00Z","#
                    + #""reason":"works","announced_by":"ops"}"#).utf8
            )
        )
        #expect(outage.startsAt == "2026-01-01T00:00:00Z" && outage.reason == "works")
        let cancel = try decoder.decode(OutageCancelRequest.self, from: Data(#"{"reason":"postponed"}"#.utf8))
        #expect(cancel.reason == "postponed")
        let ticket = try decoder.decode(
            ManualTicketRequest.self,
            from: Data(#"{"protocol":"native","meter":"777","reporter":"caller","actor":"desk-1"}"#.utf8)
        )
        #expect(ticket.condition == nil && ticket.note == nil)
        #expect(throws: DecodingError.self) {
            try decoder.decode(NoteRequest.self, from: Data(#"{"actor":"desk-1"}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try decoder.decode(OutageCancelRequest.self, from: Data("{}".utf8))
        }
    }
}
