public import GatewayCore
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One spooled frame, borrowed from the reader's buffer. Valid only inside the closure that receives it.
public struct SpoolRecord {
    /// The MQTT topic as UTF-8 bytes.
    public var topic: UnsafeRawBufferPointer
    /// The frame bytes exactly as received.
    public var payload: UnsafeRawBufferPointer
    /// When the gateway received the frame.
    public var receivedAt: Timestamp
    /// Where this record starts in the spool.
    public var position: SpoolPosition

    /// The topic as a `String` (allocates; for the cold paths such as quarantine).
    public var topicString: String { String(decoding: topic, as: UTF8.self) }
}

/// Reads spooled frames in order and moves the checkpoint after they are committed. Owned by one task.
///
/// Reads never go past the end of the last complete record the writer reported, so a record being written
/// is never seen half-done. The read buffer is reused; it grows only for a record larger than any before.
public final class SpoolReader {
    private let directory: String
    private let shared: SpoolShared
    private var fd: Int32 = -1
    private var openSegment: UInt64 = 0
    /// The next byte to read.
    private var position: SpoolPosition
    /// The position after the last record handed out (what `commit` will record).
    public private(set) var readPosition: SpoolPosition
    private var committed: SpoolPosition
    private var uncommittedBytes: Int64 = 0
    private var buffer: [UInt8]
    /// Records skipped because their checksum failed after open (disk corruption). Their bytes stay in the segment.
    public private(set) var corruptRecords = 0

    init(directory: String, start: SpoolPosition, shared: SpoolShared) {
        self.directory = directory
        self.shared = shared
        self.position = start
        self.readPosition = start
        self.committed = start
        self.buffer = [UInt8](repeating: 0, count: 1 << 20)
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Hands out up to `maxRecords` records that are available now, in receive order.
    /// - Parameters:
    ///   - maxRecords: The most records to hand out in this call.
    ///   - body: Called once per record; the record's buffers are valid only during the call.
    /// - Returns: The number of records handed out (0 when the spool is drained).
    /// - Throws: ``SpoolError`` on a read error, or what `body` throws.
    @discardableResult
    public func read(maxRecords: Int, _ body: (SpoolRecord) throws -> Void) throws -> Int {
        var delivered = 0
        while delivered < maxRecords {
            guard let end = shared.writtenEnd.withLock({ $0 }), position < end else { break }
            if position.segment < end.segment, try isAtEndOfSegment() {
                position = SpoolPosition(segment: position.segment + 1, offset: 0)
                readPosition = position
                continue
            }
            let limit = position.segment == end.segment ? end.offset : Int64.max
            let available = try fill(limit: limit)
            guard available >= SpoolRecordLayout.headerBytes else {
                if position.segment < end.segment {
                    try skipRestOfSegment()
                    continue
                }
                break
            }
            var consumed = 0
            try buffer.withUnsafeBytes { raw in
                while delivered < maxRecords, available - consumed >= SpoolRecordLayout.headerBytes {
                    let length = Int(raw.loadUnaligned(fromByteOffset: consumed, as: UInt32.self).littleEndian)
                    let crc = raw.loadUnaligned(fromByteOffset: consumed + 4, as: UInt32.self).littleEndian
                    let total = SpoolRecordLayout.headerBytes + length
                    guard available - consumed >= total else { break }
                    let bodyStart = consumed + SpoolRecordLayout.headerBytes
                    let bodyBytes = UnsafeRawBufferPointer(rebasing: raw[bodyStart..<(bodyStart + length)])
                    let recordPosition = SpoolPosition(
                        segment: position.segment,
                        offset: position.offset + Int64(consumed)
                    )
                    consumed += total
                    guard length >= SpoolRecordLayout.minimumBodyBytes, CRC32C.checksum(bodyBytes) == crc else {
                        corruptRecords += 1
                        continue
                    }
                    let receivedAt = Int64(
                        bitPattern: bodyBytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
                    )
                    let topicLength = Int(bodyBytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self).littleEndian)
                    guard SpoolRecordLayout.minimumBodyBytes + topicLength <= length else {
                        corruptRecords += 1
                        continue
                    }
                    let topicEnd = SpoolRecordLayout.minimumBodyBytes + topicLength
                    delivered += 1
                    try body(
                        SpoolRecord(
                            topic: UnsafeRawBufferPointer(
                                rebasing: bodyBytes[SpoolRecordLayout.minimumBodyBytes..<topicEnd]
                            ),
                            payload: UnsafeRawBufferPointer(rebasing: bodyBytes[topicEnd...]),
                            receivedAt: Timestamp(microsecondsSinceEpoch: receivedAt),
                            position: recordPosition
                        )
                    )
                }
            }
            if consumed == 0 {
                // A record larger than the buffer: grow once and try again.
                let length = buffer.withUnsafeBytes { Int($0.loadUnaligned(as: UInt32.self).littleEndian) }
                let needed = SpoolRecordLayout.headerBytes + length
                if needed > buffer.count {
                    buffer = [UInt8](repeating: 0, count: needed)
                    continue
                }
                break
            }
            position.offset += Int64(consumed)
            uncommittedBytes += Int64(consumed)
            readPosition = position
        }
        return delivered
    }

