import Foundation
import GatewayCore
import Synchronization
import Testing

@testable import MQTTIngest

#if canImport(Glibc)
import Glibc
#endif

/// One file-system call the spool made through ``FaultyFileOperations``.
enum SpoolFileCall: Equatable {
    case open(path: String, result: Int)
    case write(fd: Int32, path: String, bytes: Int, result: Int)
    case pread(fd: Int32, path: String)
    case fdatasync(fd: Int32, path: String, result: Int)
    case ftruncate(fd: Int32, path: String, length: Int64, result: Int)
    case close(fd: Int32, path: String)
    case rename(from: String, to: String, result: Int)
    case unlink(path: String, result: Int)
    case fsyncDirectory(path: String, result: Int)
}

/// Real POSIX file operations that record every call, refuse any call on a descriptor they did not open (or
/// already closed), and fail chosen calls on demand.
final class FaultyFileOperations: SpoolFileOperations {
    private struct Fault {
        var suffix: String
        var errorNumber: Int32
        var count: Int
        /// For writes: bytes to write for real before the failing call (a short write).
        var partialBytes: Int = 0
    }

    private struct State {
        var calls: [SpoolFileCall] = []
        var open: [Int32: String] = [:]
        var stray: [String] = []
        var writeFaults: [Fault] = []
        var syncFaults: [Fault] = []
        var openFaults: [Fault] = []
        var truncateFaults: [Fault] = []
        var directorySyncFaults: [Fault] = []
    }

    private let real = PosixSpoolFileOperations()
    private let state = Mutex(State())

    /// Every call so far, in order.
    var calls: [SpoolFileCall] { state.withLock { $0.calls } }
    /// Calls made on a descriptor that was not open through these operations (closed, or never opened).
    var strayCalls: [String] { state.withLock { $0.stray } }

    func clearCalls() { state.withLock { $0.calls.removeAll() } }

    /// Fails the next write to a file whose path ends with `suffix`, after first letting `partialBytes` through.
    func failNextWrite(errno: Int32, afterWriting partialBytes: Int = 0, pathEndingWith suffix: String = ".spool") {
        state.withLock {
            $0.writeFaults.append(Fault(suffix: suffix, errorNumber: errno, count: 1, partialBytes: partialBytes))
        }
    }

    /// Drops every write fault not used yet (the disk "recovers").
    func clearWriteFaults() { state.withLock { $0.writeFaults.removeAll() } }

    /// Fails the next `count` fdatasync calls on files whose path ends with `suffix`.
    func failNextSyncs(_ count: Int, errno: Int32, pathEndingWith suffix: String = ".spool") {
        state.withLock { $0.syncFaults.append(Fault(suffix: suffix, errorNumber: errno, count: count)) }
    }

    /// Fails the next `count` opens of paths ending with `suffix`.
    func failNextOpens(_ count: Int, errno: Int32, pathEndingWith suffix: String) {
        state.withLock { $0.openFaults.append(Fault(suffix: suffix, errorNumber: errno, count: count)) }
    }

    /// Fails the next `count` ftruncate calls on files whose path ends with `suffix`.
    func failNextTruncates(_ count: Int, errno: Int32, pathEndingWith suffix: String = ".spool") {
        state.withLock { $0.truncateFaults.append(Fault(suffix: suffix, errorNumber: errno, count: count)) }
    }

    /// Takes the fault for `path` from `faults`, if any.
    private static func take(_ faults: inout [Fault], for path: String) -> Fault? {
        guard let index = faults.firstIndex(where: { path.hasSuffix($0.suffix) }) else { return nil }
        let fault = faults[index]
        faults[index].count -= 1
        if faults[index].count == 0 { faults.remove(at: index) }
        return fault
    }

