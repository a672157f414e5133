public import GatewayCore
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One spooled frame, or one damaged byte range, borrowed from the reader's buffers. Valid only inside the
/// closure that receives it.
public struct SpoolRecord {
    /// The MQTT topic as UTF-8 bytes. Empty for a corrupt record.
    public var topic: UnsafeRawBufferPointer
    /// The frame bytes exactly as received. For a corrupt record: the first damaged bytes (at most 64 KiB).
    public var payload: UnsafeRawBufferPointer
    /// When the gateway received the frame. For a corrupt record: when the reader found the damage (wall clock).
    public var receivedAt: Timestamp
    /// Where this record (or the damage) starts in the spool.
    public var position: SpoolPosition
    /// Whether this record stands for bytes that failed their checksum (disk corruption) rather than a frame.
    /// Quarantine it (for example as `spool_corrupt`); ``payload`` holds the damaged bytes for inspection.
    public var isCorrupt: Bool
    /// For a corrupt record, the length of the whole damaged range in bytes (``payload`` may hold fewer);
    /// `0` for an intact record.
    public var damagedByteCount: Int64

    /// The topic as a `String` (allocates; for the cold paths such as quarantine).
    public var topicString: String { String(decoding: topic, as: UTF8.self) }
}

/// Where the records a ``SpoolReader`` handed out end (``SpoolReader/mark``).
public struct ReadMark: Sendable, Equatable {
    /// The position after the last record handed out.
    public var position: SpoolPosition
    /// Bytes handed out since the reader opened, up to `position`.
    var handedOutBytes: Int64
}

/// Reads spooled frames in order and moves the checkpoint after they are committed. Owned by one task.
///
/// Reads never go past the end of the last complete record the writer reported (nor past the end at which the
/// writer retired a segment), so a record being written, or one whose append failed, is never seen. The read
/// buffer is reused; it grows only for a record larger than any before.
///
/// A record whose checksum fails is not skipped: the reader searches forward for the next offset where a record
/// with a plausible header (a length that fits, a topic length that fits, a receive time in `0 ..< 2^53` µs) and a
/// matching CRC-32C starts, hands the damaged range to the consumer as one record with ``SpoolRecord/isCorrupt``
/// set, and continues after it. The search is bounded: it checksums at most 256 MiB of candidates, and past that
/// treats the rest of the segment as damaged. A genuine record with a negative receive time is not found by the
/// search and stays inside the damaged range.
///
/// Thread and ownership rules: one task owns the reader; its methods must not be called concurrently.
public final class SpoolReader {
    private let directory: String
    private let shared: SpoolShared
    private let operations: any SpoolFileOperations
    private let clock: SpoolClock
    private var fd: Int32 = -1
    private var openSegment: UInt64 = 0
    /// The next byte to read.
    private var position: SpoolPosition
    /// The position after the last record handed out (what `commit` will record).
    public private(set) var readPosition: SpoolPosition
    /// The durable checkpoint: the position the checkpoint file names.
    private var committed: SpoolPosition
    /// Bytes handed out since the durable checkpoint.
    private var uncommittedBytes: Int64 = 0
    /// The position after the last record the consumer reported committed (at or after `committed`: with
    /// ``commit(checkpointAtMostEvery:)`` the checkpoint file may lag it). A rewind returns here.
    private var consumed: SpoolPosition
    /// The part of `uncommittedBytes` before `consumed`.
    private var consumedBytes: Int64 = 0
    /// Bytes the checkpoint file has covered since this reader opened (what ``ReadMark`` counts from).
    private var checkpointedBytes: Int64 = 0
    /// When the checkpoint file was last written (monotonic milliseconds; nil: not yet by this reader).
    private var lastCheckpointMilliseconds: Int64?
    private var buffer: [UInt8]
    /// `buffer[0..<windowCount]` holds the bytes of segment `windowSegment` from `windowOffset` (`-1`: nothing).
    private var windowSegment: UInt64 = 0
    private var windowOffset: Int64 = -1
    private var windowCount = 0
    /// Holds the bytes of a damaged range while it is handed out; allocated at the first damage.
    private var damaged: [UInt8] = []
    /// Damage before this position was counted already (a rewind hands it out again without counting it twice).
    private var countedThrough: SpoolPosition
    /// Segments before this one are deleted.
    private var oldestSegment: UInt64
    private var directoryNeedsSync = false
    /// Corrupt records handed to the consumer (damaged byte ranges found by checksum). Their bytes stay in the
    /// segment. ``FrameSpool/corruptRecords`` reports the same count to other threads.
    public private(set) var corruptRecords: Int64 = 0

