import Foundation
import Logging
import PostgresSink
import ServiceLifecycle
import Testing

@testable import GatewayApp

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
        try environment.runToCompletion(["simulate", "--provision-only"] + fleet, log: folder + "/provision.log")

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
            gateway.waitUntilExit()
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
        gateway.waitUntilExit()

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

/// The real servers and binary the integration tests run against.
extension GatewayRuntime {
    /// A service group running every part of the gateway, for in-process integration tests.
    func serviceGroup(logger: Logger) -> ServiceGroup {
        ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                logger: logger
            )
        )
    }
}

struct IntegrationEnvironment {
    static var isAvailable: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["GATEWAY_TEST_PG"] != nil && env["MQTT_TEST_PORT"] != nil
    }

    let baseConninfo: String
    let mqttPort: Int
    let binary: String
    let runID = String(UInt32.random(in: 0...UInt32.max), radix: 36)

    init() throws {
        let env = ProcessInfo.processInfo.environment
        baseConninfo = try #require(env["GATEWAY_TEST_PG"])
        mqttPort = try #require(Int(env["MQTT_TEST_PORT"] ?? ""))
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        binary = env["GATEWAY_TEST_BIN"] ?? packageRoot.appendingPathComponent(".build/debug/meter-gateway").path
        #expect(FileManager.default.isExecutableFile(atPath: binary), "build the meter-gateway product first")
    }

    func conninfo(_ database: String) -> String { "\(baseConninfo) dbname=\(database)" }

    func makeDatabase(prefix: String) throws -> String {
        let name = "\(prefix)_\(runID)"
        let connection = try PostgresConnection.connect(conninfo: baseConninfo)
        defer { connection.close() }
        _ = try connection.execute("CREATE DATABASE \(name)")
        return name
    }

    func dropDatabase(_ name: String) {
        guard let connection = try? PostgresConnection.connect(conninfo: baseConninfo) else { return }
        _ = try? connection.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        connection.close()
    }

    func makeFolder() throws -> String {
        let path = NSTemporaryDirectory() + "gateway-it-" + runID
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes a configuration for `database` in a fresh folder and loads it (with `environment` overrides).
    func configuration(
        database: String,
        clientID: String,
        environment: [String: String] = [:]
    ) throws
        -> GatewayConfiguration
    {
        let path = try writeConfiguration(in: try makeFolder(), database: database, clientID: clientID)
        return try GatewayConfiguration.load(
            tomlText: try String(contentsOfFile: path, encoding: .utf8),
            environment: environment
        )
    }

    /// A configuration with a private topic prefix, so tests sharing the broker never see each other's frames.
    func writeConfiguration(in folder: String, database: String, clientID: String) throws -> String {
        let text = """
            [mqtt]
            host = "127.0.0.1"
            port = \(mqttPort)
            client_id = "\(clientID)-\(runID)"
            topic_prefix = "it-\(runID)/v1"
            reconnect_min_ms = 100
            reconnect_max_ms = 1000
            [postgres]
            conninfo = "\(conninfo(database))"
            [spool]
            directory = "\(folder)/spool"
            fsync_interval_ms = 1000
            [pipeline]
            retry_min_ms = 50
            retry_max_ms = 1000
            [http]
            enabled = false
            [validation]
            delay_seconds = 0
            [signatures]
            # Ingest tests count alarms exactly; the signatures have their own tests.
            enabled = false
            [log]
            level = "warning"
            """
        let path = folder + "/gateway.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private var childEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("METER_GATEWAY_") }
    }

    /// A started `meter-gateway` process with its stderr log and (optionally) its stdout file.
    struct Child {
        let process: Process
        let log: String
        let output: String?

        var processIdentifier: Int32 { process.processIdentifier }
        var terminationStatus: Int32 { process.terminationStatus }
        func waitUntilExit() { process.waitUntilExit() }
        var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
    }

    func start(_ arguments: [String], log: String, captureOutput: Bool = false) throws -> Child {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = childEnvironment
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardError = logHandle
        var output: String?
        if captureOutput {
            let path = log + ".out"
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            output = path
        } else {
            process.standardOutput = logHandle
        }
        try process.run()
        return Child(process: process, log: log, output: output)
    }

    func runToCompletion(_ arguments: [String], log: String) throws {
        let child = try start(arguments, log: log)
        child.waitUntilExit()
        try #require(
            child.terminationStatus == 0,
            "meter-gateway \(arguments.joined(separator: " ")) failed:\n\(child.logText)"
        )
    }

    struct Report: Decodable {
        var framesGenerated: Int
        var readings: Int
        var dailyReports: Int
        var intervalPoints: Int
        var frozenTotals: Int
        var alarms: Int
        var alarmsByCondition: [String: Int]
        var acked: Int
        var unacked: Int
        var retransmissions: Int
    }

    /// Waits for a `simulate` child and decodes the JSON report it printed.
    func waitForReport(_ simulator: Child) async throws -> Report {
        while simulator.process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        let text = simulator.output.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        guard simulator.terminationStatus == 0, let line = text.split(separator: "\n").last,
            let report = try? JSONDecoder().decode(Report.self, from: Data(line.utf8))
        else { throw SimulatorFailure(output: text + simulator.logText) }
        return report
    }
}

struct SimulatorFailure: Error, CustomStringConvertible {
    var output: String
    var description: String { "simulator failed: \(output)" }
}
