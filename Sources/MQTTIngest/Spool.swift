import Dispatch
import GatewayCore
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A position in the spool: a segment number and a byte offset inside that segment.
public struct SpoolPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var segment: UInt64
    public var offset: Int64

    public init(segment: UInt64, offset: Int64) {
        self.segment = segment
        self.offset = offset
    }

    public static func < (lhs: SpoolPosition, rhs: SpoolPosition) -> Bool {
        (lhs.segment, lhs.offset) < (rhs.segment, rhs.offset)
    }

    public var description: String { "\(segment):\(offset)" }
}

/// Settings of the durable spool.
public struct SpoolOptions: Sendable, Equatable {
    /// A segment is closed and a new one started once it holds this many bytes.
    public var segmentBytes: Int64
    /// `fdatasync` the active segment when this many milliseconds have passed since the last sync.
    /// `0` syncs after every frame. A process crash (kill -9) loses nothing either way; an operating-system
    /// crash or power loss loses at most this interval of received frames.
    public var fsyncIntervalMilliseconds: Int64
    /// The receive callback blocks (backpressure) while this many bytes are received but not yet committed.
    public var maxBacklogBytes: Int64

    public init(
        segmentBytes: Int64 = 64 << 20,
        fsyncIntervalMilliseconds: Int64 = 200,
        maxBacklogBytes: Int64 = 256 << 20
    ) {
        self.segmentBytes = segmentBytes
        self.fsyncIntervalMilliseconds = fsyncIntervalMilliseconds
        self.maxBacklogBytes = maxBacklogBytes
    }
}

/// Errors of the spool. Descriptions name the file and the system error, never frame bytes.
public struct SpoolError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var errno: Int32

    init(_ message: String, errno: Int32 = 0) {
        self.message = message
        self.errno = errno
    }

    public var description: String {
        errno == 0 ? "spool: \(message)" : "spool: \(message): \(String(cString: strerror(errno)))"
    }
}

/// The durable, append-only log of every frame the gateway received, written before the receive callback returns.
///
/// Layout on disk: `<directory>/<segment, 16 digits>.spool` files and a `checkpoint` file. Each record is
/// `u32 length L, u32 CRC-32C of the next L bytes, i64 receive time (µs since 1970), u16 topic length T,
/// T bytes of topic, L − 10 − T bytes of payload`, all little-endian.
///
/// The checkpoint names the position up to which every record is committed to the database. It only moves
/// forward, after a commit. On open, everything after the checkpoint is replayed; a torn record at the tail
/// (left by an operating-system crash mid-write) is cut off and counted. Segments wholly before the checkpoint
/// are deleted.
///
/// One ``SpoolWriter`` (the MQTT network thread) appends; one ``SpoolReader`` (the pipeline) reads and commits.
public final class FrameSpool: Sendable {
    /// The appending side. Safe to call from the MQTT network thread.
    public let writer: SpoolWriter
    /// Where replay starts: the last committed position.
    public let checkpoint: SpoolPosition
    /// Bytes received but not yet committed when the spool was opened (the replay backlog).
    public let replayBytes: Int64
    /// Records dropped at open because they were torn or corrupt (with their bytes saved beside the segment).
    public let discardedTornRecords: Int
    let shared: SpoolShared
    let directory: String

