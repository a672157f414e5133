public import Foundation
import PostgresSink
import Testing

/// What the end-to-end suites run against: the real broker (`MQTT_TEST_PORT`), the real database server
/// (`GATEWAY_TEST_PG`) and the built `meter-gateway` binary (`GATEWAY_TEST_BIN`, default `.build/debug/`).
///
/// Each environment has its own run id, which names its databases, folders, client ids and topic prefix, so suites
/// sharing the servers never see each other's rows or frames.
public struct IntegrationEnvironment: Sendable {
    /// Whether both `GATEWAY_TEST_PG` and `MQTT_TEST_PORT` are set.
    public static var isAvailable: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["GATEWAY_TEST_PG"] != nil && env["MQTT_TEST_PORT"] != nil
    }

    /// The server's conninfo without a database.
    public let baseConninfo: String
    /// The broker's port on 127.0.0.1.
    public let mqttPort: Int
    /// The `meter-gateway` binary under test.
    public let binary: String
    /// This environment's id.
    public let runID = String(UInt32.random(in: 0...UInt32.max), radix: 36)

    /// Reads the environment; records an issue when the binary has not been built.
    /// - Throws: When `GATEWAY_TEST_PG` or `MQTT_TEST_PORT` is missing.
    public init() throws {
        let env = ProcessInfo.processInfo.environment
        baseConninfo = try #require(env["GATEWAY_TEST_PG"])
        mqttPort = try #require(Int(env["MQTT_TEST_PORT"] ?? ""))
        binary = Repository.gatewayBinary
        #expect(FileManager.default.isExecutableFile(atPath: binary), "build the meter-gateway product first")
    }

    /// A conninfo for `database` on the test server.
    /// - Parameter database: The database's name.
    /// - Returns: The conninfo.
    public func conninfo(_ database: String) -> String { "\(baseConninfo) dbname=\(database)" }

    /// Creates an empty database named `<prefix>_<run id>`.
    /// - Parameter prefix: The name's prefix.
    /// - Returns: The database's name.
    /// - Throws: ``PostgresError`` when the server refuses.
    public func makeDatabase(prefix: String) throws -> String {
        let name = "\(prefix)_\(runID)"
        let connection = try PostgresConnection.connect(conninfo: baseConninfo)
        defer { connection.close() }
        _ = try connection.execute("CREATE DATABASE \(name)")
        return name
    }

    /// Drops a database made by ``makeDatabase(prefix:)``, closing its connections; errors are ignored.
    /// - Parameter name: The database's name.
    public func dropDatabase(_ name: String) {
        guard let connection = try? PostgresConnection.connect(conninfo: baseConninfo) else { return }
        _ = try? connection.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        connection.close()
    }

    /// The environment's temporary folder (created if needed).
    /// - Returns: Its path.
    /// - Throws: When it cannot be created.
    public func makeFolder() throws -> String {
        let path = NSTemporaryDirectory() + "gateway-it-" + runID
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes a configuration with a private topic prefix, so tests sharing the broker never see each other's
    /// frames.
    /// - Parameters:
    ///   - folder: Where the file and the spool go.
    ///   - database: The database the gateway writes to.
    ///   - clientID: The MQTT client id's prefix (the run id is appended).
    /// - Returns: The file's path.
    /// - Throws: When the file cannot be written.
    public func writeConfiguration(in folder: String, database: String, clientID: String) throws -> String {
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
    public struct Child {
        /// The process.
        public let process: Process
        /// The path of its log.
        public let log: String
        /// The path of its standard output, when captured apart from the log.
        public let output: String?

        /// The child's process id.
        public var processIdentifier: Int32 { process.processIdentifier }
        /// The child's exit status (after it exited).
        public var terminationStatus: Int32 { process.terminationStatus }
        /// Waits until the child has exited, without holding a thread of the cooperative pool
        /// (``Foundation/Process/exited()``).
        public func exited() async { await process.exited() }
        /// The log so far.
        public var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
    }

    /// Starts `meter-gateway` with `arguments`, without the test's own `METER_GATEWAY_*` variables.
    /// - Parameters:
    ///   - arguments: The command line.
    ///   - log: Where its standard error (and output, unless captured) goes.
    ///   - captureOutput: Write standard output to `<log>.out` instead.
    ///   - environment: Variables to add to its environment (such as `METER_GATEWAY_*` settings).
    /// - Returns: The running child.
    /// - Throws: When it cannot be started.
    public func start(
        _ arguments: [String],
        log: String,
        captureOutput: Bool = false,
        environment: [String: String] = [:]
    ) throws -> Child {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = childEnvironment.merging(environment) { $1 }
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
        ChildReaper.shared.track(process)
        return Child(process: process, log: log, output: output)
    }

    /// Runs `meter-gateway` with `arguments` to the end.
    /// - Parameters:
    ///   - arguments: The command line.
    ///   - log: Where its output goes.
    ///   - environment: Variables to add to its environment.
    /// - Throws: When it cannot be started or exits with a failure (the log is in the message).
    public func runToCompletion(
        _ arguments: [String],
        log: String,
        environment: [String: String] = [:]
    ) async throws {
        let child = try start(arguments, log: log, environment: environment)
        await child.exited()
        try #require(
            child.terminationStatus == 0,
            "meter-gateway \(arguments.joined(separator: " ")) failed:\n\(child.logText)"
        )
    }

    /// The part of a `simulate` report the suites check.
    public struct Report: Decodable, Sendable {
        /// Frames the fleet built.
        public var framesGenerated: Int
        /// Periodic reading frames.
        public var readings: Int
        /// Daily report frames.
        public var dailyReports: Int
        /// Half-hour points in the daily reports.
        public var intervalPoints: Int
        /// Frozen totals in the daily reports.
        public var frozenTotals: Int
        /// Alarm frames.
        public var alarms: Int
        /// Alarm frames per condition name.
        public var alarmsByCondition: [String: Int]
        /// Frames the gateway acknowledged.
        public var acked: Int
        /// Frames never acknowledged.
        public var unacked: Int
        /// Frames resent for want of an ack.
        public var retransmissions: Int
    }

    /// Waits for a `simulate` child and decodes the JSON report it printed.
    /// - Parameter simulator: A child started with `captureOutput`.
    /// - Returns: The report.
    /// - Throws: ``SimulatorFailure`` with its output when it failed or printed no report.
    public func waitForReport(_ simulator: Child) async throws -> Report {
        while simulator.process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        let text = simulator.output.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        guard simulator.terminationStatus == 0, let line = text.split(separator: "\n").last,
            let report = try? JSONDecoder().decode(Report.self, from: Data(line.utf8))
        else { throw SimulatorFailure(output: text + simulator.logText) }
        return report
    }
}

/// A `simulate` child that failed, with everything it printed.
public struct SimulatorFailure: Error, CustomStringConvertible {
    /// Its output and log.
    public var output: String
    /// The failure and the output.
    public var description: String { "simulator failed: \(output)" }
}
