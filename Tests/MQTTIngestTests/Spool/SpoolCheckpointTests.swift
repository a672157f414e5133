import Foundation
import GatewayCore
import Testing

@testable import MQTTIngest

#if canImport(Glibc)
import Glibc
#endif

@Suite struct SpoolCheckpointTests {
    typealias Support = SpoolTestSupport

    @Test func theCheckpointIsReplacedThroughASyncedTemporaryFileAndASyncedFolder() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(),
            operations: operations,
            clock: .system
        )
        for index in 0..<3 { try Support.append(spool.writer, payload: [UInt8(index)]) }
        let reader = spool.makeReader()
        #expect(try Support.drain(reader).count == 3)

        operations.clearCalls()
        try reader.commit()
        let temporary = directory + "/checkpoint.tmp"
        let calls = operations.calls
        guard case .open(temporary, let opened) = calls.first, opened >= 0 else {
            Issue.record("the commit starts by creating the temporary file: \(calls)")
            return
        }
        let fd = Int32(opened)
        let expected: [SpoolFileCall] = [
            .open(path: temporary, result: opened),
            .write(fd: fd, path: temporary, bytes: 8, result: 8),
            .fdatasync(fd: fd, path: temporary, result: 0),
            .close(fd: fd, path: temporary),
            .rename(from: temporary, to: directory + "/checkpoint", result: 0),
            .fsyncDirectory(path: directory, result: 0),
        ]
        #expect(calls == expected)
        #expect(try String(contentsOfFile: directory + "/checkpoint", encoding: .utf8) == "v1 1 60\n")
    }

    @Test func aFailedCheckpointSyncKeepsThePreviousCheckpointAndTheBacklog() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(),
            operations: operations,
            clock: .system
        )
        for index in 0..<4 { try Support.append(spool.writer, payload: [UInt8(index)]) }
        let reader = spool.makeReader()
        try reader.read(maxRecords: 2) { _ in }
        try reader.commit()
        try reader.read(maxRecords: 2) { _ in }
        let backlog = spool.backlogBytes

        operations.clearCalls()
        operations.failNextSyncs(1, errno: EIO, pathEndingWith: "checkpoint.tmp")
        let error = #expect(throws: SpoolError.self) { try reader.commit() }
        #expect(error?.code == .syncFailed)
        #expect(
            !operations.calls.contains { if case .rename = $0 { true } else { false } },
            "no rename after a failed sync"
        )
        #expect(try String(contentsOfFile: directory + "/checkpoint", encoding: .utf8) == "v1 1 40\n")
        #expect(spool.backlogBytes == backlog, "backlog is freed only by a durable checkpoint")

        try reader.commit()
        #expect(try String(contentsOfFile: directory + "/checkpoint", encoding: .utf8) == "v1 1 80\n")
        #expect(spool.backlogBytes == 0)
    }

    @Test(arguments: ["", "garbage", "v1 x 5\n", "v1 3 -1\n"])
    func anUnusableCheckpointReplaysFromTheOldestSegment(contents: String) throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            // Two 40-byte frames fill each 100-byte segment.
            let spool = try FrameSpool(directory: directory, options: SpoolOptions(segmentBytes: 100))
            for index in 0..<10 {
                try Support.append(spool.writer, payload: [UInt8(index)] + [UInt8](repeating: 0, count: 39))
            }
            let reader = spool.makeReader()
            #expect(try reader.read(maxRecords: 4) { _ in } == 4)
            try reader.commit()  // checkpoint in segment 2; segment 1 is deleted
        }
        #expect(try Support.segmentFiles(directory).first == "0000000000000002.spool")
        // An older version (or a broken disk) left an empty or malformed checkpoint.
        #expect(FileManager.default.createFile(atPath: directory + "/checkpoint", contents: Data(contents.utf8)))

        let reopened = try FrameSpool(directory: directory)
        #expect(reopened.checkpointWasUnreadable)
        #expect(reopened.checkpointProblem != nil)
        #expect(reopened.checkpoint == SpoolPosition(segment: 2, offset: 0))
        // Replay starts at the oldest segment present: frames 2 and 3 come again (harmless), nothing is skipped.
        let replayed = try Support.drain(reopened.makeReader())
        #expect(replayed.map { $0.payload[0] } == Array(2..<10))
        #expect(replayed.allSatisfy { !$0.isCorrupt })
    }

    @Test func aCheckpointNamingAMissingSegmentReplaysFromTheNextSegment() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let spool = try FrameSpool(directory: directory, options: SpoolOptions(segmentBytes: 100))
            for index in 0..<6 {
                try Support.append(spool.writer, payload: [UInt8(index)] + [UInt8](repeating: 0, count: 39))
            }
        }
        try "v1 1 59\n".write(toFile: directory + "/checkpoint", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: Support.segmentPath(directory, 1))
        let reopened = try FrameSpool(directory: directory)
        #expect(reopened.checkpointWasUnreadable)
        #expect(reopened.checkpoint == SpoolPosition(segment: 2, offset: 0))
        #expect(try Support.drain(reopened.makeReader()).map { $0.payload[0] } == [2, 3, 4, 5])
    }
}