    func open(_ path: String, flags: Int32, mode: mode_t) -> Int {
        state.withLock { state in
            if let fault = Self.take(&state.openFaults, for: path) {
                state.calls.append(.open(path: path, result: -Int(fault.errorNumber)))
                return -Int(fault.errorNumber)
            }
            let result = real.open(path, flags: flags, mode: mode)
            if result >= 0 { state.open[Int32(result)] = path }
            state.calls.append(.open(path: path, result: result))
            return result
        }
    }

    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        state.withLock { state in
            guard let path = state.open[fd] else {
                state.stray.append("write on fd \(fd)")
                return -Int(EBADF)
            }
            var result: Int
            if let index = state.writeFaults.firstIndex(where: { path.hasSuffix($0.suffix) }) {
                if state.writeFaults[index].partialBytes > 0 {
                    let count = min(state.writeFaults[index].partialBytes, bytes.count)
                    state.writeFaults[index].partialBytes = 0
                    result = real.write(fd, UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
                } else {
                    result = -Int(state.writeFaults[index].errorNumber)
                    state.writeFaults.remove(at: index)
                }
            } else {
                result = real.write(fd, bytes)
            }
            state.calls.append(.write(fd: fd, path: path, bytes: bytes.count, result: result))
            return result
        }
    }

    func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int {
        state.withLock { state in
            guard let path = state.open[fd] else {
                state.stray.append("pread on fd \(fd)")
                return -Int(EBADF)
            }
            state.calls.append(.pread(fd: fd, path: path))
            return real.pread(fd, buffer, at: offset)
        }
    }

    func fdatasync(_ fd: Int32) -> Int {
        state.withLock { state in
            guard let path = state.open[fd] else {
                state.stray.append("fdatasync on fd \(fd)")
                return -Int(EBADF)
            }
            let result: Int
            if let fault = Self.take(&state.syncFaults, for: path) {
                result = -Int(fault.errorNumber)
            } else {
                result = real.fdatasync(fd)
            }
            state.calls.append(.fdatasync(fd: fd, path: path, result: result))
            return result
        }
    }

    func ftruncate(_ fd: Int32, to length: Int64) -> Int {
        state.withLock { state in
            guard let path = state.open[fd] else {
                state.stray.append("ftruncate on fd \(fd)")
                return -Int(EBADF)
            }
            let result: Int
            if let fault = Self.take(&state.truncateFaults, for: path) {
                result = -Int(fault.errorNumber)
            } else {
                result = real.ftruncate(fd, to: length)
            }
            state.calls.append(.ftruncate(fd: fd, path: path, length: length, result: result))
            return result
        }
    }

    func size(_ fd: Int32) -> Int64 {
        state.withLock { state in
            guard state.open[fd] != nil else {
                state.stray.append("size on fd \(fd)")
                return -Int64(EBADF)
            }
            return real.size(fd)
        }
    }

    func close(_ fd: Int32) -> Int {
        state.withLock { state in
            guard let path = state.open.removeValue(forKey: fd) else {
                state.stray.append("close on fd \(fd)")
                return -Int(EBADF)
            }
            state.calls.append(.close(fd: fd, path: path))
            return real.close(fd)
        }
    }

    func rename(_ from: String, to: String) -> Int {
        state.withLock { state in
            let result = real.rename(from, to: to)
            state.calls.append(.rename(from: from, to: to, result: result))
            return result
        }
    }

    func unlink(_ path: String) -> Int {
        state.withLock { state in
            let result = real.unlink(path)
            state.calls.append(.unlink(path: path, result: result))
            return result
        }
    }

    func fsyncDirectory(_ path: String) -> Int {
        state.withLock { state in
            let result: Int
            if let fault = Self.take(&state.directorySyncFaults, for: path) {
                result = -Int(fault.errorNumber)
            } else {
                result = real.fsyncDirectory(path)
            }
            state.calls.append(.fsyncDirectory(path: path, result: result))
            return result
        }
    }
}

/// A clock the test moves by hand.
final class ManualSpoolClock: Sendable {
    let milliseconds = Atomic<Int64>(0)
    let wallMicroseconds = Atomic<Int64>(1_767_225_600_000_000)  // 2026-01-01T00:00:00Z

