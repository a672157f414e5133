import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

/// The writer stores each frame once by its identity, and a flood of one bad payload stays one quarantine row.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct FrameGateStoreTests {
    /// A batch with one clock-less frame: a reading at its receive time, gated by the fingerprint of its bytes.
    static func clocklessDelivery(meter: Int64, receivedAt seconds: Int64, bytes: [UInt8]) -> SinkBatch {
        var batch = SinkBatch()
        let fingerprint = bytes.withUnsafeBytes { FrameFingerprint.of($0) }
        let receivedAt = Timestamp(secondsSinceEpoch: seconds)
        batch.gates.append(
            FrameGate(
                meterID: meter,
                identity: .fingerprint(fingerprint),
                fingerprint: fingerprint,
                source: .wmbus,
                receivedAt: receivedAt,
                rowsStartingAt: batch
            )
        )
        batch.readings.append(
            ReadingRecord(
                meterID: meter,
                readAt: receivedAt,
                receivedAt: receivedAt,
                kind: .periodic,
                volumeMillilitres: 28_504_270_000,
                registerModulusMillilitres: 0,
                flowMillilitresPerHour: nil,
                valve: .unknown,
                batteryMillivolts: nil,
                temperatureCentiCelsius: nil,
                signalDBm: nil,
                statusBits: MBusFrame.clockInvalidStatusBit,
                frameCounter: nil,
                source: .wmbus
            )
        )
        return batch
    }

    @Test func aClocklessFrameDeliveredAgainLaterIsADuplicateAndWritesNothing() async throws {
        try await withMigratedWriter { writer, database, ids in
            let meter = try #require(ids["m1"])
            let bytes: [UInt8] = [0x14, 0x44, 0x93, 0x15, 0x21, 0x33]
            let first = try await writer.write(Self.clocklessDelivery(meter: meter, receivedAt: 1_000, bytes: bytes))
            #expect(first.readingsInserted == 1)
            #expect(first.duplicateGates.isEmpty)
            // The same bytes an hour and a day later (broker redelivery, retained message, meter retry).
            for later in [4_600, 87_400] as [Int64] {
                let again = try await writer.write(Self.clocklessDelivery(meter: meter, receivedAt: later, bytes: bytes))
                #expect(again.duplicateGates == [0])
                #expect(again.readingsInserted == 0)
            }
            #expect(try database.count("readings") == 1)
            #expect(try database.count("frame_identities") == 1)
            // Other bytes are another frame.
            let other = try await writer.write(
                Self.clocklessDelivery(meter: meter, receivedAt: 90_000, bytes: bytes + [0x01])
            )
            #expect(other.duplicateGates.isEmpty)
            #expect(try database.count("readings") == 2)
        }
    }

    @Test func repeatsInsideOneBatchAreStoredOnce() async throws {
        try await withMigratedWriter { writer, database, ids in
            let meter = try #require(ids["m1"])
            let bytes: [UInt8] = [1, 2, 3]
            var batch = Self.clocklessDelivery(meter: meter, receivedAt: 10, bytes: bytes)
            let second = Self.clocklessDelivery(meter: meter, receivedAt: 11, bytes: bytes)
            batch.gates.append(FrameGate(rebasing: second.gates[0], onto: batch))
            batch.readings.append(contentsOf: second.readings)
            let summary = try await writer.write(batch)
            #expect(summary.duplicateGates == [1])
            #expect(try database.count("readings") == 1)
            #expect(try database.scalar("SELECT extract(epoch FROM read_at)::int FROM readings") == "10")
        }
    }

    @Test func sameIdentityWithOtherBytesIsNotADuplicate() async throws {
        try await withMigratedWriter { writer, database, ids in
            let meter = try #require(ids["m1"])
            var batch = Self.clocklessDelivery(meter: meter, receivedAt: 10, bytes: [1])
            batch.gates[0].identity = .meterTime(Timestamp(secondsSinceEpoch: 5), channel: 0x72)
            _ = try await writer.write(batch)
            // Same meter time and channel, other bytes and another volume: rows go on to their natural key, where
            // the different value is a recorded conflict.
            var changed = Self.clocklessDelivery(meter: meter, receivedAt: 10, bytes: [2])
            changed.gates[0].identity = .meterTime(Timestamp(secondsSinceEpoch: 5), channel: 0x72)
            changed.readings[0].volumeMillilitres += 1_000
            let summary = try await writer.write(changed)
            #expect(summary.duplicateGates.isEmpty)
            #expect(summary.identityConflicts == 1)
            #expect(summary.conflicts == 1)
            #expect(try database.count("readings") == 1)
        }
    }

    @Test func identitiesPastTheHorizonAreForgotten() async throws {
        try await withMigratedWriter { writer, database, ids in
            let meter = try #require(ids["m1"])
            _ = try await writer.write(Self.clocklessDelivery(meter: meter, receivedAt: 10, bytes: [9]))
            #expect(try await writer.pruneFrameIdentities(olderThanSeconds: 3600) == 0)
            let connection = try database.connect()
            try connection.execute("UPDATE frame_identities SET stored_at = now() - interval '2 hours'")
            #expect(try await writer.pruneFrameIdentities(olderThanSeconds: 3600) == 1)
            #expect(try database.count("frame_identities") == 0)
        }
    }

    @Test func aFloodOfOneBadPayloadIsOneQuarantineRowWithItsCount() async throws {
        try await withMigratedWriter { writer, database, _ in
            func hostile(_ seconds: Int64) -> QuarantineRecord {
                QuarantineRecord(
                    receivedAt: Timestamp(secondsSinceEpoch: seconds),
                    topic: "gm/v1/up/native/1",
                    payload: [0xDE, 0xAD],
                    reason: "truncated",
                    detail: "too short",
                    source: .native,
                    meterAddress: nil
                )
            }
            var batch = SinkBatch()
            for second in 0..<500 { batch.quarantine.append(hostile(Int64(second))) }
            _ = try await writer.write(batch)
            // Replaying the committed batch (a crash before the checkpoint moved) counts nothing twice.
            _ = try await writer.write(batch)
            var later = SinkBatch()
            later.quarantine = [hostile(1_000), hostile(1_001)]
            _ = try await writer.write(later)
            #expect(try database.count("quarantine") == 1)
            #expect(try database.scalar("SELECT repeat_count FROM quarantine") == "502")
            #expect(try database.scalar("SELECT extract(epoch FROM last_received_at)::int FROM quarantine") == "1001")
            #expect(try database.scalar("SELECT extract(epoch FROM received_at)::int FROM quarantine") == "0")
        }
    }
}
