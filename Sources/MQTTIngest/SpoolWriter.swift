public import GatewayCore
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends received frames to the spool. Every method may be called from any thread; calls are serialised.
///
/// `append` returns only after the record is in the operating system's page cache (one `write` call), so a
/// process crash after it returns loses nothing. It blocks while the uncommitted backlog is above the limit:
/// that is the gateway's backpressure towards the broker.
public final class SpoolWriter: Sendable {
    private struct State {
        var fd: Int32
        var segment: UInt64
        var offset: Int64
        var buffer: [UInt8]
        var lastSyncMilliseconds: Int64
        var unsynced: Bool
    }

    private let state: Mutex<State>
    private let directory: String
    private let options: SpoolOptions
    private let shared: SpoolShared
    private let appendedCounter = Atomic<Int64>(0)
    private let backpressureCounter = Atomic<Int64>(0)

    /// Number of records appended since open.
    public var appendedRecords: Int64 { appendedCounter.load(ordering: .relaxed) }
    /// Milliseconds the receive callback spent blocked by backpressure since open.
    public var backpressureMilliseconds: Int64 { backpressureCounter.load(ordering: .relaxed) }

    init(directory: String, firstSegment: UInt64, options: SpoolOptions, shared: SpoolShared) throws {
        self.directory = directory
        self.options = options
        self.shared = shared
        let fd = try SpoolWriter.openSegment(directory: directory, segment: firstSegment)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64 * 1024)
        self.state = Mutex(
            State(
                fd: fd,
                segment: firstSegment,
                offset: 0,
                buffer: buffer,
                lastSyncMilliseconds: monotonicMilliseconds(),
                unsynced: false
            )
        )
        shared.writtenEnd.withLock { $0 = SpoolPosition(segment: firstSegment, offset: 0) }
    }

    deinit {
        state.withLock { state in
            if state.unsynced { fdatasync(state.fd) }
            close(state.fd)
        }
    }

    private static func openSegment(directory: String, segment: UInt64) throws -> Int32 {
        let path = SpoolFiles.path(directory: directory, segment: segment)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw SpoolError("cannot open segment \(path)", errno: errno) }
        return fd
    }

    /// Appends one received frame.
    /// - Parameters:
    ///   - topic: The MQTT topic as UTF-8 bytes (at most 65,535).
    ///   - payload: The frame bytes; copied before return.
    ///   - receivedAt: The receive time to store with the frame.
    /// - Throws: ``SpoolError`` when the record cannot be written. The caller must not acknowledge the frame then.
    public func append(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, receivedAt: Timestamp) throws {
        waitWhileBacklogIsFull()
        let topicLength = min(topic.count, Int(UInt16.max))
        let bodyLength = SpoolRecordLayout.minimumBodyBytes + topicLength + payload.count
        let recordLength = SpoolRecordLayout.headerBytes + bodyLength
        try state.withLock { (state: inout State) throws(SpoolError) in
            state.buffer.removeAll(keepingCapacity: true)
            append(UInt32(bodyLength), to: &state.buffer)
            append(UInt32(0), to: &state.buffer)
            append(UInt64(bitPattern: receivedAt.microsecondsSinceEpoch), to: &state.buffer)
            append(UInt16(topicLength), to: &state.buffer)
            state.buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: topic.prefix(topicLength)))
            state.buffer.append(contentsOf: payload)
            let crc = state.buffer.withUnsafeBytes {
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[SpoolRecordLayout.headerBytes...]))
            }
            state.buffer.withUnsafeMutableBytes {
                $0.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self)
            }

            var written = 0
            while written < recordLength {
                let result = state.buffer.withUnsafeBytes { raw in
                    write(state.fd, raw.baseAddress.map { $0 + written }, recordLength - written)
                }
                if result < 0 {
                    if errno == EINTR { continue }
                    let code = errno
                    // Cut a partial record so the segment stays readable, then report.
                    ftruncate(state.fd, off_t(state.offset))
                    throw SpoolError("cannot append to segment \(state.segment)", errno: code)
                }
                written += result
            }
            state.offset += Int64(recordLength)
            state.unsynced = true
            let now = monotonicMilliseconds()
            if now - state.lastSyncMilliseconds >= options.fsyncIntervalMilliseconds {
                fdatasync(state.fd)
                state.lastSyncMilliseconds = now
                state.unsynced = false
            }
            if state.offset >= options.segmentBytes {
                try rotate(&state)
            }
            let end = SpoolPosition(segment: state.segment, offset: state.offset)
            shared.writtenEnd.withLock { $0 = end }
        }
        shared.pendingBytes.add(Int64(recordLength), ordering: .relaxed)
        appendedCounter.add(1, ordering: .relaxed)
        shared.doorbell.ring()
    }

    /// Syncs the active segment if frames are waiting for it and the fsync interval has passed.
    /// The pipeline calls this periodically so the last frames of a quiet period are not left unsynced.
    public func syncIfDue() {
        state.withLock { state in
            let now = monotonicMilliseconds()
            guard state.unsynced, now - state.lastSyncMilliseconds >= options.fsyncIntervalMilliseconds else { return }
            fdatasync(state.fd)
            state.lastSyncMilliseconds = now
            state.unsynced = false
        }
    }

    private func rotate(_ state: inout State) throws(SpoolError) {
        fdatasync(state.fd)
        close(state.fd)
        let next = state.segment + 1
        do {
            state.fd = try SpoolWriter.openSegment(directory: directory, segment: next)
        } catch let error as SpoolError {
            throw error
        } catch {
            throw SpoolError("cannot open segment \(next)")
        }
        state.segment = next
        state.offset = 0
        state.unsynced = false
    }

    private func waitWhileBacklogIsFull() {
        guard shared.pendingBytes.load(ordering: .relaxed) > options.maxBacklogBytes else { return }
        let started = monotonicMilliseconds()
        while shared.pendingBytes.load(ordering: .relaxed) > options.maxBacklogBytes {
            usleep(2000)
        }
        backpressureCounter.add(monotonicMilliseconds() - started, ordering: .relaxed)
    }

    @inline(__always)
    private func append<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }
}
