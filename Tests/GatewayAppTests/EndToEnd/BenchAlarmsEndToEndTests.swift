import Foundation
import GatewayCore
import GatewayFleet
import GatewayTestSupport
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import Synchronization
import Testing

@testable import GatewayApp

/// `bench-alarms` against the whole gateway in process: every alarm frame the fleet publishes is tied, through its
/// stored alarm id, to its ticket event on `NOTIFY ticket_events` and on the MQTT dispatch topic.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct BenchAlarmsEndToEndTests {
    @Test func everyPublishedAlarmIsTiedToItsNotifyAndItsDispatchMessage() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "bench_alarms")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(database: database, clientID: "gw-bench", environment: [:])
        let logger = Logger(label: "bench-alarms-e2e")
        var fleet = SimulatorOptions()
        fleet.meters = 40
        fleet.firstMeterID = 730_000_001
        // Each meter sends a frame every 2 s, so two alarms of one meter with the same code in the same second (one
        // stored alarm: its key is meter, time, code) happen only when the fleet falls behind; they count as merged.
        fleet.ratePerSecond = 20
        fleet.duration = .seconds(5)
        fleet.dailyReports = false
        fleet.scriptedAlarms = false
        fleet.randomAlarmProbability = 0.3
        fleet.retransmitAfter = .seconds(2)
        fleet.drain = .seconds(10)
        _ = try await provision(
            FleetSimulator(
                options: fleet,
                mqtt: configuration.fleetMQTTOptions(clientID: "unused"),
                topics: TopicScheme(prefix: configuration.mqtt.topicPrefix),
                logger: logger
            ),
            conninfo: configuration.postgres.conninfo,
            logger: logger
        )
        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let output = try await withThrowingTaskGroup(of: BenchAlarmsCommand.Output?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            while !runtime.statistics.databaseReady.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(50))
            }
            let output = try await BenchAlarmsCommand.measure(
                configuration: configuration,
                fleet: fleet,
                fleetClientID: "fleet-bench-\(environment.runID)",
                settle: .seconds(20),
                logger: logger
            )
            await group.triggerGracefulShutdown()
            var result: BenchAlarmsCommand.Output?
            for try await value in tasks where value != nil { result = value }
            return result ?? output
        }
        let alarms = output.alarms
        print(
            "bench-alarms: \(alarms.alarmsPublished) alarms; notify p50 \(alarms.notify.latency.p50Milliseconds) "
                + "p99 \(alarms.notify.latency.p99Milliseconds) ms; dispatch p50 "
                + "\(alarms.dispatch.latency.p50Milliseconds) p99 \(alarms.dispatch.latency.p99Milliseconds) ms"
        )
        // A fleet starved on a loaded machine catches up in bursts: two frames of a meter in one second with one code
        // are one stored alarm (merged), every other alarm frame must have its events.
        #expect(alarms.alarmsPublished + alarms.merged == output.fleet.alarms)
        #expect(alarms.alarmsPublished >= 1, "a 30 % alarm chance per frame (fewer frames on a loaded machine)")
        for channel in [alarms.notify, alarms.dispatch] {
            #expect(channel.missing == 0)
            #expect(channel.latency.count == alarms.alarmsPublished)
            #expect(channel.latency.p50Milliseconds > 0)
            #expect(channel.latency.p50Milliseconds <= channel.latency.p99Milliseconds)
            #expect(channel.latency.p99Milliseconds <= channel.latency.maxMilliseconds)
            #expect(channel.latency.maxMilliseconds < 20_000)
        }
    }
}