    var clock: SpoolClock {
        SpoolClock(
            wall: { Timestamp(microsecondsSinceEpoch: self.wallMicroseconds.load(ordering: .relaxed)) },
            monotonicMilliseconds: { self.milliseconds.load(ordering: .relaxed) }
        )
    }

    /// The wall-clock time the spool reads, in µs since 1970.
    var wall: Int64 { wallMicroseconds.load(ordering: .relaxed) }

    func advance(milliseconds: Int64) {
        self.milliseconds.add(milliseconds, ordering: .relaxed)
    }
}

/// A record as the tests compare it.
struct DeliveredRecord: Equatable {
    var topic: String
    var payload: [UInt8]
    var receivedAt: Int64
    var position: SpoolPosition
    var isCorrupt: Bool
    var damagedByteCount: Int64
}

enum SpoolTestSupport {
    static func makeDirectory() -> String {
        NSTemporaryDirectory() + "spool-test-" + UUID().uuidString
    }

    static func append(_ writer: SpoolWriter, topic: String = "t", payload: [UInt8], at micros: Int64 = 1) throws {
        let topicBytes = Array(topic.utf8)
        try topicBytes.withUnsafeBytes { topicRaw in
            try payload.withUnsafeBytes { payloadRaw in
                try writer.append(
                    topic: topicRaw,
                    payload: payloadRaw,
                    receivedAt: Timestamp(microsecondsSinceEpoch: micros)
                )
            }
        }
    }

    static func drain(_ reader: SpoolReader) throws -> [DeliveredRecord] {
        var out: [DeliveredRecord] = []
        while try reader.read(
            maxRecords: 5,
            {
                out.append(
                    DeliveredRecord(
                        topic: $0.topicString,
                        payload: Array($0.payload),
                        receivedAt: $0.receivedAt.microsecondsSinceEpoch,
                        position: $0.position,
                        isCorrupt: $0.isCorrupt,
                        damagedByteCount: $0.damagedByteCount
                    )
                )
            }
        ) > 0 {}
        return out
    }

    static func segmentPath(_ directory: String, _ segment: UInt64) -> String {
        SpoolFiles.path(directory: directory, segment: segment)
    }

    static func segmentFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".spool") }.sorted()
    }

    static func fileSize(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.size] as? NSNumber)?.intValue ?? -1
    }

    /// Bytes of one record with topic "t": header, time, topic length, topic, payload.
    static func recordBytes(payload: Int) -> Int { 8 + 10 + 1 + payload }
}

@Suite struct SpoolFaultTests {
    typealias Support = SpoolTestSupport

