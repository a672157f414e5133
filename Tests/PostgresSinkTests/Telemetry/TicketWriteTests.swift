import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct TicketWriteTests {
    @Test func twoAlarmsOfOneMeterAndConditionMakeOneTicketAndTwoEvents() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let summary = try await writer.write(
                batch(alarms: [
                    makeAlarm(meter: m1, raisedAt: at(10), rawCode: 0x21),
                    makeAlarm(meter: m1, raisedAt: at(20), rawCode: 0x21),
                ])
            )
            #expect(summary.alarmsInserted == 2)
            #expect(summary.ticketsOpened == 1)
            #expect(summary.ticketEvents == 2)
            #expect(summary.events.map(\.kind) == ["opened", "alarm"])
            let ticket = try #require(summary.openedTickets.first)
            #expect(ticket.meterID == m1 && ticket.condition == .methaneDetector && ticket.priority == .p0)
            #expect(ticket.openedAt == at(12))
            #expect(try database.count("repair_tickets") == 1)
            #expect(try database.scalar("SELECT alarm_count FROM repair_tickets") == "2")
            #expect(
                try database.scalar("SELECT first_alarm_id = (SELECT min(id) FROM alarms) FROM repair_tickets") == "t"
            )
            let events = try database.connect().query(
                "SELECT kind, actor, alarm_id IS NOT NULL FROM ticket_events ORDER BY id"
            )
            #expect(events == [["opened", "gateway", "t"], ["alarm", "gateway", "t"]])

            // A later alarm joins the open ticket.
            let later = try await writer.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(300))]))
            #expect(later.ticketsOpened == 0 && later.ticketEvents == 1)
            #expect(later.events.first?.kind == "alarm" && later.events.first?.ticketID == ticket.id)
            #expect(try database.scalar("SELECT alarm_count FROM repair_tickets") == "3")
            #expect(try database.scalar("SELECT last_alarm_at FROM repair_tickets") == "2026-03-01 00:05:02+00")

            // Another condition of the same meter opens its own ticket.
            let other = try await writer.write(
                batch(alarms: [
                    makeAlarm(meter: m1, raisedAt: at(300), condition: .tiltOrRemoval, priority: .p1, rawCode: 0x05)
                ])
            )
            #expect(other.ticketsOpened == 1)
            #expect(try database.count("repair_tickets") == 2)
        }
    }

    @Test func clearedAlarmDoesNotOpenATicketButIsRecordedOnAnActiveOne() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let cleared = try await writer.write(
                batch(alarms: [makeAlarm(meter: m1, raisedAt: at(10), isCleared: true)])
            )
            #expect(cleared.alarmsInserted == 1)
            #expect(cleared.ticketsOpened == 0 && cleared.ticketEvents == 0)
            #expect(try database.count("repair_tickets") == 0)

            _ = try await writer.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(20))]))
            let clear = try await writer.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(30), isCleared: true)]))
            #expect(clear.ticketsOpened == 0)
            #expect(clear.events.map(\.kind) == ["alarm_cleared"])
            #expect(try database.scalar("SELECT status FROM repair_tickets") == "open")
            #expect(try database.scalar("SELECT alarm_count FROM repair_tickets") == "1")

            // Raise and clear in one batch: opened, then cleared.
            let both = try await writer.write(
                batch(alarms: [
                    makeAlarm(meter: m1, raisedAt: at(40), condition: .overFlow, priority: .p1, rawCode: 0x10),
                    makeAlarm(
                        meter: m1,
                        raisedAt: at(50),
                        condition: .overFlow,
                        priority: .p1,
                        isCleared: true,
                        rawCode: 0x10
                    ),
                ])
            )
            #expect(both.events.map(\.kind) == ["opened", "alarm_cleared"])
        }
    }

    @Test func moreUrgentAlarmRaisesPriorityAndTightensDeadlines() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let opened = try await writer.write(
                batch(alarms: [
                    makeAlarm(
                        meter: m1,
                        raisedAt: at(0),
                        receivedAt: at(0),
                        condition: .overFlow,
                        priority: .p1,
                        rawCode: 0x10
                    )
                ])
            )
            let p1 = try #require(opened.openedTickets.first)
            #expect(p1.priority == .p1)
            #expect(p1.arriveBy == at(7_200))

            let raised = try await writer.write(
                batch(alarms: [
                    makeAlarm(
                        meter: m1,
                        raisedAt: at(600),
                        receivedAt: at(600),
                        condition: .overFlow,
                        priority: .p0,
                        rawCode: 0x11
                    )
                ])
            )
            #expect(raised.ticketsOpened == 0)
            #expect(raised.events.map(\.kind) == ["alarm", "priority_raised"])
            #expect(raised.events.allSatisfy { $0.priority == .p0 && $0.ticketID == p1.id })
            let row = try database.connect().query(
                "SELECT priority, arrive_by, acknowledge_by, repair_by FROM repair_tickets"
            )
            // P0 urban: arrive 30 min after 00:10 = 00:40 (earlier than P1's 02:00); acknowledge 5 min = 00:15;
            // repair stays 24 h from the first alarm (earlier than 24 h from the second).
            #expect(row == [["P0", "2026-03-01 00:40:00+00", "2026-03-01 00:15:00+00", "2026-03-02 00:00:00+00"]])
            #expect(
                try database.scalar("SELECT detail FROM ticket_events WHERE kind = 'priority_raised'") == "P1 -> P0"
            )

            // A less urgent alarm neither lowers the priority nor emits priority_raised.
            let lower = try await writer.write(
                batch(alarms: [
                    makeAlarm(meter: m1, raisedAt: at(900), condition: .overFlow, priority: .p1, rawCode: 0x10)
                ])
            )
            #expect(lower.events.map(\.kind) == ["alarm"])
            #expect(try database.scalar("SELECT priority FROM repair_tickets") == "P0")
        }
    }

    @Test func priorityRaisedInsideOneBatch() async throws {
        try await withMigratedWriter { writer, _, ids in
            let m1 = try #require(ids["m1"])
            let summary = try await writer.write(
                batch(alarms: [
                    makeAlarm(
                        meter: m1,
                        raisedAt: at(0),
                        receivedAt: at(0),
                        condition: .overFlow,
                        priority: .p1,
                        rawCode: 0x10
                    ),
                    makeAlarm(
                        meter: m1,
                        raisedAt: at(60),
                        receivedAt: at(60),
                        condition: .overFlow,
                        priority: .p0,
                        rawCode: 0x11
                    ),
                ])
            )
            #expect(summary.events.map(\.kind) == ["opened", "alarm", "priority_raised"])
            let ticket = try #require(summary.openedTickets.first)
            #expect(ticket.priority == .p0)
            #expect(ticket.openedAt == at(0))
            #expect(ticket.arriveBy == at(60 + 1_800))
        }
    }

    @Test func deadlinesComeFromSettingsForUrbanAndRuralMeters() async throws {
        try await withMigratedWriter(meters: ["city", "village"], rural: ["village"]) { writer, database, ids in
            let city = try #require(ids["city"])
            let village = try #require(ids["village"])
            let summary = try await writer.write(
                batch(alarms: [
                    makeAlarm(meter: city, raisedAt: at(0), receivedAt: at(0)),
                    makeAlarm(meter: village, raisedAt: at(0), receivedAt: at(0)),
                ])
            )
            let byMeter = Dictionary(uniqueKeysWithValues: summary.openedTickets.map { ($0.meterID, $0) })
            #expect(byMeter[city]?.arriveBy == at(1_800))
            #expect(byMeter[village]?.arriveBy == at(3_600))
            #expect(byMeter[city]?.acknowledgeBy == at(300))
            #expect(byMeter[city]?.makeSafeBy == at(21_600))
            #expect(byMeter[city]?.repairBy == at(86_400))

            // A writer with a configured policy applies its deadlines.
            var policy = TicketPolicy.serviceCommitments
            policy.p0Urban.arriveSeconds = 20 * 60
            policy.p0Rural.arriveSeconds = 40 * 60
            let configured = TelemetryStore(
                conninfo: database.conninfo,
                logger: testLogger,
                rules: TicketRules(policy: policy)
            )
            let next = try await configured.write(
                batch(alarms: [
                    makeAlarm(
                        meter: city,
                        raisedAt: at(10),
                        receivedAt: at(10),
                        condition: .flowWithValveClosed,
                        rawCode: 0x30
                    ),
                    makeAlarm(
                        meter: village,
                        raisedAt: at(10),
                        receivedAt: at(10),
                        condition: .flowWithValveClosed,
                        rawCode: 0x30
                    ),
                ])
            )
            let nextByMeter = Dictionary(uniqueKeysWithValues: next.openedTickets.map { ($0.meterID, $0) })
            #expect(nextByMeter[city]?.arriveBy == at(10 + 1_200))
            #expect(nextByMeter[village]?.arriveBy == at(10 + 2_400))
            await configured.close()
        }
    }

    @Test func concurrentWritersOpenExactlyOneActiveTicketPerMeterAndCondition() async throws {
        let meters = (0..<40).map { "c\($0)" }
        try await withMigratedWriter(meters: meters) { writer, database, ids in
            let other = TelemetryStore(conninfo: database.conninfo, logger: testLogger)
            let meterIDs = meters.compactMap { ids[$0] }
            for round in 0..<5 {
                let condition = AlarmCondition.allCases[round]
                // Each writer reports a different alarm (different raise time) for every meter, same condition.
                let first = batch(
                    alarms: meterIDs.map {
                        makeAlarm(meter: $0, raisedAt: at(Int64(round * 1_000)), condition: condition)
                    }
                )
                let second = batch(
                    alarms: meterIDs.reversed().map {
                        makeAlarm(meter: $0, raisedAt: at(Int64(round * 1_000 + 1)), condition: condition)
                    }
                )
                async let a = writer.write(first)
                async let b = other.write(second)
                let (sa, sb) = try await (a, b)
                #expect(sa.ticketsOpened + sb.ticketsOpened == meterIDs.count)
                #expect(sa.ticketEvents + sb.ticketEvents == 2 * meterIDs.count)
                let active = try database.count(
                    "repair_tickets",
                    where:
                        "condition = '\(condition.rawValue)' AND status IN ('open', 'acknowledged', 'dispatched', 'on_site', 'made_safe')"
                )
                #expect(active == meterIDs.count)
                let perTicket = try database.connect().query(
                    """
                    SELECT t.alarm_count, count(*) FILTER (WHERE e.kind = 'opened'), count(*) FILTER (WHERE e.kind = 'alarm')
                    FROM repair_tickets t JOIN ticket_events e ON e.ticket_id = t.id
                    WHERE t.condition = $1 GROUP BY t.id, t.alarm_count
                    """,
                    parameters: [condition.rawValue]
                )
                #expect(perTicket.count == meterIDs.count)
                #expect(perTicket.allSatisfy { $0 == ["2", "1", "1"] })
            }
            await other.close()
        }
    }

    @Test func databaseRejectsASecondActiveTicket() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            _ = try await writer.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(0))]))
            let connection = try database.connect()
            let insert = """
                INSERT INTO repair_tickets (meter_id, condition, priority, opened_at, last_alarm_at)
                VALUES ($1::bigint, 'methane_detector', 'P0', now(), now())
                """
            let error = #expect(throws: PostgresError.self) { try connection.execute(insert, parameters: [String(m1)]) }
            #expect(error?.sqlState == "23505")
            #expect(error?.code == .serverError)
            #expect(error?.isRetryable == false)
            // A closed ticket does not block a new active one.
            try connection.execute("UPDATE repair_tickets SET status = 'closed'")
            try connection.execute(insert, parameters: [String(m1)])
            // And the next alarm joins that new ticket rather than the closed one.
            let next = try await writer.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(60))]))
            #expect(next.ticketsOpened == 0 && next.events.map(\.kind) == ["alarm"])
        }
    }

    /// Another session (one that does not take the ticket lock) holds an uncommitted active ticket for the same
    /// meter and condition: the writer's upsert must wait for it and then join it, not open a second one.
    @Test func upsertWaitsForAConcurrentTicketAndJoinsIt() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let other = try database.connect()
            try other.execute("BEGIN")
            try other.execute(
                """
                INSERT INTO repair_tickets (meter_id, condition, priority, opened_at, last_alarm_at)
                VALUES ($1::bigint, 'methane_detector', 'P1', now(), now())
                """,
                parameters: [String(m1)]
            )
            let writerPID = try #require(await writer.backendPID)
            async let pending = writer.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(0))]))
            // Wait until the writer's backend is blocked on the other session's row.
            let observer = try database.connect()
            var waited = false
            for _ in 0..<100 {
                let state = try observer.query(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1::integer",
                    parameters: [String(writerPID)]
                )
                if state.first?.first == "Lock" {
                    waited = true
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(waited)
            try other.execute("COMMIT")
            let summary = try await pending
            #expect(summary.ticketsOpened == 0)
            // The other session's ticket was P1: the writer's P0 alarm joins it and raises it.
            #expect(summary.events.map(\.kind) == ["alarm", "priority_raised"])
            #expect(summary.events.first?.priority == .p0)
            #expect(try database.count("repair_tickets") == 1)
            #expect(try database.scalar("SELECT priority || '/' || alarm_count FROM repair_tickets") == "P0/2")
        }
    }
}
