public import GatewayCore
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends received frames to the spool. Every method may be called from any thread; calls are serialised.
///
/// `append` returns only after the record is in the operating system's page cache (checked `write` calls), so a
/// process crash after it returns loses nothing. It blocks while the uncommitted backlog is above the limit:
/// that is the gateway's backpressure towards the broker. The record buffer is reused; appending allocates
/// nothing per frame.
///
/// ## Failing closed
/// `append` throws whenever the frame cannot be stored *and* trusted; the receive callback then holds the frame
/// unacknowledged and retries it. While the writer is failed, ``failure`` holds the cause (for readiness), and
/// ``failedWrites`` and ``failedSyncs`` count every failed call (for metrics). Each later `append` retries the
/// recovery, and so does ``syncIfDue()`` (at most every 500 ms) when a fresh segment is needed; the first success
/// clears ``failure``. After a plain write failure only a successful `append` proves the disk writable again.
///
/// - A failed `write` (ENOSPC, EIO): the partial record is cut off (`ftruncate` to the last complete record) and
///   the segment stays in use; the next `append` simply writes again. If the cut fails too, the segment is
///   retired as below and the reader never reads past its last complete record.
/// - A failed `fdatasync` (or `close`): on Linux a failed writeback may leave the pages marked clean, so they can
///   be dropped from the cache later, and a second `fdatasync` on the same descriptor reports success without
///   writing anything. So the writer never retries the sync and never trusts that segment's unsynced tail: it
///   cuts the failing frame's own bytes (that frame was never acknowledged; the callback re-appends it), closes
///   and retires the segment at its last acknowledged record, and remembers the acknowledged-but-unsynced range.
///   Recovery then starts a fresh segment (new file, folder entry synced), copies into it every record of that
///   range that still verifies by CRC and is not yet committed by the reader, and `fdatasync`s it: only when
///   that sync succeeds is the writer healthy again. The reader may see those records twice (once from the old
///   segment, once from the copy); every database write downstream is idempotent, so that is harmless, while
///   losing an acknowledged frame is not.
/// - A failed segment change (the next segment cannot be created): the old descriptor is already closed and
///   forgotten (`-1`), so no write can reach a reused descriptor number; the next `append` tries to create the
///   segment again and throws if it cannot.
/// - Close errors after a successful `fdatasync` are counted in ``failedSyncs`` but do not fail the append: the
///   sync already confirmed the data.
public final class SpoolWriter: Sendable {
    struct State {
        /// The open segment, or `-1` when there is none: the next append creates `segment`.
        var fd: Int32
        /// The open segment's number, or the number the next segment gets.
        var segment: UInt64
        /// Bytes in the open segment (always the end of the last complete record).
        var offset: Int64
        /// The offset up to which `fdatasync` succeeded.
        var syncedOffset: Int64
        /// The staged records (complete, checksummed), written by the next commit.
        var buffer: [UInt8]
        /// How many records `buffer` holds.
        var stagedRecords: Int
        var lastSyncMilliseconds: Int64
        var lastRecoveryMilliseconds: Int64
        /// Why the writer is failed, or `nil`.
        var failure: SpoolError?
        /// Acknowledged records whose durability a failed sync put in doubt, still to be re-stored.
        var salvage: Salvage?
    }

    /// A range of acknowledged records in a retired segment that must be copied to a fresh segment.
    struct Salvage {
        var segment: UInt64
        var from: Int64
        var to: Int64
    }

    /// The least time between two recovery attempts made by ``syncIfDue()``.
    static let recoveryPauseMilliseconds: Int64 = 500

    let state: Mutex<State>
    private let health = Mutex<SpoolError?>(nil)
    let directory: String
    let options: SpoolOptions
    let shared: SpoolShared
    let operations: any SpoolFileOperations
    let clock: SpoolClock
    private let appendedCounter = Atomic<Int64>(0)
    private let backpressureCounter = Atomic<Int64>(0)
    let failedWriteCounter = Atomic<Int64>(0)
    let failedSyncCounter = Atomic<Int64>(0)

