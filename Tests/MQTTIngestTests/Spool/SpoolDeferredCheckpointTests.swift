import Foundation
import GatewayCore
import Testing

@testable import MQTTIngest

@Suite struct SpoolDeferredCheckpointTests {
    typealias Support = SpoolTestSupport

    func checkpointFile(_ directory: String) throws -> String {
        try String(contentsOfFile: directory + "/checkpoint", encoding: .utf8)
    }

    func text(_ position: SpoolPosition) -> String { "v1 \(position.segment) \(position.offset)\n" }

    @Test func theCheckpointFileFollowsAtMostOncePerInterval() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let time = ManualSpoolClock()
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(),
            operations: PosixSpoolFileOperations(),
            clock: time.clock
        )
        for index in 0..<6 { try Support.append(spool.writer, payload: [UInt8(index)]) }
        let reader = spool.makeReader()

        // The first commit writes the checkpoint at once.
        #expect(try reader.read(maxRecords: 2) { _ in } == 2)
        try reader.commit(checkpointAtMostEvery: 1000)
        let first = reader.readPosition
        #expect(try checkpointFile(directory) == text(first))
        #expect(!reader.hasUncheckpointedCommits)

        // Within the interval: committed (a rewind does not hand those records out again), not yet checkpointed,
        // and their backlog is not freed.
        time.advance(milliseconds: 400)
        #expect(try reader.read(maxRecords: 2) { _ in } == 2)
        let backlog = spool.backlogBytes
        try reader.commit(checkpointAtMostEvery: 1000)
        let second = reader.readPosition
        #expect(try checkpointFile(directory) == text(first))
        #expect(reader.hasUncheckpointedCommits)
        #expect(spool.backlogBytes == backlog)
        #expect(try reader.read(maxRecords: 1) { _ in } == 1)
        reader.rewind()
        let again = try Support.drain(reader)
        #expect(again.map { $0.payload[0] } == [4, 5], "a rewind returns to the last commit, not to the checkpoint")
        reader.rewind()
        #expect(reader.readPosition == second)

        // Once the interval has passed the next commit writes it and frees the backlog of every committed record.
        time.advance(milliseconds: 600)
        #expect(try reader.read(maxRecords: 2) { _ in } == 2)
        try reader.commit(checkpointAtMostEvery: 1000)
        #expect(try checkpointFile(directory) == text(reader.readPosition))
        #expect(spool.backlogBytes == 0)
        #expect(!reader.hasUncheckpointedCommits)
    }

    /// A consumer that reads ahead commits only what its mark covers: the checkpoint, the backlog and a rewind stop
    /// at the mark, and the records read after it are handed out again (also after a checkpoint written meanwhile).
    @Test func aCommitThroughAMarkLeavesTheRecordsReadAfterItUncommitted() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let time = ManualSpoolClock()
        do {
            let spool = try FrameSpool(
                directory: directory,
                options: SpoolOptions(),
                operations: PosixSpoolFileOperations(),
                clock: time.clock
            )
            for index in 0..<8 { try Support.append(spool.writer, payload: [UInt8(index), 0, 0, 0]) }
            let reader = spool.makeReader()
            let total = spool.backlogBytes

            #expect(try reader.read(maxRecords: 3) { _ in } == 3)
            let first = reader.mark
            #expect(try reader.read(maxRecords: 2) { _ in } == 2)
            try reader.commit(through: first, checkpointAtMostEvery: 0)
            #expect(try checkpointFile(directory) == text(first.position))
            #expect(spool.backlogBytes == total * 5 / 8, "three of eight equal records freed")
            reader.rewind()
            #expect(try Support.drain(reader).map { $0.payload[0] } == [3, 4, 5, 6, 7])
            reader.rewind()

            // A second mark, committed after a deferred commit moved the committed position without a checkpoint.
            #expect(try reader.read(maxRecords: 2) { _ in } == 2)
            let second = reader.mark
            #expect(try reader.read(maxRecords: 1) { _ in } == 1)
            try reader.commit(through: second, checkpointAtMostEvery: 1000)
            #expect(try checkpointFile(directory) == text(first.position), "within the interval: not yet written")
            reader.rewind()
            #expect(try Support.drain(reader).map { $0.payload[0] } == [5, 6, 7])
            reader.rewind()
            time.advance(milliseconds: 1000)
            #expect(try reader.read(maxRecords: 1) { _ in } == 1)
            let third = reader.mark
            #expect(try reader.read(maxRecords: 2) { _ in } == 2)
            try reader.commit(through: third, checkpointAtMostEvery: 1000)
            #expect(try checkpointFile(directory) == text(third.position))
            #expect(spool.backlogBytes == total * 2 / 8)
        }

        // A restart replays from the mark: the records read ahead were never committed.
        let reopened = try FrameSpool(
            directory: directory,
            options: SpoolOptions(),
            operations: PosixSpoolFileOperations(),
            clock: time.clock
        )
        #expect(try Support.drain(reopened.makeReader()).map { $0.payload[0] } == [6, 7])
    }

    @Test func checkpointCommittedWritesALaggingCheckpointAtOnce() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let time = ManualSpoolClock()
        do {
            let spool = try FrameSpool(
                directory: directory,
                options: SpoolOptions(),
                operations: PosixSpoolFileOperations(),
                clock: time.clock
            )
            for index in 0..<4 { try Support.append(spool.writer, payload: [UInt8(index)]) }
            let reader = spool.makeReader()
            #expect(try reader.read(maxRecords: 1) { _ in } == 1)
            try reader.commit(checkpointAtMostEvery: 1000)
            let first = reader.readPosition
            #expect(try reader.read(maxRecords: 1) { _ in } == 1)
            try reader.commit(checkpointAtMostEvery: 1000)
            // A restart now (the process killed) would replay record 1, committed after the checkpoint: harmless.
            #expect(try checkpointFile(directory) == text(first))
            #expect(reader.hasUncheckpointedCommits)
            try reader.checkpointCommitted()
            #expect(try checkpointFile(directory) == text(reader.readPosition))
            #expect(!reader.hasUncheckpointedCommits)
            #expect(spool.backlogBytes > 0, "the records read after the last commit are still pending")
        }
        let reopened = try FrameSpool(directory: directory)
        #expect(try Support.drain(reopened.makeReader()).map { $0.payload[0] } == [2, 3])
    }
}