    /// Opens (creating if needed) the spool in `directory`, recovers after a crash and starts a fresh segment.
    /// - Parameters:
    ///   - directory: The spool folder. It must be on a local file system.
    ///   - options: Segment size, fsync interval and backpressure limit.
    /// - Throws: ``SpoolError`` when the folder cannot be created, read or written.
    public init(directory: String, options: SpoolOptions = SpoolOptions()) throws {
        self.directory = directory
        try SpoolFiles.makeDirectory(directory)
        let checkpoint = try SpoolFiles.readCheckpoint(directory: directory)
        var segments = try SpoolFiles.segments(in: directory)
        let start = checkpoint ?? SpoolPosition(segment: segments.first ?? 1, offset: 0)
        // Drop segments wholly before the checkpoint (left behind if a crash came between commit and delete).
        for segment in segments where segment < start.segment {
            unlink(SpoolFiles.path(directory: directory, segment: segment))
        }
        segments.removeAll { $0 < start.segment }
        var pending: Int64 = 0
        var torn = 0
        for segment in segments {
            let from = segment == start.segment ? start.offset : 0
            let scan = try SpoolFiles.validate(directory: directory, segment: segment, from: from)
            pending += scan.validEnd - from
            torn += scan.tornRecords
        }
        let nextSegment = (segments.last ?? start.segment - 1) + 1
        let shared = SpoolShared(pendingBytes: pending)
        self.shared = shared
        self.checkpoint = start
        self.replayBytes = pending
        self.discardedTornRecords = torn
        self.writer = try SpoolWriter(
            directory: directory,
            firstSegment: max(nextSegment, start.segment),
            options: options,
            shared: shared
        )
    }

    /// Creates the reader that replays from the checkpoint and then follows the writer.
    /// Call it once; there is exactly one reader per spool.
    public func makeReader() -> SpoolReader {
        SpoolReader(directory: directory, start: checkpoint, shared: shared)
    }

    /// Waits until a record is appended or `timeout` passes, whichever is first. Wake-ups may be spurious.
    public func waitForAppend(timeout: Duration) async {
        await shared.doorbell.wait(timeout: timeout)
    }

    /// Bytes appended but not yet committed.
    public var backlogBytes: Int64 { shared.pendingBytes.load(ordering: .relaxed) }
}

/// Wakes the single reader when the writer appended. Safe against lost wake-ups: a ring with nobody waiting is
/// remembered and ends the next wait at once.
final class SpoolDoorbell: Sendable {
    private struct State {
        var waiter: CheckedContinuation<Void, Never>?
        var rung = false
    }

    private let state = Mutex(State())

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Waits for a ring, or until `timeout` passes. A Dispatch timer rings after the timeout, so the wait always
    /// ends without relying on task cancellation; a late timer only causes one harmless spurious wake-up.
    func wait(timeout: Duration) async {
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { [weak self] in self?.ring() }
        await waitForRing()
    }

    private func waitForRing() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyRung = state.withLock { state -> Bool in
                if state.rung {
                    state.rung = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if alreadyRung { continuation.resume() }
        }
    }
}

/// State shared by the writer and the reader.
final class SpoolShared: Sendable {
    /// Bytes appended and not yet committed (drives backpressure).
    let pendingBytes: Atomic<Int64>
    /// The end of the last complete record the writer wrote. The reader never reads past it.
    let writtenEnd: Mutex<SpoolPosition?>
    let doorbell = SpoolDoorbell()

    init(pendingBytes: Int64) {
        self.pendingBytes = Atomic(pendingBytes)
        self.writtenEnd = Mutex(nil)
    }
}

/// File helpers of the spool. Cold path: used at open and at commit.
enum SpoolFiles {
    static func path(directory: String, segment: UInt64) -> String {
        let digits = String(segment)
        return directory + "/" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".spool"
    }