    @Test func aFailedWriteThrowsHidesThePartialRecordAndTheRetriedAppendStoresTheFrame() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        do {
            let spool = try FrameSpool(
                directory: directory,
                options: SpoolOptions(fsyncIntervalMilliseconds: 0),
                operations: operations,
                clock: .system
            )
            let reader = spool.makeReader()
            try Support.append(spool.writer, payload: [1])
            try Support.append(spool.writer, payload: [2])

            // The disk fills up in the middle of the third record: 5 bytes land, then ENOSPC.
            operations.failNextWrite(errno: ENOSPC, afterWriting: 5)
            let error = #expect(throws: SpoolError.self) { try Support.append(spool.writer, payload: [3, 3, 3]) }
            #expect(error?.code == .writeFailed)
            #expect(error?.errorNumber == ENOSPC)
            #expect(spool.writer.failure?.code == .writeFailed)
            #expect(!spool.writer.isHealthy)
            #expect(spool.writer.failedWrites == 1)

            // Nothing half-written is visible: the segment ends after the second record.
            #expect(try Support.drain(reader).map(\.payload) == [[1], [2]])
            #expect(try Support.fileSize(Support.segmentPath(directory, 1)) == 2 * Support.recordBytes(payload: 1))

            // The fault has cleared: the callback's retry stores the frame and the writer is healthy again.
            try Support.append(spool.writer, payload: [3, 3, 3])
            try Support.append(spool.writer, payload: [4])
            #expect(spool.writer.failure == nil)
            #expect(try Support.drain(reader).map(\.payload) == [[3, 3, 3], [4]])
            #expect(reader.corruptRecords == 0)
        }
        // After a restart exactly the good records are replayed: no torn tail, no corrupt record.
        let reopened = try FrameSpool(directory: directory)
        #expect(reopened.discardedTornRecords == 0)
        #expect(reopened.damagedRangesAtOpen == 0)
        let replayed = try Support.drain(reopened.makeReader())
        #expect(replayed.map(\.payload) == [[1], [2], [3, 3, 3], [4]])
        #expect(replayed.allSatisfy { !$0.isCorrupt })
        #expect(operations.strayCalls.isEmpty)
    }

    @Test func whenThePartialRecordCannotBeCutTheSegmentIsRetiredAndTheReaderNeverSeesIt() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(fsyncIntervalMilliseconds: 0),
            operations: operations,
            clock: .system
        )
        let reader = spool.makeReader()
        try Support.append(spool.writer, payload: [1])
        operations.failNextWrite(errno: EIO, afterWriting: 7)
        operations.failNextTruncates(1, errno: EIO)
        #expect(throws: SpoolError.self) { try Support.append(spool.writer, payload: [2, 2]) }
        // The 7 partial bytes stay in segment 1, but the writer stopped using it.
        #expect(try Support.fileSize(Support.segmentPath(directory, 1)) == Support.recordBytes(payload: 1) + 7)

        try Support.append(spool.writer, payload: [2, 2])
        #expect(spool.writer.failure == nil)
        let records = try Support.drain(reader)
        #expect(records.map(\.payload) == [[1], [2, 2]])
        #expect(records.map(\.position.segment) == [1, 2])
        #expect(reader.corruptRecords == 0)
        #expect(operations.strayCalls.isEmpty)
    }

    @Test func aFailedFdatasyncFailsClosedAndReStoresTheUnsyncedFramesInAFreshSegment() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        let time = ManualSpoolClock()
        let segment1 = Support.segmentPath(directory, 1)
        let segment2 = Support.segmentPath(directory, 2)
        do {
            let spool = try FrameSpool(
                directory: directory,
                options: SpoolOptions(fsyncIntervalMilliseconds: 1000),
                operations: operations,
                clock: time.clock
            )
            // Four frames are acknowledged (append returned) but not yet synced.
            for index in 1...4 { try Support.append(spool.writer, payload: [UInt8(index)]) }
            #expect(!operations.calls.contains { if case .fdatasync = $0 { true } else { false } })

            // The interval has passed: the fifth append syncs, and the sync fails.
            operations.failNextSyncs(1, errno: EIO)
            time.advance(milliseconds: 1000)
            let error = #expect(throws: SpoolError.self) { try Support.append(spool.writer, payload: [5]) }
            #expect(error?.code == .syncFailed)
            #expect(spool.writer.failure?.code == .syncFailed)
            #expect(spool.writer.failedSyncs == 1)
            // The failing frame's bytes were cut: segment 1 ends at the last acknowledged record.
            #expect(try Support.fileSize(segment1) == 4 * Support.recordBytes(payload: 1))

            // The callback retries the frame: a fresh segment receives copies of the four unsynced frames,
            // is synced, and then the frame.
            try Support.append(spool.writer, payload: [5])
            #expect(spool.writer.failure == nil)

            let calls = operations.calls
            let segment1Syncs = calls.filter { if case .fdatasync(_, segment1, _) = $0 { true } else { false } }
            #expect(segment1Syncs.count == 1, "the failed descriptor is never synced again: \(segment1Syncs)")
            let closedSegment1 = calls.firstIndex { if case .close(_, segment1) = $0 { true } else { false } }
            let createdSegment2 = calls.firstIndex { if case .open(segment2, let fd) = $0 { fd >= 0 } else { false } }
            let syncedSegment2 = calls.firstIndex {
                if case .fdatasync(_, segment2, 0) = $0 { true } else { false }
            }
            let folderSynced = calls.lastIndex { if case .fsyncDirectory(directory, 0) = $0 { true } else { false } }
            let lastWrite = calls.lastIndex { if case .write(_, segment2, _, _) = $0 { true } else { false } }
            let unwrapped = try #require(
                closedSegment1.flatMap { a in
                    createdSegment2.flatMap { b in
                        folderSynced.flatMap { c in syncedSegment2.flatMap { d in lastWrite.map { (a, b, c, d, $0) } } }
                    }
                }
            )
            #expect(unwrapped.0 < unwrapped.1, "segment 1 is closed before segment 2 is created")
            #expect(unwrapped.1 < unwrapped.2, "the folder entry of segment 2 is synced")
            #expect(unwrapped.2 < unwrapped.3, "the copies are synced...")
            #expect(unwrapped.3 < unwrapped.4, "...before the retried frame is written")

            let records = try Support.drain(spool.makeReader())
            #expect(records.map(\.payload) == [[1], [2], [3], [4], [1], [2], [3], [4], [5]])
        }
        // Power loss could leave segment 1 without its unsynced tail. Even then every acknowledged frame is back.
        try FileHandle(forWritingAtPath: segment1).map { handle in
            try handle.truncate(atOffset: 0)
            try handle.close()
        }
        let reopened = try FrameSpool(directory: directory)
        #expect(try Support.drain(reopened.makeReader()).map(\.payload) == [[1], [2], [3], [4], [5]])
        #expect(operations.strayCalls.isEmpty)
    }

    @Test func afterAFailedSyncTheWriterRecoversOnlyOnceAFreshSegmentSyncs() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        let segment2 = Support.segmentPath(directory, 2)
        // Every append syncs, so only the failing frame itself is unsynced: there is nothing to re-store.
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(fsyncIntervalMilliseconds: 0),
            operations: operations,
            clock: .system
        )
        try Support.append(spool.writer, payload: [1])
        operations.failNextSyncs(2, errno: EIO)
        #expect(throws: SpoolError.self) { try Support.append(spool.writer, payload: [2]) }
        // The retry gets a fresh segment, but its sync fails too: still failed, the frame still not acknowledged.
        let error = #expect(throws: SpoolError.self) { try Support.append(spool.writer, payload: [2]) }
        #expect(error?.code == .syncFailed)
        #expect(spool.writer.failure?.code == .syncFailed)
        try Support.append(spool.writer, payload: [2])
        #expect(spool.writer.failure == nil)

        let calls = operations.calls
        let provenSync = try #require(
            calls.firstIndex { if case .fdatasync(_, segment2, 0) = $0 { true } else { false } }
        )
        let firstWrite = try #require(
            calls.firstIndex { if case .write(_, segment2, _, _) = $0 { true } else { false } }
        )
        #expect(provenSync < firstWrite, "syncing is proven on the fresh segment before a frame goes into it")
        let records = try Support.drain(spool.makeReader())
        #expect(records.map(\.payload) == [[1], [2]], "the failed frame's bytes were cut from segment 1")
        #expect(records.map(\.position.segment) == [1, 2])
        #expect(operations.strayCalls.isEmpty)
    }

    @Test func recoveryRetriesUntilAFreshSegmentSyncsAndSkipsFramesAlreadyCommitted() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        let time = ManualSpoolClock()
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(fsyncIntervalMilliseconds: 1000),
            operations: operations,
            clock: time.clock
        )
        let reader = spool.makeReader()
        for index in 1...4 { try Support.append(spool.writer, payload: [UInt8(index)]) }
        // The pipeline committed the first two frames to the database.
        #expect(try reader.read(maxRecords: 2) { _ in } == 2)
        try reader.commit()

        // The periodic sync fails; then the first recovery attempt fails too (its fresh segment cannot be synced).
        operations.failNextSyncs(2, errno: EIO)
        time.advance(milliseconds: 1000)
        spool.writer.syncIfDue()
        #expect(spool.writer.failure?.code == .syncFailed)
        time.advance(milliseconds: 500)
        spool.writer.syncIfDue()
        #expect(spool.writer.failure?.code == .syncFailed)
        #expect(spool.writer.failedSyncs == 2)
        #expect(try Support.segmentFiles(directory) == ["0000000000000001.spool"], "the failed attempt leaves nothing")

        // Recovery is paced: no new attempt within 500 ms.
        operations.clearCalls()
        spool.writer.syncIfDue()
        #expect(operations.calls.isEmpty)

        // The next attempt succeeds without any new frame arriving.
        time.advance(milliseconds: 500)
        spool.writer.syncIfDue()
        #expect(spool.writer.failure == nil)
        let records = try Support.drain(reader)
        // Frames 3 and 4 from segment 1, then their durable copies in segment 2; 1 and 2 were committed already.
        #expect(records.map(\.payload) == [[3], [4], [3], [4]])
        #expect(records.map(\.position.segment) == [1, 1, 2, 2])
        try Support.append(spool.writer, payload: [5])
        #expect(try Support.drain(reader).map(\.payload) == [[5]])
        #expect(operations.strayCalls.isEmpty)
    }

    @Test func aFailedSegmentChangeNeverWritesToTheClosedDescriptorAndTheNextAppendOpensAFreshSegment() throws {
        let directory = Support.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operations = FaultyFileOperations()
        let segment1 = Support.segmentPath(directory, 1)
        let segment2 = Support.segmentPath(directory, 2)
        let time = ManualSpoolClock()
        // Two 40-byte frames (59-byte records) fill a 100-byte segment.
        let spool = try FrameSpool(
            directory: directory,
            options: SpoolOptions(segmentBytes: 100, fsyncIntervalMilliseconds: 0),
            operations: operations,
            clock: time.clock
        )
        let payload = { (index: UInt8) in [index] + [UInt8](repeating: 0xEE, count: 39) }
        operations.failNextOpens(2, errno: EMFILE, pathEndingWith: "/0000000000000002.spool")
        try Support.append(spool.writer, payload: payload(1))
        try Support.append(spool.writer, payload: payload(2))  // fills segment 1, which is synced and closed
        #expect(operations.calls.contains { if case .close(_, segment1) = $0 { true } else { false } })

        for attempt in 1...2 {
            let error = #expect(throws: SpoolError.self) { try Support.append(spool.writer, payload: payload(3)) }
            #expect(error?.code == .openFailed)
            #expect(error?.errorNumber == EMFILE)
            #expect(spool.writer.failure?.code == .openFailed)
            #expect(spool.writer.failedWrites == Int64(attempt))
        }
        // The pipeline's periodic call retries too, so readiness returns even before the next frame arrives.
        time.advance(milliseconds: 500)
        spool.writer.syncIfDue()
        #expect(spool.writer.failure == nil)
        #expect(FileManager.default.fileExists(atPath: segment2))
        try Support.append(spool.writer, payload: payload(3))

        // No call ever reached a closed (possibly reused) descriptor number.
        #expect(operations.strayCalls.isEmpty)
        let calls = operations.calls
        let closedSegment1 = try #require(calls.firstIndex { if case .close(_, segment1) = $0 { true } else { false } })
        let writesAfterClose = calls[closedSegment1...].compactMap { call -> String? in
            if case .write(_, let path, _, _) = call { path } else { nil }
        }
        #expect(writesAfterClose == [segment2])
        let opened = try #require(calls.firstIndex { if case .open(segment2, let fd) = $0 { fd >= 0 } else { false } })
        let firstWrite = try #require(
            calls.firstIndex { if case .write(_, segment2, _, _) = $0 { true } else { false } }
        )
        #expect(
            calls[opened..<firstWrite].contains { if case .fsyncDirectory(directory, 0) = $0 { true } else { false } },
            "the new segment's folder entry is synced before anything is written to it"
        )
        #expect(try Support.drain(spool.makeReader()).map { $0.payload[0] } == [1, 2, 3])
    }
}
