import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SpoolWriter {
    /// Makes sure an open, trusted segment is ready for the next record: creates the next segment when there is
    /// none, and first re-stores acknowledged records a failed sync put in doubt (see the type's documentation).
    /// Runs under the state lock.
    /// - Throws: ``SpoolError`` when the segment cannot be created, filled or synced; the writer stays failed and
    ///   the next call tries again (reusing the same, never-published segment number).
    func prepareSegment(_ state: inout State) throws(SpoolError) {
        guard state.fd < 0 || state.salvage != nil else { return }
        state.lastRecoveryMilliseconds = clock.monotonicMilliseconds()
        if state.fd < 0 {
            do {
                try Self.createSegment(&state, directory: directory, operations: operations, clock: clock)
            } catch {
                count(error)
                throw fail(&state, error)
            }
        }
        guard let salvage = state.salvage else {
            // A segment that could not be created now is: that proves the failure gone. A failed write does not
            // count as recovered until a write succeeds.
            if let failure = state.failure, failure.code != .writeFailed { clearFailure(&state) }
            return
        }
        do throws(SpoolError) {
            let copied = try copy(salvage, to: state.fd)
            let synced = operations.fdatasync(state.fd)
            guard synced == 0 else {
                throw SpoolError(
                    .syncFailed,
                    "cannot fdatasync segment \(state.segment) while re-storing records of segment \(salvage.segment)",
                    errorNumber: Int32(-synced)
                )
            }
            state.offset = copied
            state.syncedOffset = copied
            state.lastSyncMilliseconds = clock.monotonicMilliseconds()
            state.salvage = nil
            let end = SpoolPosition(segment: state.segment, offset: copied)
            shared.writtenEnd.withLock { $0 = end }
            shared.pendingBytes.add(copied, ordering: .relaxed)
            clearFailure(&state)
            shared.doorbell.ring()
        } catch {
            count(error)
            // Drop the unpublished segment; the next attempt recreates it under the same number. Its close and
            // unlink results cannot change anything: a leftover file holds only copies (replayed at most once more).
            _ = operations.close(state.fd)
            _ = operations.unlink(SpoolFiles.path(directory: directory, segment: state.segment))
            state.fd = -1
            throw fail(&state, error)
        }
    }

    /// Creates (or recreates, emptied) segment `state.segment` and makes its folder entry durable.
    static func createSegment(
        _ state: inout State,
        directory: String,
        operations: any SpoolFileOperations,
        clock: SpoolClock
    ) throws(SpoolError) {
        let path = SpoolFiles.path(directory: directory, segment: state.segment)
        // O_TRUNC: a number is reused only after a failed attempt that no reader has seen.
        let opened = operations.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, mode: 0o640)
        guard opened >= 0 else {
            throw SpoolError(.openFailed, "cannot create segment \(path)", errorNumber: Int32(-opened))
        }
        let synced = operations.fsyncDirectory(directory)
        guard synced == 0 else {
            // Not usable: without a durable folder entry the whole file could vanish at a power loss. The file is
            // empty, so close and unlink results do not matter; the next attempt recreates it.
            _ = operations.close(Int32(opened))
            _ = operations.unlink(path)
            throw SpoolError(
                .syncFailed,
                "cannot fsync \(directory) after creating segment \(state.segment)",
                errorNumber: Int32(-synced)
            )
        }
        state.fd = Int32(opened)
        state.offset = 0
        state.syncedOffset = 0
        state.lastSyncMilliseconds = clock.monotonicMilliseconds()
    }

    /// Copies the intact records of `salvage` that the reader has not committed yet to the end of `fd`.
    /// Damaged records in the range (pages the kernel dropped after the failed writeback) are skipped; the reader
    /// reports them as corrupt records when it reads the retired segment.
    /// - Returns: The bytes copied.
    private func copy(_ salvage: Salvage, to fd: Int32) throws(SpoolError) -> Int64 {
        let committed = shared.committed.withLock { $0 }
        guard committed.segment <= salvage.segment else { return 0 }
        let from = committed.segment == salvage.segment ? max(salvage.from, committed.offset) : salvage.from
        guard from < salvage.to else { return 0 }
        let path = SpoolFiles.path(directory: directory, segment: salvage.segment)
        let opened = operations.open(path, flags: O_RDONLY | O_CLOEXEC, mode: 0)
        guard opened >= 0 else {
            throw SpoolError(.readFailed, "cannot reopen segment \(path) to re-store it", errorNumber: Int32(-opened))
        }
        let source = Int32(opened)
        // Opened read-only: a failed close loses nothing.
        defer { _ = operations.close(source) }
        var buffer = [UInt8](repeating: 0, count: Int(min(1 << 20, salvage.to - from)))
        var offset = from
        var copied: Int64 = 0
        while offset < salvage.to {
            let want = Int(min(Int64(buffer.count), salvage.to - offset))
            let available = try SpoolRecordScanner.readFully(
                source,
                into: &buffer,
                count: want,
                at: offset,
                operations: operations
            )
            var consumed = 0
            var outcome = SpoolRecordScanner.Check.needMore(total: 0)
            var written = 0
            buffer.withUnsafeBytes { raw in
                while consumed < available {
                    outcome = SpoolRecordScanner.check(
                        UnsafeRawBufferPointer(rebasing: raw[consumed..<available]),
                        remaining: salvage.to - offset - Int64(consumed)
                    )
                    guard case .valid(let total) = outcome else { break }
                    let record = UnsafeRawBufferPointer(rebasing: raw[consumed..<(consumed + total)])
                    written = SpoolRecordScanner.writeAll(fd, record, operations: operations)
                    guard written == 0 else { break }
                    consumed += total
                }
            }
            copied += Int64(consumed)
            offset += Int64(consumed)
            guard written == 0 else {
                throw SpoolError(
                    .writeFailed,
                    "cannot re-store records of segment \(salvage.segment)",
                    errorNumber: Int32(-written)
                )
            }
            if consumed == available, available == want { continue }
            if case .needMore(let total) = outcome, total > buffer.count {
                buffer = [UInt8](repeating: 0, count: total)
                continue
            }
            if case .needMore = outcome, consumed > 0 { continue }
            guard
                let next = try SpoolRecordScanner.nextRecordStart(
                    in: source,
                    after: offset,
                    limit: salvage.to,
                    operations: operations
                )
            else { break }
            offset = next
        }
        return copied
    }

    /// Counts a failed recovery step as a failed write or a failed sync.
    private func count(_ error: SpoolError) {
        if error.code == .syncFailed {
            failedSyncCounter.add(1, ordering: .relaxed)
        } else {
            failedWriteCounter.add(1, ordering: .relaxed)
        }
    }
}
