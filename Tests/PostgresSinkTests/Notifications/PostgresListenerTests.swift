import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(3)))
struct PostgresListenerTests {
    @Test func notificationsArriveOnlyAfterCommitOnePerEvent() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let m2 = try #require(ids["m2"])
            let listener = PostgresListener(conninfo: database.conninfo, channel: "ticket_events", logger: testLogger)
            try await listener.start()
            let collector = NotificationCollector(listener.notifications)

            // A transaction that notifies but has not committed yet delivers nothing.
            let manual = try database.connect()
            try manual.execute("BEGIN")
            try manual.execute("SELECT pg_notify('ticket_events', 'manual')")
            try await Task.sleep(for: .milliseconds(300))
            #expect(collector.all.isEmpty)
            try manual.execute("COMMIT")
            #expect(await collector.wait(forCount: 1).map(\.payload) == ["manual"])

            let summary = try await writer.write(
                batch(alarms: [
                    makeAlarm(meter: m1, raisedAt: at(0)),
                    makeAlarm(meter: m1, raisedAt: at(5)),
                    makeAlarm(meter: m2, raisedAt: at(0), condition: .tiltOrRemoval, priority: .p1, rawCode: 0x05),
                ])
            )
            #expect(summary.ticketEvents == 3)
            let notes = Array(await collector.wait(forCount: 4).dropFirst())
            #expect(notes.count == 3)
            #expect(notes.allSatisfy { $0.channel == "ticket_events" && $0.backendPID != 0 && !$0.isResync })
            let objects = notes.compactMap(eventJSON)
            #expect(objects.compactMap { ($0["event_id"] as? NSNumber)?.int64Value } == summary.events.map(\.id))
            #expect(objects.compactMap { $0["event"] as? String } == summary.events.map(\.kind.rawValue))
            // The payload is the one ticket-event message (TicketEventMessage, version 1).
            let opened = try #require(objects.first)
            #expect(opened["version"] as? Int == 1)
            let ticket = try #require(opened["ticket"] as? [String: Any])
            #expect((ticket["id"] as? NSNumber)?.int64Value == summary.events.first?.ticketID)
            #expect((ticket["meter_id"] as? NSNumber)?.int64Value == m1)
            #expect(ticket["condition"] as? String == "methane_detector")
            #expect(ticket["priority"] as? String == "P0")

            // The replayed batch emits nothing.
            let replay = try await writer.write(
                batch(alarms: [makeAlarm(meter: m1, raisedAt: at(0)), makeAlarm(meter: m1, raisedAt: at(5))])
            )
            #expect(replay.ticketEvents == 0)
            try await Task.sleep(for: .milliseconds(500))
            #expect(collector.all.count == 4)

            listener.stop()
            await collector.finished()
        }
    }

    @Test func listenerReconnectsAfterItsBackendIsTerminated() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let listener = PostgresListener(conninfo: database.conninfo, channel: "Mixed Case", logger: testLogger)
        try await listener.start()
        let collector = NotificationCollector(listener.notifications)
        let admin = try database.connect()
        try admin.execute("NOTIFY \"Mixed Case\", 'one'")
        #expect(await collector.wait(forCount: 1).map(\.payload) == ["one"])

        let pids = try admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'"
        )
        #expect(pids == [["t"]])
        let afterLoss = await collector.wait(forCount: 2)
        #expect(afterLoss.last?.isResync == true)
        try admin.execute("NOTIFY \"Mixed Case\", 'two'")
        let all = await collector.wait(forCount: 3)
        #expect(all.last?.payload == "two" && all.last?.isResync == false)
        listener.stop()
        await collector.finished()
    }

    @Test func failedStartFinishesTheStream() async throws {
        let listener = PostgresListener(
            conninfo: "host=127.0.0.1 port=1 user=nobody connect_timeout=2",
            channel: "x",
            logger: testLogger
        )
        let error = await #expect(throws: PostgresError.self) { try await listener.start() }
        #expect(error?.code == .connectionFailed)
        var count = 0
        for await _ in listener.notifications { count += 1 }
        #expect(count == 0)
    }

    /// A stop racing a start (a SIGTERM while the gateway starts its dispatch listener) neither traps nor leaves a
    /// listener running: the start succeeds or throws, and the stream finishes either way.
    @Test func aStopDuringAStartNeitherTrapsNorLeavesTheListenerRunning() async throws {
        let conninfo = try #require(TestServer.conninfo)
        for round in 0..<150 {
            let listener = PostgresListener(conninfo: conninfo, channel: "race", logger: testLogger)
            async let started: Void = listener.start()
            if round % 3 != 0 { try await Task.sleep(for: .microseconds(round * 20)) }
            listener.stop()
            _ = try? await started
            var count = 0
            for await _ in listener.notifications { count += 1 }
            #expect(count == 0)
        }
    }

    @Test func stopBeforeStartFinishesTheStream() async {
        let listener = PostgresListener(conninfo: "host=127.0.0.1 port=1", channel: "x", logger: testLogger)
        listener.stop()
        var count = 0
        for await _ in listener.notifications { count += 1 }
        #expect(count == 0)
    }
}
