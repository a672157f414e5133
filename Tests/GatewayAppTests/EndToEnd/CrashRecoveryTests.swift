import Foundation
import GatewayTestSupport
import PostgresSink
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs the real `meter-gateway` binary against the real broker and database, kills it with SIGKILL at random
/// moments while a simulated fleet publishes, restarts it, and proves every frame is stored exactly once.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .serialized,
    .timeLimit(.minutes(3))
)
struct CrashRecoveryTests {
    @Test func killNineAtAnyMomentLosesNoFrameAndDuplicatesNoRow() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "crash")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        let config = try environment.writeConfiguration(in: folder, database: database, clientID: "gw-crash")

        // 500 meters at 250 frames/s: each meter reports every 2 s, so no two readings share a meter-clock second.
        // Migrate and register the fleet before the gateway starts, so no frame can race its meter's registration.
        let fleet = ["--meters", "500", "--first-meter-id", "500000001", "--config", config]
        try await environment.runToCompletion(["simulate", "--provision-only"] + fleet, log: folder + "/provision.log")

        var gateway = try environment.start(["run", "--config", config], log: folder + "/gateway-0.log")
        // No retransmission: every frame must reach the database through the broker session and the spool alone.
        let simulator = try environment.start(
            [
                "simulate", "--rate", "250", "--duration", "10", "--retransmit-after", "0", "--drain", "6",
                "--alarm-probability", "0", "--client-id", "fleet-crash-\(environment.runID)",
            ] + fleet,
            log: folder + "/simulator.log",
            captureOutput: true
        )
        var kills = 0
        var lastStart = Date()
        var random = SystemRandomNumberGenerator()
        let startedAt = ContinuousClock.now
        for moment in [1.0, 3.0, 5.0, 7.5] {
            // Kill at a random moment inside each second-long window, never twice in the same window.
            let target = startedAt + .milliseconds(Int((moment + Double.random(in: 0...1.0, using: &random)) * 1000))
            try await Task.sleep(until: max(target, ContinuousClock.now), clock: .continuous)
            kill(gateway.processIdentifier, SIGKILL)
            await gateway.exited()
            kills += 1
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...400, using: &random)))
            lastStart = Date()
            gateway = try environment.start(["run", "--config", config], log: folder + "/gateway-\(kills).log")
        }
        let report = try await environment.waitForReport(simulator)
        #expect(report.framesGenerated > 1000)

        let connection = try PostgresConnection.connect(conninfo: environment.conninfo(database))
        defer { connection.close() }
        func count(_ sql: String) throws -> Int {
            Int(try connection.query(sql).first?.first.flatMap { $0 } ?? "-1") ?? -1
        }
        // The restarted gateway replays its spool and receives what the broker kept for its session.
        let deadline = ContinuousClock.now + .seconds(60)
        while try count("SELECT count(*) FROM uplink_frames") < report.framesGenerated && ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(250))
        }
        // SIGTERM is handled once the service group runs; the last restart may still be starting when the fleet's
        // frames are all stored, so wait until its services have connected to the database.
        while try count(
            """
            SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
            AND application_name = 'meter-gateway' AND pid <> pg_backend_pid()
            AND backend_start >= to_timestamp(\(lastStart.timeIntervalSince1970))
            """
        ) == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        kill(gateway.processIdentifier, SIGTERM)
        await gateway.exited()

        let stored = try count("SELECT count(*) FROM uplink_frames")
        print(
            "kill -9 test: \(kills) kills; fleet generated \(report.framesGenerated) frames "
                + "(\(report.readings) readings, \(report.dailyReports) daily reports, \(report.alarms) alarms); "
                + "stored \(stored) frames; acked \(report.acked), unacked \(report.unacked)"
        )
        #expect(gateway.terminationStatus == 0, "the gateway exits cleanly on SIGTERM")
        #expect(stored == report.framesGenerated, "every generated frame is stored exactly once")
        #expect(try count("SELECT count(*) FROM readings WHERE kind = 0") == report.readings)
        #expect(try count("SELECT count(*) FROM readings WHERE kind = 1") == report.frozenTotals)
        #expect(try count("SELECT count(*) FROM readings WHERE kind = 2") == report.alarms)
        #expect(try count("SELECT count(*) FROM interval_readings") == report.intervalPoints)
        #expect(try count("SELECT count(*) FROM alarms") == report.alarms)
        #expect(try count("SELECT count(*) FROM quarantine") == 0)
        #expect(try count("SELECT count(*) FROM value_conflicts") == 0)
        // One ticket per meter and condition, however often the gateway restarted mid-alarm.
        // The scripted alarms put each condition on one meter (methane twice on the same meter).
        #expect(try count("SELECT count(*) FROM repair_tickets") == report.alarmsByCondition.count)
        #expect(try count("SELECT count(*) FROM ticket_events") == report.alarms)
    }
}
