import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

/// Replay protection against a real database: frames climb the real admission ladder and the writer judges their
/// authenticated counters against `counter_marks` (``ReplayRule``).
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct ReplayProtectionTests {
    static let key = "2B7E151628AED2A6ABF7158809CF4F3C"
    static let omsKey = "000102030405060708090A0B0C0D0E0F"
    /// wmbus-vectors.json `oms-gas-mode7`: ELS-12345678-51-03, mode 7, MCR 2739.
    static let omsMode7 =
        "434493157856341233038C2075900F002C25B30A000021924D4F2FB66E017A75002007109058475F4BC91DF878B80A1B0F98B629024AAC727942BFC549233C0140829B93"
    static let topics = TopicScheme(prefix: "gm/v1")
    static let ladder = AdmissionLadder(
        topics: topics,
        policy: .serviceCommitments,
        clocks: MeterClocks(cjt188: MeterClock(utcOffsetMinutes: 480), mbus: MeterClock(utcOffsetMinutes: 60))
    )

    /// A native reading of meter 1000001 with the given counter; `volume` changes the content.
    static func nativeReading(counter: UInt32, volume: UInt64 = 1_234_567, flags: NativeFrame.Flags = []) -> [UInt8] {
        let frame = NativeFrame(
            meterID: 1_000_001,
            frameCounter: counter,
            meterTime: 1_795_420_800 &+ counter &* 60,
            flags: flags,
            body: .reading(
                NativeFrame.Reading(
                    register: NativeFrame.Register(raw: volume, exponent: -3, digits: 8),
                    flowMillilitresPerHour: 500_000,
                    valve: .open,
                    batteryMillivolts: 3600,
                    temperatureCentiCelsius: 2150,
                    signalDBm: -85,
                    status: []
                )
            )
        )
        guard let key = AES128Key(hex: key) else { return [] }
        return (try? NativeEncoder.encode(frame, key: key)) ?? []
    }

    /// Runs the frames up the ladder into one batch.
    static func batch(
        _ frames: [[UInt8]],
        topic: String = "gm/v1/up/native/1000001",
        registry: MeterRegistry
    )
        -> SinkBatch
    {
        var batch = SinkBatch()
        for frame in frames {
            _ = Array(topic.utf8).withUnsafeBytes { topic in
                frame.withUnsafeBytes { payload in
                    ladder.admit(
                        topic: topic,
                        payload: payload,
                        receivedAt: Timestamp(secondsSinceEpoch: 1_800_000_000),
                        registry: registry,
                        into: &batch
                    )
                }
            }
        }
        return batch
    }

    /// A database with native meter 1000001 and wireless M-Bus meter ELS-12345678-51-03, both with keys.
    static func withMeters(_ body: (TestStores, TestDatabase, MeterRegistry) async throws -> Void) async throws {
        try await withMigratedStores(meters: []) { stores, database, _ in
            _ = try await stores.meters.registerMeters([
                MeterRegistration(protocol: .native, address: "1000001", aesKey: Hex.decode(key)),
                MeterRegistration(protocol: .wmbus, address: "ELS-12345678-51-03", aesKey: Hex.decode(omsKey)),
            ])
            var registry = MeterRegistry()
            for frameProtocol in [FrameProtocol.native, .wmbus] {
                let meters = try await stores.meters.loadMeters(protocol: frameProtocol).map {
                    MeterRegistry.Meter(id: $0.id, address: $0.address, aesKey: $0.aesKey)
                }
                _ = registry.replace(frameProtocol, with: meters, topics: topics)
            }
            try await body(stores, database, registry)
        }
    }

    static func highWater(_ database: TestDatabase, kind: ReplayCounterKind = .nativeFrame) throws -> String? {
        try database.scalar("SELECT high_water FROM counter_marks WHERE kind = \(kind.rawValue)")
    }

    /// Ages every stored identity past the horizon and prunes them, as the pipeline does after a week.
    static func forgetIdentities(_ writer: TelemetryStore, _ database: TestDatabase) async throws -> Int {
        try database.connect().execute("UPDATE frame_identities SET stored_at = now() - interval '8 days'")
        return try await writer.pruneFrameIdentities(olderThanSeconds: 7 * 86_400)
    }

    @Test func anOlderCounterWithOtherBytesIsReplayedAndStoresNothing() async throws {
        try await Self.withMeters { stores, database, registry in
            let writer = stores.telemetry
            let stored = try await writer.write(Self.batch([Self.nativeReading(counter: 10)], registry: registry))
            #expect(stored.readingsInserted == 1 && stored.replayedGates.isEmpty)
            #expect(try Self.highWater(database) == "10")
            // Counter 10 again with another register value: a counter reused for other content.
            let reused = try await writer.write(
                Self.batch([Self.nativeReading(counter: 10, volume: 9_999_999)], registry: registry)
            )
            #expect(reused.replayedGates == [0])
            #expect(reused.readingsInserted == 0 && reused.conflicts == 0)
            #expect(try database.count("readings") == 1)
            #expect(try database.count("value_conflicts") == 0)
            #expect(try Self.highWater(database) == "10")
        }
    }

    @Test func anExactRedeliveryAndARetransmissionStayDuplicates() async throws {
        try await Self.withMeters { stores, database, registry in
            let writer = stores.telemetry
            let frame = Self.nativeReading(counter: 10, flags: .ackRequested)
            _ = try await writer.write(Self.batch([frame], registry: registry))
            let again = try await writer.write(Self.batch([frame], registry: registry))
            #expect(again.duplicateGates == [0] && again.replayedGates.isEmpty)
            // The meter's retransmission: same content, RETRANSMISSION flag, a new MAC and CRC.
            let retransmission = Self.nativeReading(counter: 10, flags: [.ackRequested, .retransmission])
            #expect(retransmission != frame)
            let retried = try await writer.write(Self.batch([retransmission], registry: registry))
            #expect(retried.duplicateGates == [0] && retried.replayedGates.isEmpty)
            #expect(try database.count("readings") == 1)
        }
    }

    @Test func aFrameOlderThanTheLogRemembersIsReplayedButALateDeliveryIsStored() async throws {
        try await Self.withMeters { stores, database, registry in
            let writer = stores.telemetry
            let five = Self.nativeReading(counter: 5)
            _ = try await writer.write(Self.batch([five, Self.nativeReading(counter: 10)], registry: registry))
            #expect(try Self.highWater(database) == "10")
            // Counter 7 was never stored and the log still covers it: a late delivery (backlog, other gateway).
            let late = try await writer.write(Self.batch([Self.nativeReading(counter: 7)], registry: registry))
            #expect(late.replayedGates.isEmpty && late.readingsInserted == 1)
            #expect(try Self.highWater(database) == "10")
            // A week later the identities are forgotten: the captured frame 5 is refused, not stored again.
            #expect(try await Self.forgetIdentities(writer, database) == 3)
            #expect(try database.scalar("SELECT forgotten_through FROM counter_marks") == "10")
            let replay = try await writer.write(Self.batch([five], registry: registry))
            #expect(replay.replayedGates == [0] && replay.duplicateGates.isEmpty)
            #expect(try database.count("frame_identities") == 0)
            #expect(try database.count("readings") == 3)
            // The meter's next frame is fresh.
            let next = try await writer.write(Self.batch([Self.nativeReading(counter: 11)], registry: registry))
            #expect(next.replayedGates.isEmpty && next.readingsInserted == 1)
            #expect(try Self.highWater(database) == "11")
        }
    }

    @Test func theMarkSurvivesARestartAndAResetCounterForgetsIt() async throws {
        try await Self.withMeters { stores, database, registry in
            _ = try await stores.telemetry.write(Self.batch([Self.nativeReading(counter: 10)], registry: registry))
            await stores.telemetry.close()
            // Another process (a restarted or second gateway) with a store of its own.
            let restarted = TelemetryStore(conninfo: database.conninfo, logger: testLogger)
            let replay = try await restarted.write(
                Self.batch([Self.nativeReading(counter: 10, volume: 1)], registry: registry)
            )
            #expect(replay.replayedGates == [0])
            // After a re-key the counter restarts at 0: refused until the operator resets the mark.
            let restart = Self.batch([Self.nativeReading(counter: 0)], registry: registry)
            _ = try await Self.forgetIdentities(restarted, database)
            #expect(try await restarted.write(restart).replayedGates == [0])
            let meter = try #require(try await stores.meters.lookupMeter(protocol: .native, address: "1000001"))
            let reset = try await stores.meters.resetCounters(meterID: meter.id)
            #expect(reset.marks == 1)
            let accepted = try await restarted.write(restart)
            #expect(accepted.replayedGates.isEmpty && accepted.readingsInserted == 1)
            #expect(try Self.highWater(database) == "0")
            // The new counter reaches 10 again: stored, and logged beside the frame 10 of before the reset (the
            // frame log's old key dropped that row).
            var afterReset = try await restarted.write(
                Self.batch([Self.nativeReading(counter: 10, volume: 7_000_000)], registry: registry)
            )
            #expect(afterReset.replayedGates.isEmpty && afterReset.duplicateGates.isEmpty)
            #expect(afterReset.framesInserted == 1)
            #expect(try database.count("uplink_frames", where: "frame_counter = 10") == 2)
            // Delivered again, it is a duplicate: still two rows.
            afterReset = try await restarted.write(
                Self.batch([Self.nativeReading(counter: 10, volume: 7_000_000)], registry: registry)
            )
            #expect(afterReset.duplicateGates == [0] && afterReset.framesInserted == 0)
            #expect(try database.count("uplink_frames", where: "frame_counter = 10") == 2)
            await restarted.close()
        }
    }

    @Test func concurrentWritersKeepTheMaximum() async throws {
        try await Self.withMeters { stores, database, registry in
            let other = TelemetryStore(conninfo: database.conninfo, logger: testLogger)
            // Two gateways of a shared subscription get alternate frames of the same meter, in opposite orders.
            let evens = (0..<40).map { UInt32($0 * 2 + 2) }
            let odds = (0..<40).map { UInt32($0 * 2 + 1) }.reversed()
            func run(_ writer: TelemetryStore, _ counters: [UInt32]) async throws {
                for counter in counters {
                    let batch = Self.batch([Self.nativeReading(counter: counter)], registry: registry)
                    var attempts = 0
                    while true {
                        do {
                            let summary = try await writer.write(batch)
                            #expect(summary.replayedGates.isEmpty, "counter \(counter) judged replayed")
                            break
                        } catch let error as PostgresError where error.isRetryable && attempts < 20 {
                            attempts += 1
                        }
                    }
                }
            }
            async let first: Void = run(stores.telemetry, evens)
            async let second: Void = run(other, Array(odds))
            _ = try await (first, second)
            #expect(try Self.highWater(database) == "80")
            #expect(try database.count("readings") == 80)
            #expect(try database.count("frame_identities") == 80)
            await other.close()
        }
    }

    @Test func anUnauthenticatedFrameDoesNotMoveTheMark() async throws {
        try await Self.withMeters { stores, database, registry in
            _ = try await stores.telemetry.write(Self.batch([Self.nativeReading(counter: 10)], registry: registry))
            // A frame with the highest counter and a wrong MAC (CRC recomputed, so the MAC check is what fails).
            var forged = Self.nativeReading(counter: UInt32.max)
            forged[forged.count - 10] ^= 0xFF
            let crc = forged.withUnsafeBytes { CRC16CCITT.checksum(UnsafeRawBufferPointer(rebasing: $0.dropLast(2))) }
            forged[forged.count - 2] = UInt8(crc >> 8)
            forged[forged.count - 1] = UInt8(crc & 0xFF)
            let batch = Self.batch([forged], registry: registry)
            #expect(batch.gates.isEmpty && batch.quarantine.first?.reason == "bad_mac")
            _ = try await stores.telemetry.write(batch)
            #expect(try Self.highWater(database) == "10")
            let next = try await stores.telemetry.write(
                Self.batch([Self.nativeReading(counter: 11)], registry: registry)
            )
            #expect(next.readingsInserted == 1)
        }
    }

    @Test func aReplayedMode7FrameIsRefused() async throws {
        try await Self.withMeters { stores, database, registry in
            let writer = stores.telemetry
            let frame = Hex.decode(Self.omsMode7) ?? []
            let topic = "gm/v1/up/wmbus/12345678"
            let first = try await writer.write(Self.batch([frame], topic: topic, registry: registry))
            #expect(first.readingsInserted >= 1 && first.replayedGates.isEmpty)
            #expect(try Self.highWater(database, kind: .omsMessage) == "2739")
            #expect(try await writer.write(Self.batch([frame], topic: topic, registry: registry)).duplicateGates == [0])
            // Captured and sent again after the gateway forgot its identity.
            _ = try await Self.forgetIdentities(writer, database)
            let replay = try await writer.write(Self.batch([frame], topic: topic, registry: registry))
            #expect(replay.replayedGates == [0] && replay.readingsInserted == 0)
            #expect(try Self.highWater(database, kind: .omsMessage) == "2739")
        }
    }
}
