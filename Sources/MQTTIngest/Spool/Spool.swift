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
    /// The segment number (the file `<segment, 16 digits>.spool`).
    public var segment: UInt64
    /// The byte offset inside the segment.
    public var offset: Int64

    /// Creates a position.
    /// - Parameters:
    ///   - segment: The segment number.
    ///   - offset: The byte offset inside the segment.
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
    /// For ``SpoolWriter/append(topic:payload:receivedAt:)`` only: `fdatasync` the active segment when this many
    /// milliseconds have passed since the last sync (`0` syncs after every frame). The receive path's group commit
    /// (``SpoolWriter/commitStaged()``) syncs every batch regardless.
    public var fsyncIntervalMilliseconds: Int64
    /// Staging a frame blocks (backpressure) while this many bytes are received but not yet committed.
    public var maxBacklogBytes: Int64

    /// Creates spool settings.
    /// - Parameters:
    ///   - segmentBytes: The size at which a segment is closed and the next one started.
    ///   - fsyncIntervalMilliseconds: The longest time frames written by `append` wait for `fdatasync`.
    ///   - maxBacklogBytes: The uncommitted bytes at which the receive callback blocks.
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

/// The durable, append-only log of every frame the gateway received, written before the receive callback returns.
///
/// Layout on disk: `<directory>/<segment, 16 digits>.spool` files and a `checkpoint` file. Each record is
/// `u32 length L, u32 CRC-32C of the next L bytes, i64 receive time (µs since 1970), u16 topic length T,
/// T bytes of topic, L − 10 − T bytes of payload`, all little-endian.
///
/// The checkpoint names the position up to which every record is committed to the database. It only moves
/// forward, after a commit, and is replaced atomically and durably (temporary file, `fdatasync`, `rename`,
/// `fsync` of the folder). Segment creation and deletion are followed by an `fsync` of the folder too.
///
/// On open:
/// - Everything after the checkpoint is replayed. Segments wholly before it are deleted.
/// - A checkpoint file that is empty, malformed or unreadable (an older version or a broken disk) does not stop
///   the gateway: the spool replays from its oldest segment at offset 0 and reports it in ``checkpointProblem``.
///   Replay is harmless because every database write downstream is idempotent.
/// - Damage in the middle of a segment (a bit flip in a body or a length field) is left in place: records after it
///   are found again by resynchronisation, and the reader hands the damaged bytes to the consumer as a corrupt
///   record (``SpoolRecord/isCorrupt``). Only a damaged *tail* with no intact record after it (a write cut short
///   by a crash) is saved beside the segment as `<segment>.spool.torn-<offset>` and cut off.
///
/// One ``SpoolWriter`` (the MQTT network thread) appends; one ``SpoolReader`` (the pipeline) reads and commits.
/// The properties of `FrameSpool` and of its writer may be read from any thread (metrics, readiness).
public final class FrameSpool: Sendable {
    /// The appending side. Safe to call from the MQTT network thread.
    public let writer: SpoolWriter
    /// Where replay starts: the last committed position, or the oldest segment when the checkpoint was unusable.
    public let checkpoint: SpoolPosition
    /// Bytes received but not yet committed when the spool was opened (the replay backlog).
    public let replayBytes: Int64
    /// Torn tails cut off at open (each saved beside its segment as `<segment>.spool.torn-<offset>`).
    public let discardedTornRecords: Int
    /// Damaged ranges found at open in the middle of a segment. They are kept; the reader hands each one to the
    /// consumer as a corrupt record.
    public let damagedRangesAtOpen: Int
    /// Why the checkpoint file could not be used at open (empty, malformed, unreadable, or naming a segment that
    /// is gone), or `nil` when it was used or there was none. When set, the spool replays from ``checkpoint``,
    /// its oldest segment; log it.
    public let checkpointProblem: String?
    let shared: SpoolShared
    let directory: String
    let operations: any SpoolFileOperations
    let clock: SpoolClock

    /// Whether the checkpoint file existed but could not be used at open; ``checkpointProblem`` says why.
    public var checkpointWasUnreadable: Bool { checkpointProblem != nil }

    /// Corrupt records the reader has handed to the consumer since open (see ``SpoolRecord/isCorrupt``).
    /// Safe to read from any thread, for a metric.
    public var corruptRecords: Int64 { shared.corruptRecords.load(ordering: .relaxed) }