    static func makeDirectory(_ directory: String) throws {
        var partial = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o750) != 0 && errno != EEXIST {
                throw SpoolError("cannot create folder \(partial)", errno: errno)
            }
        }
    }

    static func segments(in directory: String) throws -> [UInt64] {
        guard let dir = opendir(directory) else { throw SpoolError("cannot list \(directory)", errno: errno) }
        defer { closedir(dir) }
        var result: [UInt64] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasSuffix(".spool"), let number = UInt64(name.dropLast(6)) else { continue }
            result.append(number)
        }
        return result.sorted()
    }

    static func readCheckpoint(directory: String) throws -> SpoolPosition? {
        let path = directory + "/checkpoint"
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw SpoolError("cannot open \(path)", errno: errno)
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { throw SpoolError("checkpoint file \(path) is empty or unreadable", errno: errno) }
        let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(whereSeparator: {
            $0 == " " || $0 == "\n"
        })
        guard fields.count == 3, fields[0] == "v1", let segment = UInt64(fields[1]), let offset = Int64(fields[2]),
            offset >= 0
        else { throw SpoolError("checkpoint file \(path) is malformed") }
        return SpoolPosition(segment: segment, offset: offset)
    }

    static func writeCheckpoint(_ position: SpoolPosition, directory: String, sync: Bool) throws {
        let temporary = directory + "/checkpoint.tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o640)
        guard fd >= 0 else { throw SpoolError("cannot write \(temporary)", errno: errno) }
        let text = Array("v1 \(position.segment) \(position.offset)\n".utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let syncFailed = sync && fdatasync(fd) != 0
        let savedErrno = errno
        close(fd)
        guard written == text.count, !syncFailed else {
            throw SpoolError("cannot write \(temporary)", errno: savedErrno)
        }
        guard rename(temporary, directory + "/checkpoint") == 0 else {
            throw SpoolError("cannot replace checkpoint in \(directory)", errno: errno)
        }
    }

    struct Scan {
        var validEnd: Int64
        var tornRecords: Int
    }

    /// Walks the records of a segment from `from`, and cuts the file at the first torn or corrupt record.
    /// The cut bytes are kept in `<segment>.spool.torn-<offset>` for inspection.
    static func validate(directory: String, segment: UInt64, from: Int64) throws -> Scan {
        let path = path(directory: directory, segment: segment)
        let fd = open(path, O_RDWR)
        guard fd >= 0 else { throw SpoolError("cannot open \(path)", errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SpoolError("cannot stat \(path)", errno: errno) }
        let size = Int64(info.st_size)
        var offset = from
        var header = [UInt8](repeating: 0, count: SpoolRecordLayout.headerBytes)
        var body: [UInt8] = []
        while offset < size {
            guard size - offset >= Int64(SpoolRecordLayout.headerBytes),
                header.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, $0.count, off_t(offset)) })
                    == SpoolRecordLayout.headerBytes
            else { break }
            let (length, crc) = header.withUnsafeBytes { raw in
                (
                    raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian,
                    raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
                )
            }
            let bodyLength = Int(length)
            guard bodyLength >= SpoolRecordLayout.minimumBodyBytes,
                size - offset - Int64(SpoolRecordLayout.headerBytes) >= Int64(bodyLength)
            else { break }
            body = [UInt8](repeating: 0, count: bodyLength)
            let got = body.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress, $0.count, off_t(offset + Int64(SpoolRecordLayout.headerBytes)))
            }
            guard got == bodyLength, body.withUnsafeBytes({ CRC32C.checksum($0) }) == crc else { break }
            offset += Int64(SpoolRecordLayout.headerBytes + bodyLength)
        }
        guard offset < size else { return Scan(validEnd: offset, tornRecords: 0) }
        // Save the unreadable tail, then cut it off so the writer's next segment follows clean records.
        let tailPath = path + ".torn-\(offset)"
        let out = open(tailPath, O_WRONLY | O_CREAT | O_TRUNC, 0o640)
        if out >= 0 {
            var tail = [UInt8](repeating: 0, count: Int(size - offset))
            let got = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if got > 0 { _ = tail.withUnsafeBytes { write(out, $0.baseAddress, got) } }
            close(out)
        }
        guard ftruncate(fd, off_t(offset)) == 0 else {
            throw SpoolError("cannot cut torn tail of \(path)", errno: errno)
        }
        return Scan(validEnd: offset, tornRecords: 1)
    }
}

/// Byte layout constants of a spool record.
enum SpoolRecordLayout {
    /// `u32 length` + `u32 crc`.
    static let headerBytes = 8
    /// `i64 receive time` + `u16 topic length`.
    static let minimumBodyBytes = 10
}

@inline(__always)
func monotonicMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}