    /// Records that everything handed out so far is committed: writes the checkpoint, frees backlog for the
    /// writer and deletes segments that are wholly committed.
    /// - Parameter sync: Whether to `fdatasync` the checkpoint file.
    /// - Throws: ``SpoolError`` when the checkpoint cannot be written (the frames will be replayed — harmless).
    public func commit(sync: Bool = false) throws {
        guard readPosition != committed else { return }
        try SpoolFiles.writeCheckpoint(readPosition, directory: directory, sync: sync)
        shared.pendingBytes.subtract(uncommittedBytes, ordering: .relaxed)
        uncommittedBytes = 0
        var segment = committed.segment
        while segment < readPosition.segment {
            unlink(SpoolFiles.path(directory: directory, segment: segment))
            segment += 1
        }
        committed = readPosition
    }

    /// Forgets what was handed out since the last commit, so those records are read again.
    /// The pipeline uses it to re-process a rejected batch one frame at a time.
    public func rewind() {
        position = committed
        readPosition = committed
        uncommittedBytes = 0
    }

    /// Reads from `position` into the buffer, at most up to `limit` in the current segment.
    private func fill(limit: Int64) throws -> Int {
        try openCurrentSegment()
        let want = Int(min(Int64(buffer.count), limit - position.offset))
        guard want > 0 else { return 0 }
        var total = 0
        while total < want {
            let got = buffer.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress.map { $0 + total }, want - total, off_t(position.offset + Int64(total)))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw SpoolError("cannot read segment \(position.segment)", errno: errno)
            }
            if got == 0 { break }
            total += got
        }
        return total
    }

    private func openCurrentSegment() throws {
        guard fd < 0 || openSegment != position.segment else { return }
        if fd >= 0 { close(fd) }
        let path = SpoolFiles.path(directory: directory, segment: position.segment)
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SpoolError("cannot open segment \(path)", errno: errno) }
        openSegment = position.segment
    }

    private func isAtEndOfSegment() throws -> Bool {
        try openCurrentSegment()
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SpoolError("cannot stat segment \(position.segment)", errno: errno) }
        return position.offset >= Int64(info.st_size)
    }

    /// Skips an unreadable remainder of a closed segment (counted as corrupt).
    private func skipRestOfSegment() throws {
        corruptRecords += 1
        var info = stat()
        try openCurrentSegment()
        guard fstat(fd, &info) == 0 else { throw SpoolError("cannot stat segment \(position.segment)", errno: errno) }
        uncommittedBytes += max(0, Int64(info.st_size) - position.offset)
        position = SpoolPosition(segment: position.segment + 1, offset: 0)
        readPosition = position
    }
}