    init(
        directory: String,
        start: SpoolPosition,
        shared: SpoolShared,
        operations: any SpoolFileOperations,
        clock: SpoolClock
    ) {
        self.directory = directory
        self.shared = shared
        self.operations = operations
        self.clock = clock
        self.position = start
        self.readPosition = start
        self.committed = start
        self.consumed = start
        self.countedThrough = start
        self.oldestSegment = start.segment
        self.buffer = [UInt8](repeating: 0, count: 1 << 20)
    }

    deinit {
        // Read-only descriptor: a failed close loses nothing.
        if fd >= 0 { _ = operations.close(fd) }
    }

    /// Hands out up to `maxRecords` records that are available now, in receive order. A damaged byte range counts
    /// as one record (``SpoolRecord/isCorrupt``).
    /// - Parameters:
    ///   - maxRecords: The most records to hand out in this call.
    ///   - body: Called once per record; the record's buffers are valid only during the call.
    /// - Returns: The number of records handed out (0 when the spool is drained).
    /// - Throws: ``SpoolError`` on a read error, or what `body` throws.
    @discardableResult
    public func read(maxRecords: Int, _ body: (SpoolRecord) throws -> Void) throws -> Int {
        try read(
            maxRecords: maxRecords,
            until: { record in
                try body(record)
                return false
            }
        )
    }

