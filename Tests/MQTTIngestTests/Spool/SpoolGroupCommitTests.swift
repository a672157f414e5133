import Foundation
import GatewayCore
import Testing

@testable import MQTTIngest

#if canImport(Glibc)
import Glibc
#endif

/// Group commit: frames staged by the receive callback are written with one `write` and made durable with one
/// `fdatasync` per batch; the reader sees none of them before that.
@Suite struct SpoolGroupCommitTests {
    typealias Support = SpoolTestSupport

    static func stage(_ writer: SpoolWriter, payload: [UInt8], topic: String = "t") {
        Array(topic.utf8).withUnsafeBytes { topicRaw in
            payload.withUnsafeBytes { payloadRaw in
                writer.stage(topic: topicRaw, payload: payloadRaw, receivedAt: Timestamp(microsecondsSinceEpoch: 1))
            }
        }
    }

    /// The spool calls on segment files (writes and syncs), in order.
    static func segmentIO(_ calls: [SpoolFileCall]) -> [String] {
        calls.compactMap { call in
            switch call {
            case .write(_, let path, let bytes, let result) where path.hasSuffix(".spool"):
                "write \((path as NSString).lastPathComponent) \(bytes) -> \(result)"
            case .fdatasync(_, let path, let result) where path.hasSuffix(".spool"):
                "fdatasync \((path as NSString).lastPathComponent) -> \(result)"
            default: nil
            }
        }
    }

    @Test func aBatchIsOneWriteThenOneFdatasyncAndTheReaderSeesItOnlyAfterwards() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        // A long interval: the batch syncs because it is a commit, not because a timer ran out.
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(fsyncIntervalMilliseconds: 60_000),
            operations: operations,
            clock: .system
        )
        let reader = spool.makeReader()
        operations.clearCalls()
        for index in 1...3 { Self.stage(spool.writer, payload: [UInt8(index), 0xAA]) }
        #expect(spool.writer.stagedRecords == 3)
        #expect(Self.segmentIO(operations.calls).isEmpty, "staging touches no file")
        #expect(try Support.drain(reader).isEmpty, "a staged frame is not readable")

        try spool.writer.commitStaged()
        let name = (Support.segmentPath(directory, 1) as NSString).lastPathComponent
        let bytes = 3 * Support.recordBytes(payload: 2)
        #expect(Self.segmentIO(operations.calls) == ["write \(name) \(bytes) -> \(bytes)", "fdatasync \(name) -> 0"])
        #expect(spool.writer.stagedRecords == 0)
        #expect(spool.writer.appendedRecords == 3)
        #expect(try Support.drain(reader).map(\.payload) == [[1, 0xAA], [2, 0xAA], [3, 0xAA]])

        // An empty commit touches nothing.
        operations.clearCalls()
        try spool.writer.commitStaged()
        #expect(Self.segmentIO(operations.calls).isEmpty)
        #expect(operations.strayCalls.isEmpty)
    }

    @Test func aFailedBatchWriteKeepsTheBatchStagedAndTheRetryStoresItOnce() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        let spool = try FrameSpool(directory: directory, options: SpoolOptions(), operations: operations, clock: .system)
        let reader = spool.makeReader()
        for index in 1...3 { Self.stage(spool.writer, payload: [UInt8(index)]) }
        operations.failNextWrite(errno: ENOSPC, afterWriting: 10)
        let error = #expect(throws: SpoolError.self) { try spool.writer.commitStaged() }
        #expect(error?.code == .writeFailed)
        #expect(spool.writer.failure?.code == .writeFailed)
        #expect(spool.writer.stagedRecords == 3, "the whole batch stays unacknowledged")
        #expect(try Support.fileSize(Support.segmentPath(directory, 1)) == 0, "the partial batch was cut")
        #expect(try Support.drain(reader).isEmpty)

        try spool.writer.commitStaged()
        #expect(spool.writer.failure == nil)
        #expect(try Support.drain(reader).map(\.payload) == [[1], [2], [3]])
        #expect(operations.strayCalls.isEmpty)
    }

    @Test func aFailedBatchSyncRetiresTheSegmentAndTheRetryStoresTheBatchInAFreshSyncedSegment() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        let segment1 = Support.segmentPath(directory, 1)
        let segment2 = Support.segmentPath(directory, 2)
        do {
            let spool = try FrameSpool(
                directory: directory,
                options: SpoolOptions(),
                operations: operations,
                clock: .system
            )
            let reader = spool.makeReader()
            for index in 1...2 { Self.stage(spool.writer, payload: [UInt8(index)]) }
            try spool.writer.commitStaged()
            for index in 3...4 { Self.stage(spool.writer, payload: [UInt8(index)]) }
            operations.failNextSyncs(1, errno: EIO)
            let error = #expect(throws: SpoolError.self) { try spool.writer.commitStaged() }
            #expect(error?.code == .syncFailed)
            #expect(spool.writer.failure?.code == .syncFailed)
            #expect(spool.writer.stagedRecords == 2)
            // Segment 1 ends after the first (durable) batch; the failed batch's bytes are cut.
            #expect(try Support.fileSize(segment1) == 2 * Support.recordBytes(payload: 1))
            #expect(try Support.drain(reader).map(\.payload) == [[1], [2]])

            operations.clearCalls()
            try spool.writer.commitStaged()
            #expect(spool.writer.failure == nil)
            let name2 = (segment2 as NSString).lastPathComponent
            let io = Self.segmentIO(operations.calls)
            #expect(io.last == "fdatasync \(name2) -> 0", "the retried batch ends with a sync of the fresh segment: \(io)")
            #expect(!io.contains { $0.hasPrefix("fdatasync \((segment1 as NSString).lastPathComponent)") })
            #expect(try Support.drain(reader).map(\.payload) == [[3], [4]])
        }
        let reopened = try FrameSpool(directory: directory)
        #expect(try Support.drain(reopened.makeReader()).map(\.payload) == [[1], [2], [3], [4]])
        #expect(operations.strayCalls.isEmpty)
    }

    @Test func theReaderReadsACommittedBatchWithOnePreadAcrossCalls() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        let spool = try FrameSpool(directory: directory, options: SpoolOptions(), operations: operations, clock: .system)
        let reader = spool.makeReader()
        for index in 0..<100 { Self.stage(spool.writer, payload: [UInt8(index)]) }
        try spool.writer.commitStaged()
        operations.clearCalls()
        // Support.drain asks for 5 records per call: 20 calls, one read of the segment.
        #expect(try Support.drain(reader).map(\.payload) == (0..<100).map { [UInt8($0)] })
        let reads = operations.calls.filter { if case .pread = $0 { true } else { false } }
        #expect(reads.count == 1, "\(reads)")

        // New frames after the window are read fresh, and a rewind re-reads from the window.
        for index in 100..<103 { Self.stage(spool.writer, payload: [UInt8(index)]) }
        try spool.writer.commitStaged()
        #expect(try Support.drain(reader).map(\.payload) == [[100], [101], [102]])
        reader.rewind()
        #expect(try Support.drain(reader).count == 103)
    }
}
