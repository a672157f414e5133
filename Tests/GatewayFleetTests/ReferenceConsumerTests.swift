import Foundation
import GatewayCore
import GatewayFleet
import Logging
import MQTTIngest
import Testing

/// The ack-only reference consumer against the real broker: it acknowledges exactly the frames of the meters it
/// was given, so the fleet settles those and nothing else.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] != nil), .timeLimit(.minutes(1)))
struct ReferenceConsumerTests {
    @Test func acknowledgesTheFramesOfItsFleetAndOnlyThose() async throws {
        let port = try #require(Int(ProcessInfo.processInfo.environment["MQTT_TEST_PORT"] ?? ""))
        let run = UUID().uuidString.prefix(8)
        let topics = TopicScheme(prefix: "reference-\(run)/v1")
        func connection(_ name: String) -> MQTTConnectionOptions {
            MQTTConnectionOptions(
                host: "127.0.0.1",
                port: port,
                clientID: "\(name)-\(run)",
                cleanStart: true,
                sessionExpirySeconds: 0,
                receiveMaximum: 200
            )
        }
        var fleet = SimulatorOptions()
        fleet.meters = 20
        fleet.ratePerSecond = 0
        fleet.maxInFlight = 100
        fleet.duration = .seconds(2)
        fleet.retransmitAfter = nil
        fleet.drain = .seconds(3)
        fleet.scriptedAlarms = false
        // The consumer knows only the first half of the fleet's meters.
        var known = fleet
        known.meters = 10
        let consumer = ReferenceConsumer(
            fleet: known,
            mqtt: connection("reference"),
            subscription: topics.uplinkFilter(),
            topics: topics,
            logger: Logger(label: "reference-test")
        )
        try consumer.start()
        #expect(await consumer.waitUntilConnected(timeout: .seconds(15)))
        let report = try await FleetSimulator(
            options: fleet,
            mqtt: connection("fleet"),
            topics: topics,
            logger: Logger(label: "reference-test")
        ).run()
        await consumer.stop()

        // Meters are visited in turn (frame i is meter i mod 20's), so these frames belong to the known half.
        let generated = report.framesGenerated
        #expect(generated >= 20)
        #expect(report.acked == generated / 20 * 10 + min(generated % 20, 10))
        #expect(report.unacked == report.framesGenerated - report.acked)
        #expect(consumer.acked == report.acked)
        #expect(consumer.ignored == report.unacked)
        #expect(report.settledSeconds > 0 && report.settledSeconds <= report.seconds + 3)
    }
}
