import Foundation
import Testing

@testable import PostgresSink

#if os(Linux)
/// Each writer owns one event-loop thread and each listener one pool thread; both must give them back.
/// About 2.5 s alone; inside the full parallel suite on 2 cores its awaits wait behind other suites' tasks (76–84 s
/// measured in CI runs), so its limit is 2 minutes: it checks threads, not time.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(2)))
struct ResourceTests {
    static func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
    }

    static func settledThreadCount(atMost limit: Int) async -> Int {
        for _ in 0..<100 {
            let count = threadCount()
            if count <= limit { return count }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return threadCount()
    }

    @Test func releasedWritersAndListenersStopTheirThreads() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        // Warm up whatever the runtime and test harness start once.
        do {
            let writer = TelemetryStore(conninfo: database.conninfo, logger: testLogger)
            try await writer.connect()
        }
        let before = await Self.settledThreadCount(atMost: 0)
        for _ in 0..<20 {
            let writer = TelemetryStore(conninfo: database.conninfo, logger: testLogger)
            try await writer.connect()
            #expect(await writer.isConnected)
            let listener = PostgresListener(conninfo: database.conninfo, channel: "c", logger: testLogger)
            try await listener.start()
            listener.stop()
        }
        // 20 leaked writers and listeners would leave 40 extra threads.
        let after = await Self.settledThreadCount(atMost: before + 4)
        #expect(after <= before + 4, "threads before \(before), after \(after)")
        // A server process leaves pg_stat_activity a moment after its client closed; wait for that (at most 5 s).
        var sessions = -1
        for _ in 0..<100 {
            sessions = try database.count(
                "pg_stat_activity",
                where: "datname = current_database() AND pid <> pg_backend_pid()"
            )
            if sessions == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sessions == 0)
    }
}
#endif