    /// Hands out up to `maxRecords` records that are available now, in receive order, and stops early after the
    /// record for which `body` returns `true`: that record is handed out (and counted), the ones after it stay
    /// for the next call. A damaged byte range counts as one record (``SpoolRecord/isCorrupt``).
    /// - Parameters:
    ///   - maxRecords: The most records to hand out in this call.
    ///   - body: Called once per record; returns whether this record ends the call. The record's buffers are valid
    ///     only during the call.
    /// - Returns: The number of records handed out (0 when the spool is drained).
    /// - Throws: ``SpoolError`` on a read error, or what `body` throws.
    @discardableResult
    public func read(maxRecords: Int, until body: (SpoolRecord) throws -> Bool) throws -> Int {
        var delivered = 0
        var stopped = false
        while delivered < maxRecords, !stopped {
            guard let end = shared.writtenEnd.withLock({ $0 }), position < end else { break }
            let limit: Int64
            if position.segment == end.segment {
                limit = end.offset
            } else {
                limit = try closedSegmentLimit()
            }
            if position.offset >= limit {
                guard position.segment < end.segment else { break }
                position = SpoolPosition(segment: position.segment + 1, offset: 0)
                readPosition = position
                continue
            }
            let want = Int(min(Int64(buffer.count), limit - position.offset))
            let (origin, available) = try fill(count: want)
            var consumed = 0
            var outcome = SpoolRecordScanner.Check.needMore(total: 0)
            let start = position
            try buffer.withUnsafeBytes { raw in
                while delivered < maxRecords, !stopped, consumed < available {
                    outcome = SpoolRecordScanner.check(
                        UnsafeRawBufferPointer(rebasing: raw[(origin + consumed)..<(origin + available)]),
                        remaining: limit - start.offset - Int64(consumed)
                    )
                    guard case .valid(let total) = outcome else { break }
                    let bodyStart = origin + consumed + SpoolRecordLayout.headerBytes
                    let bodyBytes = UnsafeRawBufferPointer(rebasing: raw[bodyStart..<(origin + consumed + total)])
                    let receivedAt = Int64(
                        bitPattern: bodyBytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
                    )
                    let topicLength = Int(bodyBytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self).littleEndian)
                    let topicEnd = SpoolRecordLayout.minimumBodyBytes + topicLength
                    let recordPosition = SpoolPosition(segment: start.segment, offset: start.offset + Int64(consumed))
                    consumed += total
                    delivered += 1
                    stopped = try body(
                        SpoolRecord(
                            topic: UnsafeRawBufferPointer(
                                rebasing: bodyBytes[SpoolRecordLayout.minimumBodyBytes..<topicEnd]
                            ),
                            payload: UnsafeRawBufferPointer(rebasing: bodyBytes[topicEnd...]),
                            receivedAt: Timestamp(microsecondsSinceEpoch: receivedAt),
                            position: recordPosition,
                            isCorrupt: false,
                            damagedByteCount: 0
                        )
                    )
                }
            }
            position.offset += Int64(consumed)
            uncommittedBytes += Int64(consumed)
            readPosition = position
            switch outcome {
            case .valid:
                continue
            case .needMore(let total) where total > buffer.count:
                // A record larger than the buffer: grow once and read it again.
                buffer = [UInt8](repeating: 0, count: total)
                windowOffset = -1
                continue
            case .needMore where consumed > 0:
                continue
            case .needMore, .damaged:
                // Damaged bytes (or a file shorter than the writer reported): hand them out as one corrupt record.
                delivered += 1
                stopped = try deliverDamage(limit: limit, body)
            }
        }
        return delivered
    }

    /// Records that everything handed out so far is committed: writes the checkpoint durably (temporary file,
    /// `fdatasync`, `rename`, `fsync` of the folder), frees backlog for the writer and deletes segments that are
    /// wholly committed.
    /// - Throws: ``SpoolError`` when the checkpoint cannot be written; the previous checkpoint stays in force, and
    ///   the next commit tries again (the frames would be replayed after a restart, which is harmless).
    public func commit() throws(SpoolError) {
        try commit(checkpointAtMostEvery: 0)
    }

    /// Records that everything handed out so far is committed, but writes the checkpoint file (as ``commit()``)
    /// only when `intervalMilliseconds` have passed since it was last written; ``checkpointCommitted()`` writes it
    /// at once. A rewind returns to the committed records either way. Until the checkpoint is written the backlog is
    /// not freed and a restart replays those records (harmless: every write downstream is idempotent), so the
    /// interval bounds that replay; in exchange, a consumer that commits many small batches does not wait for two
    /// disk syncs after each.
    /// - Parameter intervalMilliseconds: The least time between two checkpoint writes (`0`: write now).
    /// - Throws: ``SpoolError`` when a due checkpoint cannot be written; the previous one stays in force and the next
    ///   call tries again.
    public func commit(checkpointAtMostEvery intervalMilliseconds: Int64) throws(SpoolError) {
        try commit(through: mark, checkpointAtMostEvery: intervalMilliseconds)
    }

    /// Where the records handed out so far end. A consumer that reads the next records before the ones handed out
    /// are committed (reading ahead) passes it to ``commit(through:checkpointAtMostEvery:)`` once they are.
    public var mark: ReadMark {
        ReadMark(position: readPosition, handedOutBytes: checkpointedBytes + uncommittedBytes)
    }

    /// Records that the records handed out up to `mark` are committed (the ones read after it are not), and writes
    /// the checkpoint as ``commit(checkpointAtMostEvery:)`` does. A rewind returns to `mark`.
    /// - Parameters:
    ///   - mark: A ``mark`` taken since the last rewind, at or after the last records reported committed.
    ///   - intervalMilliseconds: The least time between two checkpoint writes (`0`: write now).
    /// - Throws: ``SpoolError`` when a due checkpoint cannot be written; the previous one stays in force.
    public func commit(through mark: ReadMark, checkpointAtMostEvery intervalMilliseconds: Int64) throws(SpoolError) {
        guard mark.position >= consumed, mark.position <= readPosition else { return }
        consumed = mark.position
        consumedBytes = mark.handedOutBytes - checkpointedBytes
        guard consumed != committed else { return }
        if intervalMilliseconds > 0, let last = lastCheckpointMilliseconds,
            clock.monotonicMilliseconds() - last < intervalMilliseconds
        {
            return
        }
        try checkpointCommitted()
    }

    /// Whether records reported committed are not yet covered by the checkpoint file.
    public var hasUncheckpointedCommits: Bool { consumed != committed }

    /// Writes the checkpoint at the last records reported committed if the file lags them (see
    /// ``commit(checkpointAtMostEvery:)``): durably, then frees their backlog and deletes wholly committed segments.
    /// - Throws: ``SpoolError`` when the checkpoint cannot be written; the previous one stays in force.
    public func checkpointCommitted() throws(SpoolError) {
        guard consumed != committed else { return }
        try SpoolFiles.writeCheckpoint(consumed, directory: directory, operations: operations)
        lastCheckpointMilliseconds = clock.monotonicMilliseconds()
        shared.pendingBytes.subtract(consumedBytes, ordering: .relaxed)
        checkpointedBytes += consumedBytes
        uncommittedBytes -= consumedBytes
        consumedBytes = 0
        committed = consumed
        let newCommitted = committed
        shared.committed.withLock { $0 = newCommitted }
        deleteCommittedSegments()
    }

    /// Forgets what was handed out since the last commit, so those records are read again.
    /// The pipeline uses it to re-process a rejected batch one frame at a time.
    public func rewind() {
        position = consumed
        readPosition = consumed
        uncommittedBytes = consumedBytes
    }

    /// Deletes the segments wholly before the committed position, then makes the deletions durable. A segment
    /// that cannot be deleted stops the sweep; the next commit retries it (it is before the checkpoint, so a
    /// leftover is harmless either way).
    private func deleteCommittedSegments() {
        while oldestSegment < committed.segment {
            let segment = oldestSegment
            let result = operations.unlink(SpoolFiles.path(directory: directory, segment: segment))
            guard result == 0 || result == -Int(ENOENT) else { break }
            shared.sealedEnds.withLock { _ = $0.removeValue(forKey: segment) }
            directoryNeedsSync = directoryNeedsSync || result == 0
            oldestSegment += 1
        }
        if directoryNeedsSync {
            directoryNeedsSync = operations.fsyncDirectory(directory) != 0
        }
    }

    /// The end of the readable bytes of the current segment, which the writer has left: where the writer retired
    /// it, or (for a segment from before the open, checked then) its size.
    private func closedSegmentLimit() throws(SpoolError) -> Int64 {
        let segment = position.segment
        if let sealed = shared.sealedEnds.withLock({ $0[segment] }) { return sealed }
        try openCurrentSegment()
        let size = operations.size(fd)
        guard size >= 0 else {
            throw SpoolError(.readFailed, "cannot stat segment \(position.segment)", errorNumber: Int32(-size))
        }
        return size
    }

    /// Finds the end of the damage at `position`, hands the damaged range out as one corrupt record and moves on.
    /// - Returns: What `body` returned.
    private func deliverDamage(limit: Int64, _ body: (SpoolRecord) throws -> Bool) throws -> Bool {
        let start = position
        let next = try SpoolRecordScanner.nextRecordStart(
            in: fd,
            after: start.offset,
            limit: limit,
            operations: operations
        )
        let end = next ?? limit
        let length = end - start.offset
        if damaged.isEmpty { damaged = [UInt8](repeating: 0, count: SpoolRecordLayout.corruptPayloadLimit) }
        let keep = Int(min(length, Int64(damaged.count)))
        let got = try SpoolRecordScanner.readFully(
            fd,
            into: &damaged,
            count: keep,
            at: start.offset,
            operations: operations
        )
        if start >= countedThrough {
            corruptRecords += 1
            shared.corruptRecords.add(1, ordering: .relaxed)
            countedThrough = SpoolPosition(segment: start.segment, offset: end)
        }
        let foundAt = clock.wall()
        let stop = try damaged.withUnsafeBytes { raw in
            try body(
                SpoolRecord(
                    topic: UnsafeRawBufferPointer(start: nil, count: 0),
                    payload: UnsafeRawBufferPointer(rebasing: raw[0..<got]),
                    receivedAt: foundAt,
                    position: start,
                    isCorrupt: true,
                    damagedByteCount: length
                )
            )
        }
        position.offset = end
        uncommittedBytes += length
        readPosition = position
        return stop
    }

    /// Makes the `count` bytes at `position` available in the buffer, reading them with one `pread` (more only for
    /// a short read) unless an earlier read already holds them all: a call that stops after `maxRecords` leaves the
    /// rest of its read for the next call instead of reading it again. Bytes below the writer's reported end never
    /// change, so the window stays valid until the reader moves to another segment or the buffer is replaced.
    /// - Returns: Where the bytes at `position` start in the buffer, and how many are there.
    private func fill(count: Int) throws(SpoolError) -> (origin: Int, available: Int) {
        try openCurrentSegment()
        if windowOffset >= 0, windowSegment == position.segment, position.offset >= windowOffset {
            let origin = Int(position.offset - windowOffset)
            if windowCount - origin >= count { return (origin, count) }
        }
        let got = try SpoolRecordScanner.readFully(
            fd,
            into: &buffer,
            count: count,
            at: position.offset,
            operations: operations
        )
        windowSegment = position.segment
        windowOffset = position.offset
        windowCount = got
        return (0, got)
    }

    private func openCurrentSegment() throws(SpoolError) {
        guard fd < 0 || openSegment != position.segment else { return }
        // Read-only descriptor: a failed close loses nothing.
        if fd >= 0 { _ = operations.close(fd) }
        fd = -1
        let path = SpoolFiles.path(directory: directory, segment: position.segment)
        let opened = operations.open(path, flags: O_RDONLY | O_CLOEXEC, mode: 0)
        guard opened >= 0 else {
            throw SpoolError(.openFailed, "cannot open segment \(path)", errorNumber: Int32(-opened))
        }
        fd = Int32(opened)
        openSegment = position.segment
    }
}
