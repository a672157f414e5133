import Foundation
import GatewayCore
import GatewayFleet
import GatewayTestSupport
import Logging
import MQTTIngest
import PostgresSink
import ServiceLifecycle
import Testing

@testable import GatewayApp

/// The demo's fleet with its faults and scenarios through the running gateway and its validator: each implausible
/// reading is caught for its own reason, and nothing else of the healthy fleet is held, rejected or in conflict.
@Suite(
    .enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"),
    .timeLimit(.minutes(2))
)
struct FleetScenarioEndToEndTests {
    @Test func implausibleReadingsAreCaughtForTheirReasonsAndNothingElseIsHeld() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "fleet_scenarios")
        defer { environment.dropDatabase(database) }
        // Billing days in the fleet's zone (UTC+8), as the demo configures them: its daily reports freeze at
        // local midnight, so every day boundary has an actual read.
        let configuration = try environment.configuration(
            database: database,
            clientID: "gw-scenarios",
            environment: ["METER_GATEWAY_VALIDATION_BILLING_DAY_UTC_OFFSET_MINUTES": "480"]
        )
        var logger = Logger(label: "fleet-scenarios")
        logger.logLevel = .warning
        // 25 meters: meter 25 is the first leaking household after meter 4, so the leak history is sent too.
        var options = SimulatorOptions()
        options.meters = 25
        options.ratePerSecond = 25
        options.duration = .seconds(8)
        options.drain = .seconds(30)
        options.injectFaults = true
        let simulator = FleetSimulator(
            options: options,
            mqtt: configuration.fleetMQTTOptions(clientID: "fleet-scenarios-\(environment.runID)"),
            topics: TopicScheme(prefix: configuration.mqtt.topicPrefix),
            logger: logger
        )
        #expect(try await provision(simulator, conninfo: configuration.postgres.conninfo, logger: logger) == 29)

        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        let group = runtime.serviceGroup(logger: logger)
        let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
        defer { db.close() }
        func rows(_ sql: String) throws -> [[String]] { try db.query(sql).map { $0.map { $0 ?? "NULL" } } }
        let report = try await withThrowingTaskGroup(of: SimulatorReport?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            defer { tasks.cancelAll() }
            #expect(await runtime.mqtt.waitUntilConnected(timeout: .seconds(20)))
            let report = try await simulator.run()
            // Every acked frame is committed; wait until the validator has judged every reading.
            let deadline = ContinuousClock.now + .seconds(60)
            while try rows(
                """
                SELECT (SELECT count(*) FROM validation_queue)
                    + (SELECT count(*) FROM readings_validated WHERE quality IS NULL AND kind IN (0, 1, 2))
                """
            ) != [["0"]] {
                try #require(ContinuousClock.now < deadline, "the validator did not finish in time")
                try await Task.sleep(for: .milliseconds(200))
            }
            await group.triggerGracefulShutdown()
            return report
        }

        #expect(report.implausibleReadings == 2)
        #expect(report.faultsInjected == 6)
        #expect(report.unacked == 0)
        let held = try rows(
            """
            SELECT m.address, r.kind, read_quality_name(r.quality), array_to_string(r.reasons, '+'),
                r.read_at::text, r.received_at::text, r.volume_ml::text
            FROM readings_validated r JOIN meters m ON m.id = r.meter_id
            WHERE r.quality <> 0 ORDER BY m.address
            """
        )
        #expect(
            held.map { Array($0.prefix(4)) }
                == [["100000003", "0", "rejected", "index_decrease"], ["100000004", "0", "suspect", "clock_drift"]],
            "held readings: \(held)"
        )
        let conflicts = try rows("SELECT series, meter_id, at FROM value_conflicts")
        #expect(conflicts == [], "value conflicts: \(conflicts)")
        // The leak history's days and every fleet meter's last two days, all determined from actual reads.
        #expect(try rows("SELECT count(*) > 50 FROM daily_reads") == [["t"]])
        // No day is held but one that contains a held reading: the clock-drift meter's suspect read makes its billing
        // day (UTC+8) suspect once that day has ended, i.e. when the test runs between 16:00 and 24:00 UTC.
        let heldDays = try rows(
            """
            SELECT d.day::text, m.address, read_quality_name(d.quality), array_to_string(d.reasons, '+')
            FROM daily_reads d JOIN meters m ON m.id = d.meter_id
            WHERE d.quality <> 0 AND NOT (
                m.address = '100000004' AND read_quality_name(d.quality) = 'suspect'
                AND array_to_string(d.reasons, '+') = 'contains_suspect_read'
                AND EXISTS (
                    SELECT 1 FROM readings_validated r
                    WHERE r.meter_id = d.meter_id AND read_quality_name(r.quality) = 'suspect'
                        AND ((r.read_at AT TIME ZONE 'UTC') + interval '8 hours')::date = d.day
                )
            )
            ORDER BY 1, 2
            """
        )
        #expect(heldDays == [], "days held without a held reading in them: \(heldDays)")
    }
}