    /// Opens (creating if needed) the spool in `directory`, recovers after a crash and starts a fresh segment.
    /// - Parameters:
    ///   - directory: The spool folder. It must be on a local file system.
    ///   - options: Segment size, fsync interval and backpressure limit.
    /// - Throws: ``SpoolError`` when the folder cannot be created, listed or written, or a segment cannot be read.
    ///   An unusable checkpoint file is not an error (see ``checkpointProblem``).
    public convenience init(directory: String, options: SpoolOptions = SpoolOptions()) throws(SpoolError) {
        try self.init(directory: directory, options: options, operations: PosixSpoolFileOperations(), clock: .system)
    }

    /// Opens the spool with injected file operations and clocks (tests).
    init(
        directory: String,
        options: SpoolOptions,
        operations: any SpoolFileOperations,
        clock: SpoolClock
    ) throws(SpoolError) {
        self.directory = directory
        self.operations = operations
        self.clock = clock
        try SpoolFiles.makeDirectory(directory, operations: operations)
        var segments = try SpoolFiles.segments(in: directory)
        let oldest = SpoolPosition(segment: segments.first ?? 1, offset: 0)
        var start = oldest
        var problem: String?
        switch try SpoolFiles.readCheckpoint(directory: directory, operations: operations) {
        case .missing:
            break
        case .unreadable(let reason):
            problem = reason + "; replaying from the oldest segment"
        case .valid(let position):
            if segments.contains(position.segment) {
                start = position
            } else if let later = segments.first(where: { $0 > position.segment }) {
                problem = "checkpoint names segment \(position.segment), which is missing; replaying from \(later)"
                start = SpoolPosition(segment: later, offset: 0)
            } else {
                // Every segment is committed (and deleted): start afresh after the checkpoint's segment.
                start = SpoolPosition(segment: max(position.segment + 1, (segments.last ?? 0) + 1), offset: 0)
            }
        }
        // Drop segments wholly before the start (left behind if a crash came between commit and delete).
        var removed = false
        for segment in segments where segment < start.segment {
            // A segment that cannot be deleted is harmless: it is before the start, and the next open tries again.
            removed = operations.unlink(SpoolFiles.path(directory: directory, segment: segment)) == 0 || removed
        }
        if removed {
            let synced = operations.fsyncDirectory(directory)
            guard synced == 0 else {
                throw SpoolError(.syncFailed, "cannot fsync \(directory)", errorNumber: Int32(-synced))
            }
        }
        segments.removeAll { $0 < start.segment }
        var pending: Int64 = 0
        var torn = 0
        var damaged = 0
        for segment in segments {
            let from = segment == start.segment ? start.offset : 0
            let scan = try SpoolFiles.validate(
                directory: directory,
                segment: segment,
                from: from,
                operations: operations
            )
            pending += max(0, scan.validEnd - from)
            torn += scan.tornRecords
            damaged += scan.damagedRanges
        }
        let shared = SpoolShared(pendingBytes: pending, committed: start)
        self.shared = shared
        self.checkpoint = start
        self.replayBytes = pending
        self.discardedTornRecords = torn
        self.damagedRangesAtOpen = damaged
        self.checkpointProblem = problem
        self.writer = try SpoolWriter(
            directory: directory,
            firstSegment: max((segments.last ?? 0) + 1, start.segment),
            options: options,
            shared: shared,
            operations: operations,
            clock: clock
        )
    }

    /// Creates the reader that replays from the checkpoint and then follows the writer.
    /// Call it once; there is exactly one reader per spool.
    /// - Returns: The reader.
    public func makeReader() -> SpoolReader {
        SpoolReader(directory: directory, start: checkpoint, shared: shared, operations: operations, clock: clock)
    }

    /// Waits until a record is appended or `timeout` passes, whichever is first. Wake-ups may be spurious.
    /// - Parameter timeout: The longest wait.
    public func waitForAppend(timeout: Duration) async {
        await shared.doorbell.wait(timeout: timeout)
    }

    /// Ends the reader's current ``waitForAppend(timeout:)`` now (or its next one, if it is not waiting): for a
    /// reader that waits for records and for something else at once, such as a commit in progress.
    public func wakeReader() {
        shared.doorbell.ring()
    }

