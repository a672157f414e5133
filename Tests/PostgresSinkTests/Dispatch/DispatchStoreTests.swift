import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// The dispatch side against a real database: the lifecycle with actors, hotline tickets, escalation when a
/// deadline passes, planned-outage suppression, major incidents and the dispatch-topic outbox.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct DispatchStoreTests {
    private let now = Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000_000))

    @Test func aTicketMovesForwardOnlyAndEveryStepIsAnEventWithItsActor() async throws {
        try await withDispatch { writer, dispatch, database, ids in
            var batch = SinkBatch()
            batch.alarms = [makeAlarm(meter: ids["m1"]!, raisedAt: now.adding(seconds: -5))]
            _ = try await writer.write(batch)
            let ticket = try #require(try await dispatch.store.tickets(TicketFilter()).first)
            #expect(ticket.status == "open" && ticket.priority == .p0 && ticket.origin == "alarm")

            await #expect(throws: PostgresError.self) {
                _ = try await dispatch.store.advanceTicket(ticket.id, to: .onSite, actor: "crew-7", note: nil)
            }
            for (step, actor) in [
                (TicketStep.acknowledged, "desk-1"), (.dispatched, "desk-1"), (.onSite, "crew-7"),
                (.madeSafe, "crew-7"),
                (.resolved, "crew-7"), (.followUpDone, "desk-2"), (.closed, "desk-2"),
            ] {
                // follow_up_done is the return call's step (recordReturnCall), with what the customer said.
                let event =
                    step == .followUpDone
                    ? try await dispatch.store.recordReturnCall(
                        ticket.id,
                        try ReturnCall(outcome: .satisfied, attempts: 1, remarks: nil, isSupervisor: false),
                        actor: actor
                    )
                    : try await dispatch.store.advanceTicket(
                        ticket.id,
                        to: step,
                        actor: actor,
                        note: "step \(step.rawValue)"
                    )
                #expect(event.event == step.rawValue && event.actor == actor && event.ticket.id == ticket.id)
            }
            await #expect(throws: PostgresError.self) {
                _ = try await dispatch.store.advanceTicket(ticket.id, to: .closed, actor: "desk-2", note: nil)
            }
            let (closed, events, household) = try #require(try await dispatch.store.ticket(ticket.id))
            #expect(closed.status == "closed")
            #expect(closed.steps.count == 7)
            #expect(
                events.map { "\($0.event)/\($0.actor)" } == [
                    "opened/gateway", "acknowledged/desk-1", "dispatched/desk-1", "on_site/crew-7", "made_safe/crew-7",
                    "resolved/crew-7", "follow_up_done/desk-2", "closed/desk-2",
                ]
            )
            #expect(household.alarms.map(\.condition) == ["methane_detector"])
            #expect(household.tickets.map(\.id) == [ticket.id])
            // A closed ticket no longer blocks a new one for the same meter and condition.
            batch.alarms = [makeAlarm(meter: ids["m1"]!, raisedAt: now.adding(seconds: -1))]
            _ = try await writer.write(batch)
            #expect(try database.count("repair_tickets") == 2)
        }
    }

    @Test func aHotlineCallOpensOneP0TicketAndASecondCallJoinsIt() async throws {
        try await withDispatch(rural: ["m2"]) { writer, dispatch, database, _ in
            let first = try await dispatch.store.openManualTicket(
                meter: (.native, "m2"),
                condition: .gasSmellReported,
                reporter: "caller 138-0000",
                actor: "hotline-3",
                note: "strong smell in the kitchen"
            )
            #expect(first.opened)
            let second = try await dispatch.store.openManualTicket(
                meter: (.native, "m2"),
                condition: .gasSmellReported,
                reporter: "neighbour",
                actor: "hotline-4",
                note: nil
            )
            #expect(!second.opened && second.ticketID == first.ticketID)
            let (ticket, events, _) = try #require(try await dispatch.store.ticket(first.ticketID))
            #expect(ticket.priority == .p0 && ticket.origin == "hotline" && ticket.reporter == "caller 138-0000")
            // Rural P0: arrive within 60 minutes.
            let arrive = try #require(ticket.deadlines["arrive_by"])
            #expect(arrive.secondsSinceEpoch - ticket.openedAt.secondsSinceEpoch == 3600)
            #expect(events.map(\.event) == ["opened", "note"])
            #expect(events.map(\.actor) == ["hotline-3", "hotline-4"])
            #expect(try database.count("repair_tickets") == 1)
        }
    }

    @Test func aMissedDeadlineEscalatesOnceAndOnlyWhileItsStepIsPending() async throws {
        try await withDispatch { writer, dispatch, database, ids in
            var batch = SinkBatch()
            batch.alarms = [
                makeAlarm(meter: ids["m1"]!, raisedAt: now.adding(seconds: -5)),
                makeAlarm(meter: ids["m2"]!, raisedAt: now.adding(seconds: -5), condition: .batteryLow, priority: .p3),
            ]
            _ = try await writer.write(batch)
            #expect(try await dispatch.store.escalateOverdue(now: now).isEmpty)
            // The P0 ticket's acknowledge and arrive deadlines have passed; the P3 ticket's have not.
            let connection = try database.connect()
            try connection.execute(
                """
                UPDATE repair_tickets SET acknowledge_by = now() - interval '1 minute', arrive_by = now() - interval '1 minute'
                WHERE condition = 'methane_detector'
                """
            )
            let escalated = try await dispatch.store.escalateOverdue(now: now)
            #expect(escalated.map(\.detail) == ["acknowledge_by passed", "arrive_by passed"])
            #expect(try await dispatch.store.escalateOverdue(now: now).isEmpty)
            let ticket = try #require(
                try await dispatch.store.tickets(TicketFilter()).first { $0.condition == "methane_detector" }
            )
            #expect(ticket.escalationLevel == 2)
            // Acknowledging does not undo history; a later missed step escalates again, once.
            _ = try await dispatch.store.advanceTicket(ticket.id, to: .acknowledged, actor: "desk", note: nil)
            try connection.execute(
                "UPDATE repair_tickets SET make_safe_by = now() - interval '1 minute' WHERE id = \(ticket.id)"
            )
            #expect(try await dispatch.store.escalateOverdue(now: now).map(\.detail) == ["make_safe_by passed"])
            // Filtering: P0 only, and due before now.
            var filter = TicketFilter()
            filter.priority = .p0
            #expect(try await dispatch.store.tickets(filter).map(\.id) == [ticket.id])
            filter = TicketFilter()
            filter.dueBefore = now.adding(seconds: 60)
            #expect(try await dispatch.store.tickets(filter).map(\.id) == [ticket.id])
        }
    }

    @Test func escalationJudgesDeadlinesAtTheCallersNowNotTheDatabases() async throws {
        try await withDispatch { writer, dispatch, _, ids in
            var batch = SinkBatch()
            batch.alarms = [makeAlarm(meter: ids["m1"]!, raisedAt: now.adding(seconds: -5))]
            _ = try await writer.write(batch)
            // P0 urban: acknowledge within 5 min, arrive within 30 min. Nothing is backdated in the database.
            #expect(try await dispatch.store.escalateOverdue(now: now.adding(seconds: 60)).isEmpty)
            let late = now.adding(seconds: 600)
            #expect(try await dispatch.store.escalateOverdue(now: late).map(\.detail) == ["acknowledge_by passed"])
            #expect(try await dispatch.store.escalateOverdue(now: late).isEmpty)
            let ticket = try #require(try await dispatch.store.tickets(TicketFilter()).first)
            #expect(ticket.nextDeadline == ticket.deadlines["acknowledge_by"])
            // Once acknowledged, the next deadline is the arrival, not the passed acknowledge_by.
            _ = try await dispatch.store.advanceTicket(ticket.id, to: .acknowledged, actor: "desk", note: nil)
            let acknowledged = try #require(try await dispatch.store.tickets(TicketFilter()).first)
            #expect(acknowledged.nextDeadline == acknowledged.deadlines["arrive_by"])
            #expect(
                try await dispatch.store.escalateOverdue(now: now.adding(seconds: 3600)).map(\.detail) == [
                    "arrive_by passed"
                ]
            )
        }
    }

    @Test func aRefusedStepSaysWhyAndWritesNothing() async throws {
        try await withDispatch { writer, dispatch, database, ids in
            var batch = SinkBatch()
            batch.alarms = [makeAlarm(meter: ids["m1"]!, raisedAt: now.adding(seconds: -5))]
            _ = try await writer.write(batch)
            let ticket = try #require(try await dispatch.store.tickets(TicketFilter()).first)
            let events = try database.count("ticket_events")
            let refusal = await #expect(throws: PostgresError.self) {
                _ = try await dispatch.store.advanceTicket(ticket.id, to: .dispatched, actor: "desk", note: nil)
            }
            #expect(refusal?.message == "ticket \(ticket.id) is open; dispatched follows acknowledged")
            #expect(try database.count("ticket_events") == events)
            #expect(try await dispatch.store.tickets(TicketFilter()).first?.status == "open")
            await #expect(throws: PostgresError.self) {
                _ = try await dispatch.store.advanceTicket(999_999, to: .acknowledged, actor: "desk", note: nil)
            }
        }
    }

    @Test func notifyAndTheDispatchTopicCarryTheSameMessageAfterCommit() async throws {
        try await withDispatch { writer, dispatch, database, ids in
            let listener = PostgresListener(conninfo: database.conninfo, channel: "ticket_events", logger: testLogger)
            try await listener.start()
            defer { listener.stop() }
            let collector = NotificationCollector(listener.notifications)
            var batch = SinkBatch()
            batch.alarms = [makeAlarm(meter: ids["m1"]!, raisedAt: now.adding(seconds: -5))]
            _ = try await writer.write(batch)
            let ticket = try #require(try await dispatch.store.tickets(TicketFilter()).first)
            let acknowledged = try await dispatch.store.advanceTicket(
                ticket.id,
                to: .acknowledged,
                actor: "desk",
                note: "on it"
            )
            let noted = try await dispatch.store.noteTicket(ticket.id, actor: "desk", note: "crew 3")
            let notes = await collector.wait(forCount: 3)
            let notified = try notes.map {
                try JSONDecoder().decode(TicketEventMessage.self, from: Data($0.payload.utf8))
            }
            #expect(notified.map(\.event) == ["opened", "acknowledged", "note"])
            #expect(notified.allSatisfy { $0.version == 1 && $0.ticket.id == ticket.id })
            // The outbox reads the ticket as it stands now; event fields are the same message.
            let outbox = try await dispatch.outbox.undispatchedEvents(limit: 10)
            #expect(outbox.map(\.eventID) == notified.map(\.eventID))
            #expect(outbox.map(\.detail) == notified.map(\.detail))
            #expect(outbox.last == notified.last)
            // A step and a note answer with the very message they notified; the ticket lists the same events.
            #expect(Array(notified.dropFirst()) == [acknowledged, noted])
            let listed = try #require(try await dispatch.store.ticket(ticket.id)).events
            #expect(listed.map(\.eventID) == notified.map(\.eventID))
            #expect(listed.last == noted)
        }
    }

    @Test func alarmsAPlannedOutageExplainsAreRecordedButNotDispatched() async throws {
        try await withDispatch { writer, dispatch, database, ids in
            _ = try await dispatch.store.announceOutage(
                district: "d1",
                from: now.adding(seconds: -600),
                to: now.adding(seconds: 600),
                reason: "main replacement on Elm St",
                by: "planning"
            )
            var batch = SinkBatch()
            batch.alarms = [
                makeAlarm(meter: ids["m1"]!, raisedAt: now.adding(seconds: -5), condition: .pressureLow, priority: .p0),
                // A methane alarm is never explained by an outage.
                makeAlarm(meter: ids["m2"]!, raisedAt: now.adding(seconds: -5)),
                // Outside the window: dispatched.
                makeAlarm(
                    meter: ids["m3"]!,
                    raisedAt: now.adding(seconds: -3600),
                    receivedAt: now.adding(seconds: -3600),
                    condition: .pressureLow,
                    priority: .p0
                ),
            ]
            _ = try await writer.write(batch)
            #expect(try database.count("alarms") == 3)
            #expect(try database.count("alarms", where: "outage_id IS NOT NULL") == 1)
            let tickets = try await dispatch.store.tickets(TicketFilter()).map { "\($0.meterID)/\($0.condition)" }
                .sorted()
            #expect(tickets == ["\(ids["m2"]!)/methane_detector", "\(ids["m3"]!)/pressure_low"].sorted())
        }
    }

    @Test func anOutageIsBoundedAndACancelledOneExplainsNoFurtherAlarm() async throws {
        try await withDispatch { writer, dispatch, database, ids in
            await #expect(throws: PlannedOutagePolicy.Refusal.self) {
                _ = try await dispatch.store.announceOutage(
                    district: "d1",
                    from: now,
                    to: now.adding(seconds: 13 * 3600),
                    reason: "too long",
                    by: "planning"
                )
            }
            let id = try await dispatch.store.announceOutage(
                district: "d1",
                from: now.adding(seconds: -600),
                to: now.adding(seconds: 3600),
                reason: "main replacement",
                by: "planning"
            )
            var batch = SinkBatch()
            batch.alarms = [
                makeAlarm(meter: ids["m1"]!, raisedAt: now.adding(seconds: -5), condition: .pressureLow, priority: .p0)
            ]
            _ = try await writer.write(batch)
            #expect(try await dispatch.store.tickets(TicketFilter()).isEmpty)

            #expect(try await dispatch.store.cancelOutage(id + 1, reason: "x", by: "sup") == nil)
            let cancelled = try #require(try await dispatch.store.cancelOutage(id, reason: "called off", by: "sup"))
            #expect(cancelled.cancelledBy == "sup" && cancelled.cancelReason == "called off")
            #expect(cancelled.announcedBy == "planning" && cancelled.cancelledAt != nil)
            await #expect(throws: PlannedOutagePolicy.Refusal.self) {
                _ = try await dispatch.store.cancelOutage(id, reason: "again", by: "sup")
            }
            #expect(try await dispatch.store.currentOutages(district: "d1").map(\.id) == [id])

            // The same district, the same window: now a ticket opens.
            batch.alarms = [
                makeAlarm(meter: ids["m2"]!, raisedAt: now.adding(seconds: -4), condition: .pressureLow, priority: .p0)
            ]
            _ = try await writer.write(batch)
            #expect(try await dispatch.store.tickets(TicketFilter()).map(\.meterID) == [ids["m2"]!])
            #expect(try database.count("alarms", where: "outage_id IS NOT NULL") == 1)
        }
    }

    @Test func manyMetersOfADistrictLosingPressureMakeOneIncidentThatGroupsTheirTickets() async throws {
        let meters = (1...6).map { "p\($0)" }
        try await withDispatch(meters: meters) { writer, dispatch, database, ids in
            var batch = SinkBatch()
            batch.alarms = meters.prefix(3).map {
                makeAlarm(meter: ids[$0]!, raisedAt: now.adding(seconds: -30), condition: .pressureLow, priority: .p0)
            }
            _ = try await writer.write(batch)
            #expect(try database.count("major_incidents") == 0)  // 3 meters: below the default 5
            batch.alarms = meters.suffix(3).map {
                makeAlarm(meter: ids[$0]!, raisedAt: now.adding(seconds: -20), condition: .pressureLow, priority: .p0)
            }
            let summary = try await writer.write(batch)
            #expect(try database.count("major_incidents") == 1)
            #expect(try database.scalar("SELECT meter_count FROM major_incidents") == "6")
            #expect(try database.count("repair_tickets", where: "incident_id IS NOT NULL") == 6)
            #expect(summary.events.filter { $0.kind.rawValue == "incident_linked" }.count == 6)
            // A day later with no new alarm the incident is over: the next wave opens a new one.
            try database.connect().execute("UPDATE major_incidents SET last_alarm_at = now() - interval '2 days'")
            try database.connect().execute("UPDATE repair_tickets SET status = 'resolved'")
            batch.alarms = meters.map {
                makeAlarm(meter: ids[$0]!, raisedAt: now.adding(seconds: -5), condition: .pressureLow, priority: .p0)
            }
            _ = try await writer.write(batch)
            #expect(try database.count("major_incidents", where: "status = 'closed'") == 1)
            #expect(try database.count("major_incidents", where: "status = 'open'") == 1)
        }
    }

    @Test func everyTicketEventWaitsInTheOutboxUntilPublished() async throws {
        try await withDispatch { writer, dispatch, _, ids in
            var batch = SinkBatch()
            batch.alarms = [makeAlarm(meter: ids["m1"]!, raisedAt: now.adding(seconds: -5))]
            _ = try await writer.write(batch)
            let pending = try await dispatch.outbox.undispatchedEvents(limit: 10)
            #expect(pending.count == 1)
            #expect(pending[0].version == 1 && pending[0].event == "opened" && pending[0].ticket.priority == .p0)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(try pending[0].jsonText().utf8)) as? [String: Any]
            )
            #expect(object["event"] as? String == "opened")
            #expect((object["ticket"] as? [String: Any])?["priority"] as? String == "P0")
            try await dispatch.outbox.markDispatched(pending.map(\.eventID))
            #expect(try await dispatch.outbox.undispatchedEvents(limit: 10).isEmpty)
        }
    }

    @Test func onlyDeviceFaultTicketsAutoResolveWhenTheMeterReportsTheConditionCleared() async throws {
        try await withDispatch { writer, dispatch, _, ids in
            var batch = SinkBatch()
            batch.alarms = [
                makeAlarm(meter: ids["m1"]!, raisedAt: now.adding(seconds: -60), condition: .batteryLow, priority: .p3),
                makeAlarm(meter: ids["m2"]!, raisedAt: now.adding(seconds: -60)),
            ]
            _ = try await writer.write(batch)
            batch.alarms = [
                makeAlarm(
                    meter: ids["m1"]!,
                    raisedAt: now.adding(seconds: -10),
                    condition: .batteryLow,
                    priority: .p3,
                    isCleared: true
                ),
                makeAlarm(meter: ids["m2"]!, raisedAt: now.adding(seconds: -10), isCleared: true),
            ]
            _ = try await writer.write(batch)
            var filter = TicketFilter()
            filter.includeClosed = true
            let tickets = try await dispatch.store.tickets(filter)
            let battery = try #require(tickets.first { $0.condition == "battery_low" })
            let methane = try #require(tickets.first { $0.condition == "methane_detector" })
            #expect(battery.status == "resolved")
            #expect(methane.status == "open")  // an emergency is closed by a person, never by the meter
            let events = try #require(try await dispatch.store.ticket(battery.id)).events
            #expect(events.map(\.event) == ["opened", "alarm_cleared", "resolved"])
            #expect(events.last?.actor == "gateway")
        }
    }
}

/// The dispatch side's stores, on a session of their own beside the ingest writer.
struct DispatchFixture {
    let store: DispatchStore
    let outbox: DispatchOutbox
    let inspections: InspectionStore
}

/// ``withMigratedWriter(meters:rural:_:)`` plus the dispatch stores over a ``PostgresSession``.
func withDispatch(
    meters: [String] = ["m1", "m2", "m3"],
    rural: Set<String> = [],
    _ body: (TelemetryStore, DispatchFixture, TestDatabase, [String: Int64]) async throws -> Void
) async throws {
    try await withMigratedWriter(meters: meters, rural: rural) { writer, database, ids in
        let session = PostgresSession(conninfo: database.conninfo, logger: testLogger)
        let fixture = DispatchFixture(
            store: DispatchStore(session),
            outbox: DispatchOutbox(session),
            inspections: InspectionStore(session)
        )
        do {
            try await body(writer, fixture, database, ids)
        } catch {
            await session.close()
            throw error
        }
        await session.close()
    }
}
