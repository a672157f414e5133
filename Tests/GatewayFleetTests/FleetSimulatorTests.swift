import Foundation
import GatewayCore
import GatewayFleet
import Logging
import MQTTIngest
import Testing

/// Against the real broker with no gateway listening: nothing is acked, so every frame is resent.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] != nil), .timeLimit(.minutes(1)))
struct FleetSimulatorRetransmissionTests {
    @Test func unacknowledgedFramesAreResentUntilTheLimit() async throws {
        let port = try #require(Int(ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] ?? ""))
        var options = SimulatorOptions()
        options.meters = 10
        // No rate: the simulator keeps maxInFlight frames outstanding, so the first pass of its loop sends all 20 at
        // once and nothing else (none is ever acked), however late a loaded machine schedules the loop afterwards.
        // (At a rate, a loop starved past its duration sent nothing.)
        options.ratePerSecond = 0
        options.maxInFlight = 20
        options.duration = .seconds(3)
        options.retransmitAfter = .milliseconds(300)
        options.maxRetransmissions = 2
        options.drain = .seconds(5)
        options.scriptedAlarms = false
        let simulator = FleetSimulator(
            options: options,
            // What the gateway's default configuration gives a fleet on this port (`fleetMQTTOptions`): a clean
            // session that ends with the connection.
            mqtt: MQTTConnectionOptions(
                host: "127.0.0.1",
                port: port,
                clientID: "fleet-resend-\(UUID().uuidString.prefix(8))",
                cleanStart: true,
                sessionExpirySeconds: 0,
                receiveMaximum: 200
            ),
            topics: TopicScheme(prefix: "resend-\(UUID().uuidString.prefix(8))/v1"),
            logger: Logger(label: "resend-test")
        )
        let report = try await simulator.run()
        #expect(report.framesGenerated == 20)
        #expect(report.acked == 0)
        #expect(report.unacked == report.framesGenerated)
        #expect(report.retransmissions == report.framesGenerated * options.maxRetransmissions)
    }
}