    /// Bytes appended but not yet committed.
    public var backlogBytes: Int64 { shared.pendingBytes.load(ordering: .relaxed) }
}

/// Wakes the single reader when the writer appended. Safe against lost wake-ups: a ring with nobody waiting is
/// remembered and ends the next wait at once.
///
/// A wait's timeout is kept by one Dispatch timer for the doorbell's life, armed only when a wait ends earlier than
/// the timer is already set to: while appends keep ringing, most waits end by a ring before any deadline and arm
/// nothing. (A Dispatch timer per wait woke libdispatch's timer thread for every wait, and each expired one rang a
/// reader that had long been woken: a quarter of the gateway's context switches at 8,000 frames/s.) When the timer
/// fires it ends the wait whose deadline passed, or sets itself to the deadline of the wait in progress; it never
/// rings, so it causes no spurious wake-up.
final class SpoolDoorbell: Sendable {
    private struct State {
        var waiter: CheckedContinuation<Void, Never>?
        /// When the wait in progress times out.
        var deadline = DispatchTime.distantFuture
        var rung = false
        /// The timeout timer, only used under the lock.
        let timer: any DispatchSourceTimer
        /// When the timer fires next (`distantFuture`: not armed).
        var armed = DispatchTime.distantFuture

        /// Sets the timer to `deadline`.
        mutating func arm(_ deadline: DispatchTime) {
            armed = deadline
            timer.schedule(deadline: deadline, leeway: .microseconds(500))
        }
    }

    private let state: Mutex<State>

    init() {
        state = Mutex(State(timer: DispatchSource.makeTimerSource(queue: DispatchQueue(label: "spool.doorbell"))))
        state.withLock { state in
            state.timer.setEventHandler { [weak self] in self?.timerFired() }
            state.timer.activate()
        }
    }

    deinit {
        state.withLock { $0.timer.cancel() }
    }

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            state.deadline = .distantFuture
            return waiter
        }
        waiter?.resume()
    }

    /// Waits for a ring, or until `timeout` passes; the wait always ends without relying on task cancellation.
    func wait(timeout: Duration) async {
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        let deadline = DispatchTime.now() + .nanoseconds(max(0, nanoseconds))
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyRung = state.withLock { state -> Bool in
                if state.rung {
                    state.rung = false
                    return true
                }
                state.waiter = continuation
                state.deadline = deadline
                // Under the lock, so a firing timer's re-arm cannot overtake this one.
                if deadline < state.armed { state.arm(deadline) }
                return false
            }
            if alreadyRung { continuation.resume() }
        }
    }

    /// Ends the wait whose deadline passed, or sets the timer to the deadline of the wait in progress.
    private func timerFired() {
        let now = DispatchTime.now()
        let expired = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.armed = .distantFuture
            guard let waiter = state.waiter else { return nil }
            if state.deadline <= now {
                state.waiter = nil
                state.deadline = .distantFuture
                return waiter
            }
            state.arm(state.deadline)
            return nil
        }
        expired?.resume()
    }
}

/// State shared by the writer and the reader.
final class SpoolShared: Sendable {
    /// Bytes appended and not yet committed (drives backpressure).
    let pendingBytes: Atomic<Int64>
    /// The end of the last complete record the writer wrote. The reader never reads past it.
    let writtenEnd: Mutex<SpoolPosition?>
    /// Where the writer stopped using a segment it closed, by segment number. The reader reads a closed segment
    /// up to this end, not up to its file size, so bytes after the last acknowledged record (a frame whose append
    /// failed) are never handed out. Segments from before the open have no entry: they were checked at open.
    let sealedEnds: Mutex<[UInt64: Int64]>
    /// The reader's last committed position: the writer does not re-store records before it after a failed sync.
    let committed: Mutex<SpoolPosition>
    /// Corrupt records handed to the consumer since open.
    let corruptRecords = Atomic<Int64>(0)
    let doorbell = SpoolDoorbell()

    init(pendingBytes: Int64, committed: SpoolPosition) {
        self.pendingBytes = Atomic(pendingBytes)
        self.writtenEnd = Mutex(nil)
        self.sealedEnds = Mutex([:])
        self.committed = Mutex(committed)
    }
}
