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

/// An alarm ends its batch (``IngestPipeline``): with a backlog in the spool, the frames up to and including the alarm
/// commit in one transaction with the alarm's ticket, without gathering more; the batch after a cut is never cut
/// (an alarm storm keeps half its batching). Nothing is lost or stored twice, in spool order, one ticket.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .serialized,
    .timeLimit(.minutes(2))
)
struct AlarmBatchCutIntegrationTests {
    private let meter: UInt64 = 710_000_001
    private let keyBytes: [UInt8] = Array(0x20...0x2F)

    @Test func aBacklogWithAlarmsCommitsUpToEachAlarmFirstInOrderWithOneTicket() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "alarmcut")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        let configPath = try environment.writeConfiguration(in: folder, database: database, clientID: "gw-alarmcut")
        var configuration = try GatewayConfiguration.load(
            tomlText: try String(contentsOfFile: configPath, encoding: .utf8),
            environment: [:]
        )
        configuration.pipeline.maxBatchFrames = 25
        let logger = Logger(label: "alarm-cut-test")
        let key = try #require(AES128Key(bytes: keyBytes))
        let topic = TopicScheme(prefix: configuration.mqtt.topicPrefix).uplinkTopic(.native, address: String(meter))

        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        try await writer.connect()
        _ = try await writer.migrate()
        _ = try await MeterStore(writer.database).registerMeters([
            MeterRegistration(
                protocol: .native,
                address: String(meter),
                district: "north",
                isRural: false,
                aesKey: keyBytes
            )
        ])
        await writer.close()

        // The backlog, in the spool before the gateway starts (as after a restart): readings 1…70 with methane alarms
        // at counters 10, 12 and 55, batches of at most 25 frames. Batch 1 ends at the alarm at 10; batch 2 is not
        // cut (the one before it was), so it is full: 11…35 with the alarm at 12; batch 3 ends at the alarm at 55:
        // 36…55; batch 4 takes the rest, 56…70.
        let alarms: Set<UInt32> = [10, 12, 55]
        let now = UInt32(Date().timeIntervalSince1970)
        let register = NativeFrame.Register(raw: 12_345_678, exponent: -3, digits: 5)
        do {
            let spool = try FrameSpool(directory: configuration.spool.directory)
            for counter in UInt32(1)...70 {
                let body: NativeFrame.Body =
                    alarms.contains(counter)
                    ? .alarm(
                        NativeFrame.Alarm(
                            code: 0x0001,
                            isRaised: true,
                            valve: .closed,
                            register: register,
                            flowMillilitresPerHour: 0,
                            detail: Int32(counter)
                        )
                    )
                    : .reading(
                        NativeFrame.Reading(
                            register: NativeFrame.Register(raw: UInt64(counter) * 1000, exponent: -3, digits: 5),
                            flowMillilitresPerHour: nil,
                            valve: .open,
                            batteryMillivolts: nil,
                            temperatureCentiCelsius: nil,
                            signalDBm: nil,
                            status: []
                        )
                    )
                let frame = NativeFrame(
                    meterID: meter,
                    frameCounter: counter,
                    meterTime: now - 100 + counter,
                    flags: [],
                    body: body
                )
                let bytes = try NativeEncoder.encode(frame, key: key)
                Array(topic.utf8).withUnsafeBytes { topicBytes in
                    bytes.withUnsafeBytes { payload in
                        spool.writer.stage(topic: topicBytes, payload: payload, receivedAt: .now)
                    }
                }
            }
            try spool.writer.commitStaged()
        }

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            let deadline = ContinuousClock.now + .seconds(30)
            while runtime.statistics.framesProcessed.load(ordering: .relaxed) < 70 {
                try #require(ContinuousClock.now < deadline, "the gateway did not process the backlog in time")
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(runtime.statistics.commits.load(ordering: .relaxed) == 4)
            #expect(runtime.statistics.framesStored.load(ordering: .relaxed) == 70)

            let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
            defer { db.close() }
            func rows(_ sql: String) throws -> [[String]] { try db.query(sql).map { $0.map { $0 ?? "NULL" } } }
            // Every frame once. The transaction that wrote each frame (xmin: `uplink_frames` rows are never updated)
            // shows the cuts: consecutive runs of one transaction, in commit order.
            let frames = try rows("SELECT frame_counter, xmin::text::bigint FROM uplink_frames ORDER BY frame_counter")
            #expect(frames.map { $0[0] } == (1...70).map(String.init))
            var runs: [(transaction: Int64, frames: Int)] = []
            for frame in frames {
                let transaction = Int64(frame[1]) ?? -1
                if runs.last?.transaction == transaction {
                    runs[runs.count - 1].frames += 1
                } else {
                    runs.append((transaction, 1))
                }
            }
            #expect(runs.map(\.frames) == [10, 25, 20, 15])
            #expect(runs.map(\.transaction) == runs.map(\.transaction).sorted(), "committed in spool order")
            #expect(Set(runs.map(\.transaction)).count == 4)
            let alarmRows = try rows("SELECT frame_counter FROM alarms ORDER BY frame_counter")
            #expect(alarmRows == [["10"], ["12"], ["55"]])
            let tickets = try rows("SELECT condition, alarm_count FROM repair_tickets")
            #expect(tickets == [["methane_detector", "3"]])
            await group.triggerGracefulShutdown()
        }
    }
}
