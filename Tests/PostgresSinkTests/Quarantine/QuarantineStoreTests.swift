import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct QuarantineStoreTests {
    private func record(_ topic: String, _ payload: [UInt8], reason: String, at seconds: Int64) -> QuarantineRecord {
        QuarantineRecord(
            receivedAt: at(seconds),
            topic: topic,
            payload: payload,
            reason: reason,
            detail: "detail of \(reason)",
            source: .native,
            meterAddress: nil
        )
    }

    @Test func quarantinedFramesDecodeEveryColumnAndReplaysAreRecorded() async throws {
        try await withMigratedStores(meters: []) { stores, database, _ in
            let summary = try await stores.telemetry.write(
                batch(quarantine: [
                    record("meters/a/up", [0x00, 0xFF, 0x10], reason: "unknown_meter", at: 0),
                    record("meters/b/up", [0x42], reason: "bad_crc", at: 60),
                    record("meters/a/up", [0x00, 0xFF, 0x10], reason: "unknown_meter", at: 120),
                ])
            )
            #expect(summary.quarantined >= 1)
            let frames = try await stores.quarantine.quarantinedFrames(
                reason: nil,
                since: nil,
                pendingOnly: false,
                limit: 10
            )
            #expect(frames.map(\.reason).sorted() == ["bad_crc", "unknown_meter"])
            #expect(frames.map(\.id) == frames.map(\.id).sorted())
            let first = try #require(frames.first { $0.reason == "unknown_meter" })
            #expect(first.payload == [0x00, 0xFF, 0x10])
            #expect(first.topic == "meters/a/up")
            #expect(first.receivedAt == at(0))
            #expect(first.lastReceivedAt == at(120))
            #expect(first.repeatCount == 2)
            #expect(first.detail == "detail of unknown_meter")
            #expect(first.replayedAt == nil && first.replayOutcome == nil)

            try await stores.quarantine.recordReplay(id: first.id, outcome: "stored", detail: nil, at: at(500))
            let pending = try await stores.quarantine.quarantinedFrames(
                reason: nil,
                since: nil,
                pendingOnly: true,
                limit: 10
            )
            #expect(pending.map(\.reason) == ["bad_crc"])
            let replayed = try await stores.quarantine.quarantinedFrames(
                reason: "unknown_meter",
                since: nil,
                pendingOnly: false,
                limit: 10
            )
            #expect(replayed.first?.replayedAt == at(500) && replayed.first?.replayOutcome == "stored")
            let later = try await stores.quarantine.quarantinedFrames(
                reason: nil,
                since: "2026-03-01T00:00:30Z",
                pendingOnly: false,
                afterID: 0,
                limit: 10
            )
            #expect(later.map(\.reason) == ["bad_crc"])
            #expect(try database.count("quarantine") == 2)
        }
    }

    @Test func aRowThatDoesNotDecodeIsAnErrorNotASkippedRow() throws {
        let row = PostgresRow(columns: ["1", "0", "0", "1", "t", "zz", "r", nil, nil, nil])
        let error = #expect(throws: PostgresError.self) { try QuarantinedFrame(row: row) }
        #expect(error?.code == .unexpectedResult)
    }
}
