import Foundation
import GatewayCore
import GatewayTestSupport
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import Synchronization
import Testing

@testable import GatewayApp

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The live `/metrics` of a running gateway: `promtool check metrics` (Debian's `prometheus` package, installed by
/// `scripts/services.sh install`) accepts it, and the key families have their type and labels and move when a frame
/// is ingested and a ticket opened.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct PrometheusMetricsEndToEndTests {
    private let meter: UInt64 = 730_000_001
    private let keyBytes: [UInt8] = Array(0x40...0x4F)

    /// promtool's path: found on PATH, else nil.
    static var promtool: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/promtool" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    @Test func theLiveMetricsPassPromtoolAndMoveWhenFramesAreIngested() async throws {
        // Required, not optional: a missing promtool fails here (CI installs it through scripts/services.sh).
        let promtool = try #require(
            Self.promtool,
            "promtool not found on PATH: run scripts/services.sh install (Debian package prometheus)"
        )
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "metrics_e2e")
        defer { environment.dropDatabase(database) }
        let port = try LoopbackPort.free()
        let configuration = try environment.configuration(
            database: database,
            clientID: "gw-metrics",
            environment: ["METER_GATEWAY_HTTP_ENABLED": "true", "METER_GATEWAY_HTTP_PORT": String(port)]
        )
        let logger = Logger(label: "metrics-e2e")
        let key = try #require(AES128Key(bytes: keyBytes))
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        var profile = MeterProfile(protocol: .native, address: String(meter))
        profile.aesKey = keyBytes
        profile.district = "harbour"
        profile.isMethaneDetectorLinked = true
        _ = try await MeterStore(writer.database).importMeters(
            [profile],
            columns: [.aesKey, .district, .methaneDetectorLinked]
        )
        await writer.close()

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let fleet = try MosquittoClient(
            options: configuration.fleetMQTTOptions(clientID: "fleet-metrics-\(environment.runID)"),
            subscriptions: [],
            logger: logger,
            onMessage: { _ in }
        )
        fleet.start()

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            #expect(await fleet.waitUntilConnected(timeout: .seconds(20)))
            let deadline = ContinuousClock.now + .seconds(30)
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try #require(ContinuousClock.now < deadline, "the database was not migrated")
                try await Task.sleep(for: .milliseconds(50))
            }
            var before: MetricsText?
            while before == nil {
                before = try? await Self.scrape(port)
                if before == nil {
                    try #require(ContinuousClock.now < deadline, "the HTTP server did not answer")
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let initial = try #require(before)
            #expect(initial.value("meter_gateway_frames_stored_total") == 0)
            #expect(initial.value("meter_gateway_mqtt_connected") == 1)

            // A methane alarm (P0) and a periodic reading from the same meter.
            let now = UInt32(Date().timeIntervalSince1970)
            let alarm = NativeFrame(
                meterID: meter,
                frameCounter: 7,
                meterTime: now - 2,
                body: .alarm(
                    NativeFrame.Alarm(
                        code: 0x0001,
                        isRaised: true,
                        valve: .closed,
                        register: NativeFrame.Register(raw: 5_000, exponent: -3, digits: 5),
                        flowMillilitresPerHour: 0,
                        detail: 1500
                    )
                )
            )
            let topic = TopicScheme(prefix: configuration.mqtt.topicPrefix).uplinkTopic(.native, address: String(meter))
            try await fleet.publishAndWait(topic: topic, payload: try NativeEncoder.encode(alarm, key: key))

            // The dispatch service counts the active tickets every 5 s.
            var after = initial
            while after.value("meter_gateway_tickets_active", ["priority": "P0"]) != 1 {
                try #require(ContinuousClock.now < deadline + .seconds(15), "no P0 ticket on /metrics:\n\(after.text)")
                try await Task.sleep(for: .milliseconds(250))
                after = try await Self.scrape(port)
            }

            // Types, as Prometheus reads them.
            for (family, type) in [
                ("meter_gateway_frames_processed_total", "counter"), ("meter_gateway_frames_stored_total", "counter"),
                ("meter_gateway_frames_duplicate_total", "counter"), ("meter_gateway_tickets_opened_total", "counter"),
                ("meter_gateway_mqtt_messages_received_total", "counter"),
                ("meter_gateway_spool_backlog_bytes", "gauge"), ("meter_gateway_mqtt_connected", "gauge"),
                ("meter_gateway_last_commit_age_seconds", "gauge"), ("meter_gateway_tickets_active", "gauge"),
                ("meter_gateway_tickets_overdue", "gauge"), ("meter_gateway_commit_duration_seconds", "histogram"),
                ("meter_gateway_commit_batch_frames", "histogram"),
                ("meter_gateway_alarm_to_ticket_seconds", "histogram"),
                ("meter_gateway_http_request_duration_seconds", "histogram"),
            ] {
                #expect(after.type(of: family) == type, "\(family)")
                #expect(after.text.contains("# HELP \(family) "), "\(family) has no HELP")
            }
            // They moved with the frame.
            #expect(after.value("meter_gateway_frames_processed_total") == 1)
            #expect(after.value("meter_gateway_frames_stored_total") == 1)
            #expect(after.value("meter_gateway_alarms_inserted_total") == 1)
            #expect(after.value("meter_gateway_tickets_opened_total", ["priority": "P0"]) == 1)
            #expect(after.value("meter_gateway_tickets_opened_total", ["priority": "P3"]) == 0)
            #expect(after.value("meter_gateway_alarm_to_ticket_seconds_count", ["priority": "P0"]) == 1)
            #expect((after.value("meter_gateway_commit_duration_seconds_count") ?? 0) >= 1)
            #expect((after.value("meter_gateway_commit_batch_frames_sum") ?? 0) >= 1)
            #expect(after.value("meter_gateway_frames_duplicate_total", ["protocol": "native"]) == 0)
            #expect((after.value("meter_gateway_mqtt_messages_received_total") ?? 0) >= 1)
            #expect(after.value("meter_gateway_tickets_overdue", ["priority": "P0"]) == 0)
            #expect(after.value("meter_gateway_tickets_active", ["priority": "P1"]) == 0)
            #expect((after.value("meter_gateway_last_commit_age_seconds") ?? 99) < 30)
            #expect(
                (after.value(
                    "meter_gateway_http_request_duration_seconds_count",
                    ["method": "GET", "route": "/metrics", "status": "200"]
                ) ?? 0) >= 1
            )

            // The same frame again: a counted duplicate.
            try await fleet.publishAndWait(topic: topic, payload: try NativeEncoder.encode(alarm, key: key))
            while after.value("meter_gateway_frames_duplicate_total", ["protocol": "native"]) != 1 {
                try #require(ContinuousClock.now < deadline + .seconds(20), "no duplicate on /metrics:\n\(after.text)")
                try await Task.sleep(for: .milliseconds(100))
                after = try await Self.scrape(port)
            }
            #expect(after.value("meter_gateway_frames_stored_total") == 1)

            // Every series the Grafana dashboard asks for is a family of the live output.
            let dashboard = try String(contentsOf: Repository.url("config/grafana-dashboard.json"), encoding: .utf8)
            let names = Set(dashboard.matches(of: /meter_gateway_[a-z_]+/).map { String($0.output) })
            #expect(names.count > 20)
            // These two get their first series with their first label value (a quarantine reason, a SQLSTATE).
            for name in names.subtracting(["meter_gateway_frames_quarantined_total", "meter_gateway_db_errors_total"]) {
                let family =
                    ["_bucket", "_sum", "_count"].first { suffix in
                        name.hasSuffix(suffix) && after.type(of: String(name.dropLast(suffix.count))) == "histogram"
                    }.map { String(name.dropLast($0.count)) } ?? name
                #expect(after.type(of: family) != nil, "the dashboard asks for \(name), which /metrics does not export")
            }

            // Docs.docc/Metrics.md lists every family, and lists none that is not exported (the two above get theirs
            // with their first series; the ticket gauges only while the dispatch service runs).
            let guide = try String(
                contentsOf: Repository.url("Sources/GatewayHTTP/Docs.docc/Metrics.md"),
                encoding: .utf8
            )
            let families = guide.split(separator: "\n").filter { $0.hasPrefix("| `") }.flatMap { row in
                row.split(separator: "|").first.map { cell in
                    cell.matches(of: /`([a-z_]+)`/).map { "meter_gateway_" + String($0.output.1) }
                } ?? []
            }
            let documented = Set(families)
            let exported = Set(
                after.text.split(separator: "\n").compactMap { line -> String? in
                    let parts = line.split(separator: " ")
                    return parts.count == 4 && parts[0] == "#" && parts[1] == "TYPE" ? String(parts[2]) : nil
                }
            )
            #expect(documented.count > 40, "the guide's tables were read")
            #expect(
                exported.subtracting(documented).isEmpty,
                "exported, not in Metrics.md: \(exported.subtracting(documented).sorted())"
            )
            let conditional: Set = [
                "meter_gateway_frames_quarantined_total", "meter_gateway_db_errors_total",
                "meter_gateway_tickets_active", "meter_gateway_tickets_overdue",
            ]
            #expect(
                documented.subtracting(exported).subtracting(conditional).isEmpty,
                "in Metrics.md, not exported: \(documented.subtracting(exported).subtracting(conditional).sorted())"
            )

            // promtool's own parser and linter on the live text.
            let check = try Self.run(promtool, ["check", "metrics"], input: after.text)
            #expect(check.status == 0, "promtool check metrics:\n\(check.output)\n\(after.text)")
            #expect(check.output.isEmpty, "promtool check metrics:\n\(check.output)")

            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await fleet.stop()
    }

    /// A broken exposition is refused by the same check: the test above could fail.
    @Test func promtoolRefusesACounterWithoutTotal() throws {
        let promtool = try #require(Self.promtool, "promtool not found on PATH: run scripts/services.sh install")
        let check = try Self.run(
            promtool,
            ["check", "metrics"],
            input: "# HELP frames Frames.\n# TYPE frames counter\nframes 1\n"
        )
        #expect(check.status != 0)
        #expect(check.output.contains("counter metrics should have \"_total\" suffix"), "\(check.output)")
    }

    private static func scrape(_ port: Int) async throws -> MetricsText {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)/metrics"))
        let (data, response) = try await URLSession.shared.data(from: url)
        try #require((response as? HTTPURLResponse)?.statusCode == 200)
        return MetricsText(text: String(decoding: data, as: UTF8.self))
    }

    /// Runs a program with `input` on its standard input; returns its exit status and what it printed (both streams).
    private static func run(
        _ path: String,
        _ arguments: [String],
        input: String
    ) throws -> (
        status: Int32, output: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let stdin = Pipe()
        let output = Pipe()
        process.standardInput = stdin
        process.standardOutput = output
        process.standardError = output
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A scraped exposition, read the simple way: one sample per line, `name{labels} value`.
struct MetricsText {
    let text: String

    /// The `# TYPE` of a family.
    func type(of family: String) -> String? {
        let prefix = "# TYPE \(family) "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// The value of the sample of `name` whose labels include `labels` (all labels when empty: the unlabelled one).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let series = line[..<space]
            let sampleName = series.prefix { $0 != "{" }
            guard sampleName == name else { continue }
            let labelText = series.dropFirst(sampleName.count)
            let matches = labels.allSatisfy { labelText.contains("\($0.key)=\"\($0.value)\"") }
            if matches && (!labels.isEmpty || labelText.isEmpty) {
                return Double(line[line.index(after: space)...])
            }
        }
        return nil
    }
}
