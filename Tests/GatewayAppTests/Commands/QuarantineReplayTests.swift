import Foundation
import GatewayCore
import GatewayTestSupport
import Logging
import PostgresSink
import Testing

@testable import GatewayApp

/// `meter-gateway quarantine replay`: quarantined frames climb the same ladder again after a fix.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG"), .timeLimit(.minutes(3)))
struct QuarantineReplayTests {
    @Test func replayAdmitsFramesAfterTheFixMarksEachOutcomeAndIsIdempotent() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "replay")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(database: database, clientID: "gw-replay")
        let logger = Logger(label: "replay-test")
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: logger)
        _ = try await writer.migrate()
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)
        let ladder = AdmissionLadder(
            topics: topics,
            policy: configuration.tickets.policy,
            clocks: configuration.meters.clocks,
            maxPayloadBytes: configuration.mqtt.maxPayloadBytes
        )

        // Live: the meter is not registered yet, a frame is corrupted on the way, the disk flipped a spool bit.
        let frame = try #require(Hex.decode(ExactlyOnceIntegrationTests.clockless))
        var corrupted = try #require(Hex.decode(ExactlyOnceIntegrationTests.clockless))
        corrupted.removeLast(3)
        var batch = SinkBatch()
        let topic = topics.uplinkTopic(.wmbus, address: "12345678")
        for (payload, at) in [(frame, 1_000), (corrupted, 1_001)] as [([UInt8], Int64)] {
            let admission = Array(topic.utf8).withUnsafeBytes { topic in
                payload.withUnsafeBytes {
                    ladder.admit(
                        topic: topic,
                        payload: $0,
                        receivedAt: Timestamp(secondsSinceEpoch: at),
                        registry: MeterRegistry(),
                        into: &batch
                    )
                }
            }
            guard case .quarantined = admission.verdict else {
                Issue.record("expected quarantine, got \(admission.verdict)")
                return
            }
        }
        _ = [UInt8](repeating: 7, count: 9).withUnsafeBytes {
            ladder.quarantineCorruptSpoolRecord($0, foundAt: Timestamp(secondsSinceEpoch: 1_002), into: &batch)
        }
        _ = try await writer.write(batch)
        let quarantine = QuarantineStore(writer.database)
        #expect(
            try await quarantine.quarantinedFrames(reason: nil, since: nil, pendingOnly: true, limit: 10).count == 3
        )

        // The fix: the meter is registered. Replay.
        _ = try await MeterStore(writer.database).registerMeters([
            MeterRegistration(protocol: .wmbus, address: "ELS-12345678-51-03")
        ])
        let replay = QuarantineReplay(writer: writer, ladder: ladder)
        let first = try await replay.run(reason: nil, since: nil)
        #expect(first.outcomes["stored"] == 1)
        #expect(first.outcomes["not_replayable"] == 1)
        #expect(first.outcomes.count == 3, "\(first.outcomes)")
        let rows = try await quarantine.quarantinedFrames(reason: nil, since: nil, pendingOnly: false, limit: 10)
        #expect(rows.map(\.replayOutcome).contains("stored"))
        #expect(rows.allSatisfy { $0.replayedAt != nil })

        let db = try PostgresConnection.connect(conninfo: configuration.postgres.conninfo)
        defer { db.close() }
        // Stored once, at its original receive time (the frame has no meter clock).
        #expect(
            try db.query("SELECT count(*), min(extract(epoch FROM read_at))::int FROM readings").first == ["1", "1000"]
        )

        // Again: the stored frame is not replayed; the others are tried again and stay where they are.
        let second = try await replay.run(reason: nil, since: nil)
        #expect(second.outcomes["stored"] == nil)
        #expect(second.replayed == 2)
        #expect(try db.query("SELECT count(*) FROM readings").first?.first == "1")
        // A filter limits the replay to one reason.
        let none = try await replay.run(reason: "bad_mac", since: nil)
        #expect(none.replayed == 0)
        await writer.close()
    }

    /// Frames refused because their collector was not assigned yet are admitted once it is.
    @Test func replayAdmitsCollectorFramesOnceTheirMeterIsAssigned() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "replay_collector")
        defer { environment.dropDatabase(database) }
        let configuration = try environment.configuration(database: database, clientID: "gw-replay-collector")
        let writer = TelemetryStore(conninfo: configuration.postgres.conninfo, logger: Logger(label: "replay-test"))
        _ = try await writer.migrate()
        let topics = TopicScheme(prefix: configuration.mqtt.topicPrefix)
        let ladder = AdmissionLadder(
            topics: topics,
            policy: configuration.tickets.policy,
            clocks: configuration.meters.clocks,
            maxPayloadBytes: configuration.mqtt.maxPayloadBytes
        )
        let meters = MeterStore(writer.database)
        _ = try await meters.registerMeters([MeterRegistration(protocol: .wmbus, address: "ELS-12345678-51-03")])
        let meter = try #require(try await meters.lookupMeter(protocol: .wmbus, address: "ELS-12345678-51-03"))

        // Live, before the assignment: the registry knows the meter but no collector may speak for it.
        let registry = try await MeterRegistry.load(from: meters, topics: topics)
        let frame = try #require(Hex.decode(ExactlyOnceIntegrationTests.clockless))
        var batch = SinkBatch()
        let admission = Array(topics.prefix.appending("/up/collector/dtu-4").utf8).withUnsafeBytes { topic in
            frame.withUnsafeBytes {
                ladder.admit(
                    topic: topic,
                    payload: $0,
                    receivedAt: Timestamp(secondsSinceEpoch: 1_000),
                    registry: registry,
                    into: &batch
                )
            }
        }
        #expect(admission.verdict == .quarantined(.collectorNotAssigned))
        _ = try await writer.write(batch)

        let replay = QuarantineReplay(writer: writer, ladder: ladder)
        let before = try await replay.run(reason: "collector_not_assigned", since: nil)
        #expect(before.outcomes == ["quarantined:collector_not_assigned": 1])
        #expect(try await meters.assignCollectors(meterID: meter.id, collectors: ["dtu-4"]) == 1)
        let after = try await replay.run(reason: "collector_not_assigned", since: nil)
        #expect(after.outcomes == ["stored": 1])
        await writer.close()
    }
}