    /// Number of records appended since open.
    public var appendedRecords: Int64 { appendedCounter.load(ordering: .relaxed) }
    /// Milliseconds the receive callback spent blocked by backpressure since open.
    public var backpressureMilliseconds: Int64 { backpressureCounter.load(ordering: .relaxed) }
    /// Failed attempts to create or write a segment since open (each failed `open`, `write` or `ftruncate`).
    /// Export as `spool_write_failures_total`.
    public var failedWrites: Int64 { failedWriteCounter.load(ordering: .relaxed) }
    /// Failed attempts to make segment data durable since open (each failed `fdatasync`, folder `fsync` or
    /// `close`).
    public var failedSyncs: Int64 { failedSyncCounter.load(ordering: .relaxed) }
    /// Why the writer currently refuses frames, or `nil` when it is healthy. Never blocks on disk I/O, so
    /// `/readyz` can read it while an append is stuck in the kernel.
    public var failure: SpoolError? { health.withLock { $0 } }
    /// Whether the last append (or recovery attempt) succeeded; `false` while ``failure`` is set.
    public var isHealthy: Bool { failure == nil }

    init(
        directory: String,
        firstSegment: UInt64,
        options: SpoolOptions,
        shared: SpoolShared,
        operations: any SpoolFileOperations,
        clock: SpoolClock
    ) throws(SpoolError) {
        self.directory = directory
        self.options = options
        self.shared = shared
        self.operations = operations
        self.clock = clock
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64 * 1024)
        let now = clock.monotonicMilliseconds()
        var initial = State(
            fd: -1,
            segment: firstSegment,
            offset: 0,
            syncedOffset: 0,
            buffer: buffer,
            stagedRecords: 0,
            lastSyncMilliseconds: now,
            lastRecoveryMilliseconds: now,
            failure: nil,
            salvage: nil
        )
        try SpoolWriter.createSegment(&initial, directory: directory, operations: operations, clock: clock)
        self.state = Mutex(initial)
        shared.writtenEnd.withLock { $0 = SpoolPosition(segment: firstSegment, offset: 0) }
    }

    deinit {
        state.withLock { state in
            guard state.fd >= 0 else { return }
            // Nobody can act on a failure here; the counters only keep the record straight. Frames not yet
            // committed are replayed from the checkpoint at the next open either way.
            if state.offset > state.syncedOffset, operations.fdatasync(state.fd) != 0 {
                failedSyncCounter.add(1, ordering: .relaxed)
            }
            if operations.close(state.fd) != 0 { failedSyncCounter.add(1, ordering: .relaxed) }
            state.fd = -1
        }
    }

    /// Appends one received frame and writes it at once; it is `fdatasync`ed when `fsyncIntervalMilliseconds` has
    /// passed since the last sync. The receive path uses ``stage(topic:payload:receivedAt:)`` and
    /// ``commitStaged()`` instead (one write and one sync per batch, every frame durable before it is acknowledged).
    /// - Parameters:
    ///   - topic: The MQTT topic as UTF-8 bytes (at most 65,535).
    ///   - payload: The frame bytes; copied before return.
    ///   - receivedAt: The receive time to store with the frame.
    /// - Throws: ``SpoolError`` when the record cannot be written or its durability cannot be confirmed. The caller
    ///   must not acknowledge the frame then, and should retry it later: the writer recovers by itself.
    public func append(
        topic: UnsafeRawBufferPointer,
        payload: UnsafeRawBufferPointer,
        receivedAt: Timestamp
    ) throws(SpoolError) {
        stage(topic: topic, payload: payload, receivedAt: receivedAt)
        do {
            try commit(alwaysSync: false)
        } catch {
            // The caller retries this frame itself; keeping it staged would store it twice.
            state.withLock { state in
                state.buffer.removeAll(keepingCapacity: true)
                state.stagedRecords = 0
            }
            throw error
        }
    }

    /// Encodes one received frame into the pending batch, in memory; nothing is written until ``commitStaged()``.
    ///
    /// Blocks while the uncommitted backlog is above the limit (backpressure towards the broker). The batch buffer is
    /// reused; staging allocates nothing per frame once the buffer has grown to the batch size.
    /// - Parameters:
    ///   - topic: The MQTT topic as UTF-8 bytes (at most 65,535).
    ///   - payload: The frame bytes; copied before return.
    ///   - receivedAt: The receive time to store with the frame.
    public func stage(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, receivedAt: Timestamp) {
        waitWhileBacklogIsFull()
        let topicLength = min(topic.count, Int(UInt16.max))
        let bodyLength = SpoolRecordLayout.minimumBodyBytes + topicLength + payload.count
        // MQTT caps a payload at 268,435,455 bytes, far below the u32 length field.
        precondition(bodyLength <= Int(UInt32.max), "frame larger than a spool record can hold")
        state.withLock { state in
            let start = state.buffer.count
            append(UInt32(bodyLength), to: &state.buffer)
            append(UInt32(0), to: &state.buffer)
            append(UInt64(bitPattern: receivedAt.microsecondsSinceEpoch), to: &state.buffer)
            append(UInt16(topicLength), to: &state.buffer)
            state.buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: topic.prefix(topicLength)))
            state.buffer.append(contentsOf: payload)
            let crc = state.buffer.withUnsafeBytes {
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + SpoolRecordLayout.headerBytes)...]))
            }
            state.buffer.withUnsafeMutableBytes {
                $0.storeBytes(of: crc.littleEndian, toByteOffset: start + 4, as: UInt32.self)
            }
            state.stagedRecords += 1
        }
    }

    /// Writes every staged frame with one `write` (more only for a partial write) and makes them durable with one
    /// `fdatasync` (group commit). When it returns, every staged frame is on disk and may be acknowledged.
    /// - Throws: ``SpoolError`` when the batch cannot be written or synced. The batch stays staged, unacknowledged;
    ///   call again later (the writer recovers by itself, re-storing the batch in full).
    public func commitStaged() throws(SpoolError) {
        try commit(alwaysSync: true)
    }

    /// The number of staged frames not yet committed.
    public var stagedRecords: Int { state.withLock { $0.stagedRecords } }

    private func commit(alwaysSync: Bool) throws(SpoolError) {
        let committed = try state.withLock { (state: inout State) throws(SpoolError) -> (records: Int, bytes: Int) in
            let count = state.buffer.count
            guard count > 0 else { return (0, 0) }
            try prepareSegment(&state)
            // Everything before the batch was acknowledged; nothing in it is, until this returns.
            let batchStart = state.offset
            try writeBuffer(&state, count: count)
            state.offset += Int64(count)
            let now = clock.monotonicMilliseconds()
            if alwaysSync || now - state.lastSyncMilliseconds >= options.fsyncIntervalMilliseconds {
                try sync(&state, acknowledgedEnd: batchStart, now: now)
            }
            let end = SpoolPosition(segment: state.segment, offset: state.offset)
            if state.offset >= options.segmentBytes {
                try seal(&state, acknowledgedEnd: batchStart, now: now)
            }
            shared.writtenEnd.withLock { $0 = end }
            if state.failure != nil { clearFailure(&state) }
            let records = state.stagedRecords
            state.buffer.removeAll(keepingCapacity: true)
            state.stagedRecords = 0
            return (records, count)
        }
        guard committed.records > 0 else { return }
        shared.pendingBytes.add(Int64(committed.bytes), ordering: .relaxed)
        appendedCounter.add(Int64(committed.records), ordering: .relaxed)
        shared.doorbell.ring()
    }

    /// Syncs the active segment if frames are waiting for it and the fsync interval has passed; while the writer
    /// is failed, retries its recovery (at most every 500 ms).
    /// The pipeline calls this periodically so the last frames of a quiet period are not left unsynced, and so a
    /// writer recovers even when no frame arrives. Failures are reported through ``failure`` and the counters.
    public func syncIfDue() {
        state.withLock { state in
            let now = clock.monotonicMilliseconds()
            if state.failure != nil, state.salvage != nil || state.fd < 0 {
                guard now - state.lastRecoveryMilliseconds >= Self.recoveryPauseMilliseconds else { return }
                do {
                    try prepareSegment(&state)
                } catch {
                    return  // recorded in `failure`
                }
            }
            guard state.fd >= 0, state.offset > state.syncedOffset,
                now - state.lastSyncMilliseconds >= options.fsyncIntervalMilliseconds
            else { return }
            do {
                try sync(&state, acknowledgedEnd: state.offset, now: now)
            } catch {
                return  // recorded in `failure`
            }
        }
    }

    /// Writes the first `count` bytes of the buffer at the end of the open segment.
    /// On failure the partial record is cut off; if that fails too, the segment is retired.
    private func writeBuffer(_ state: inout State, count: Int) throws(SpoolError) {
        var written = 0
        while written < count {
            let fd = state.fd
            let result = state.buffer.withUnsafeBytes { raw in
                operations.write(fd, UnsafeRawBufferPointer(rebasing: raw[written..<count]))
            }
            if result == -Int(EINTR) { continue }
            if result > 0 {
                written += result
                continue
            }
            failedWriteCounter.add(1, ordering: .relaxed)
            let error = SpoolError(
                .writeFailed,
                "cannot append to segment \(state.segment)",
                errorNumber: result < 0 ? Int32(-result) : EIO
            )
            if written > 0, operations.ftruncate(state.fd, to: state.offset) != 0 {
                // The partial record stays in the file: stop using the segment. The reader stops at the sealed end;
                // after a restart the open-time check cuts the partial record as a torn tail.
                failedWriteCounter.add(1, ordering: .relaxed)
                retireSegment(&state, acknowledgedEnd: state.offset, afterFailedSync: false)
            }
            throw fail(&state, error)
        }
    }

    /// `fdatasync`s the open segment. On failure the segment is retired and its unsynced acknowledged records are
    /// queued for salvage.
    /// - Parameter acknowledgedEnd: The end of the records whose appends returned (the current frame's start).
    private func sync(_ state: inout State, acknowledgedEnd: Int64, now: Int64) throws(SpoolError) {
        let result = operations.fdatasync(state.fd)
        if result == 0 {
            state.syncedOffset = state.offset
            state.lastSyncMilliseconds = now
            return
        }
        failedSyncCounter.add(1, ordering: .relaxed)
        let error = SpoolError(
            .syncFailed,
            "cannot fdatasync segment \(state.segment); its unsynced records are re-stored in a fresh segment",
            errorNumber: Int32(-result)
        )
        retireSegment(&state, acknowledgedEnd: acknowledgedEnd, afterFailedSync: true)
        throw fail(&state, error)
    }

    /// Closes a full segment after syncing it; the next append creates the next one.
    private func seal(_ state: inout State, acknowledgedEnd: Int64, now: Int64) throws(SpoolError) {
        if state.offset > state.syncedOffset {
            try sync(&state, acknowledgedEnd: acknowledgedEnd, now: now)
        }
        // fdatasync confirmed every byte; a close error is counted but loses nothing.
        if operations.close(state.fd) != 0 { failedSyncCounter.add(1, ordering: .relaxed) }
        let segment = state.segment
        let end = state.offset
        shared.sealedEnds.withLock { $0[segment] = end }
        state.fd = -1
        state.segment += 1
        state.offset = 0
        state.syncedOffset = 0
    }

    /// Stops using the open segment at `acknowledgedEnd` after a failure: cuts bytes after it, closes the
    /// descriptor and forgets it, and queues acknowledged records that are not known to be durable for salvage.
    /// After a failed sync the salvage is queued even when its range is empty, so recovery always proves with a
    /// successful `fdatasync` of the fresh segment that syncing works again before the writer reports healthy.
    /// - Parameters:
    ///   - acknowledgedEnd: The end of the last record whose append returned.
    ///   - afterFailedSync: Whether a sync failed. If not (a write failure), one `fdatasync` is tried first; after
    ///     a failed sync it never is, because a retry on the same descriptor would falsely succeed.
    func retireSegment(_ state: inout State, acknowledgedEnd: Int64, afterFailedSync: Bool) {
        let fd = state.fd
        if acknowledgedEnd < state.offset, operations.ftruncate(fd, to: acknowledgedEnd) != 0 {
            // The unacknowledged frame's bytes stay after the sealed end: the running reader never reads them, and
            // after a restart they are replayed once more next to the retried copy (harmless, idempotent).
            failedWriteCounter.add(1, ordering: .relaxed)
        }
        var durable = state.syncedOffset >= acknowledgedEnd
        if !durable, !afterFailedSync {
            durable = operations.fdatasync(fd) == 0
            if !durable { failedSyncCounter.add(1, ordering: .relaxed) }
        }
        if operations.close(fd) != 0 { failedSyncCounter.add(1, ordering: .relaxed) }
        if !durable || afterFailedSync {
            let from = min(state.syncedOffset, acknowledgedEnd)
            state.salvage = Salvage(segment: state.segment, from: from, to: acknowledgedEnd)
        }
        let segment = state.segment
        shared.sealedEnds.withLock { $0[segment] = acknowledgedEnd }
        state.fd = -1
        state.segment += 1
        state.offset = 0
        state.syncedOffset = 0
    }

    /// Records `error` as the writer's failure and returns it for throwing.
    func fail(_ state: inout State, _ error: SpoolError) -> SpoolError {
        state.failure = error
        health.withLock { $0 = error }
        return error
    }

    func clearFailure(_ state: inout State) {
        state.failure = nil
        health.withLock { $0 = nil }
    }

    private func waitWhileBacklogIsFull() {
        guard shared.pendingBytes.load(ordering: .relaxed) > options.maxBacklogBytes else { return }
        let started = clock.monotonicMilliseconds()
        while shared.pendingBytes.load(ordering: .relaxed) > options.maxBacklogBytes {
            usleep(2000)
        }
        backpressureCounter.add(clock.monotonicMilliseconds() - started, ordering: .relaxed)
    }

    @inline(__always)
    private func append<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }
}
