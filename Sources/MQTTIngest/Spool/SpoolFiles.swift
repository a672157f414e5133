#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File helpers of the spool: folder, segment names, checkpoint, open-time check. Cold path: used at open, at
/// commit and at segment changes.
enum SpoolFiles {
    static func path(directory: String, segment: UInt64) -> String {
        let digits = String(segment)
        return directory + "/" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".spool"
    }

    /// Creates `directory` and its missing parents, making each new entry durable in its parent.
    static func makeDirectory(_ directory: String, operations: any SpoolFileOperations) throws(SpoolError) {
        var partial = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            let parent = partial.isEmpty ? "/" : partial
            partial += "/" + component
            if mkdir(partial, 0o750) == 0 {
                let synced = operations.fsyncDirectory(parent)
                guard synced == 0 else {
                    throw SpoolError(.syncFailed, "cannot make folder \(partial) durable", errorNumber: Int32(-synced))
                }
            } else if errno != EEXIST {
                throw SpoolError(.openFailed, "cannot create folder \(partial)", errorNumber: errno)
            }
        }
    }

    static func segments(in directory: String) throws(SpoolError) -> [UInt64] {
        guard let dir = opendir(directory) else {
            throw SpoolError(.openFailed, "cannot list \(directory)", errorNumber: errno)
        }
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

    /// What the checkpoint file held at open.
    enum CheckpointRead: Equatable {
        /// There is no checkpoint file: a new spool.
        case missing
        /// A well-formed checkpoint.
        case valid(SpoolPosition)
        /// The file exists but cannot be used (empty, malformed, or a read error); the reason is for the log.
        case unreadable(String)
    }

    /// Reads the checkpoint. A file that exists but is empty, malformed or unreadable is reported, not thrown:
    /// the spool then replays from its oldest segment, which downstream idempotent writes make harmless.
    /// - Throws: ``SpoolError`` only when the file exists but cannot be opened (permissions): that is a setup
    ///   error that would also stop every later commit.
    static func readCheckpoint(
        directory: String,
        operations: any SpoolFileOperations
    ) throws(SpoolError)
        -> CheckpointRead
    {
        let path = directory + "/checkpoint"
        let opened = operations.open(path, flags: O_RDONLY | O_CLOEXEC, mode: 0)
        if opened == -Int(ENOENT) { return .missing }
        if opened == -Int(EIO) { return .unreadable("checkpoint file \(path) cannot be read (I/O error)") }
        guard opened >= 0 else {
            throw SpoolError(.openFailed, "cannot open checkpoint \(path)", errorNumber: Int32(-opened))
        }
        let fd = Int32(opened)
        // Opened read-only: a failed close loses nothing.
        defer { _ = operations.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count: Int
        do {
            count = try SpoolRecordScanner.readFully(fd, into: &buffer, count: 128, at: 0, operations: operations)
        } catch {
            return .unreadable("checkpoint file \(path) cannot be read: \(error)")
        }
        guard count > 0 else { return .unreadable("checkpoint file \(path) is empty") }
        let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(whereSeparator: {
            $0 == " " || $0 == "\n"
        })
        guard count < 128, fields.count == 3, fields[0] == "v1", let segment = UInt64(fields[1]),
            let offset = Int64(fields[2]), offset >= 0
        else { return .unreadable("checkpoint file \(path) is malformed") }
        return .valid(SpoolPosition(segment: segment, offset: offset))
    }

    /// Replaces the checkpoint atomically and durably: write `checkpoint.tmp`, `fdatasync` it, close it, rename
    /// it over `checkpoint`, then `fsync` the folder so the rename itself survives a power loss.
    /// - Throws: ``SpoolError`` when any step fails; the previous checkpoint then stays in force.
    static func writeCheckpoint(
        _ position: SpoolPosition,
        directory: String,
        operations: any SpoolFileOperations
    ) throws(SpoolError) {
        let temporary = directory + "/checkpoint.tmp"
        let opened = operations.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: 0o640)
        guard opened >= 0 else {
            throw SpoolError(.openFailed, "cannot create \(temporary)", errorNumber: Int32(-opened))
        }
        let fd = Int32(opened)
        let text = Array("v1 \(position.segment) \(position.offset)\n".utf8)
        let written = text.withUnsafeBytes { SpoolRecordScanner.writeAll(fd, $0, operations: operations) }
        guard written == 0 else {
            _ = operations.close(fd)  // already failing; the temporary file is rewritten next time
            throw SpoolError(.writeFailed, "cannot write \(temporary)", errorNumber: Int32(-written))
        }
        let synced = operations.fdatasync(fd)
        guard synced == 0 else {
            _ = operations.close(fd)  // already failing; the temporary file is rewritten next time
            throw SpoolError(.syncFailed, "cannot fdatasync \(temporary)", errorNumber: Int32(-synced))
        }
        let closed = operations.close(fd)
        guard closed == 0 else {
            throw SpoolError(.syncFailed, "cannot close \(temporary)", errorNumber: Int32(-closed))
        }
        let renamed = operations.rename(temporary, to: directory + "/checkpoint")
        guard renamed == 0 else {
            throw SpoolError(.writeFailed, "cannot replace checkpoint in \(directory)", errorNumber: Int32(-renamed))
        }
        let directorySynced = operations.fsyncDirectory(directory)
        guard directorySynced == 0 else {
            throw SpoolError(.syncFailed, "cannot fsync \(directory)", errorNumber: Int32(-directorySynced))
        }
    }

    /// The outcome of the open-time check of one segment.
    struct Scan: Equatable {
        /// The end of the readable records (the new file size when a torn tail was cut).
        var validEnd: Int64
        /// 1 when a torn tail was cut off (and saved beside the segment), else 0.
        var tornRecords: Int
        /// Damaged ranges in the middle of the segment; kept in place and handed to the reader as corrupt records.
        var damagedRanges: Int
    }

    /// Walks the records of a segment from `from`. Damage followed by an intact record is left in place (the
    /// reader hands it to the consumer as a corrupt record). Damage with no intact record after it is a torn tail
    /// (a write cut short by a crash): it is saved to `<segment>.spool.torn-<offset>` and then cut off. When the
    /// tail cannot be saved or cut, it stays and the reader reports it as a corrupt record instead.
    static func validate(
        directory: String,
        segment: UInt64,
        from: Int64,
        operations: any SpoolFileOperations
    ) throws(SpoolError) -> Scan {
        let path = path(directory: directory, segment: segment)
        let opened = operations.open(path, flags: O_RDWR | O_CLOEXEC, mode: 0)
        guard opened >= 0 else { throw SpoolError(.openFailed, "cannot open \(path)", errorNumber: Int32(-opened)) }
        let fd = Int32(opened)
        // Every change below is followed by its own fdatasync; a failed close of this descriptor loses nothing.
        defer { _ = operations.close(fd) }
        let size = operations.size(fd)
        guard size >= 0 else { throw SpoolError(.readFailed, "cannot stat \(path)", errorNumber: Int32(-size)) }
        var buffer = [UInt8](repeating: 0, count: Int(min(1 << 20, max(size - from, 0))))
        var offset = from
        var damagedRanges = 0
        while offset < size {
            let want = Int(min(Int64(buffer.count), size - offset))
            let available = try SpoolRecordScanner.readFully(
                fd,
                into: &buffer,
                count: want,
                at: offset,
                operations: operations
            )
            var consumed = 0
            var outcome = SpoolRecordScanner.Check.needMore(total: 0)
            buffer.withUnsafeBytes { raw in
                while consumed < available {
                    outcome = SpoolRecordScanner.check(
                        UnsafeRawBufferPointer(rebasing: raw[consumed..<available]),
                        remaining: size - offset - Int64(consumed)
                    )
                    guard case .valid(let total) = outcome else { break }
                    consumed += total
                }
            }
            offset += Int64(consumed)
            if consumed == available, available == want { continue }
            if case .needMore(let total) = outcome, total > buffer.count {
                buffer = [UInt8](repeating: 0, count: total)
                continue
            }
            if case .needMore = outcome, consumed > 0 { continue }
            // Damaged (or the file ended before `size`): find the next intact record.
            if let next = try SpoolRecordScanner.nextRecordStart(
                in: fd,
                after: offset,
                limit: size,
                operations: operations
            ) {
                damagedRanges += 1
                offset = next
                continue
            }
            guard cutTail(of: fd, path: path, directory: directory, at: offset, size: size, operations: operations)
            else { break }
            return Scan(validEnd: offset, tornRecords: 1, damagedRanges: damagedRanges)
        }
        return Scan(validEnd: size, tornRecords: 0, damagedRanges: damagedRanges)
    }

    /// Saves the bytes `offset ..< size` beside the segment, then truncates the segment at `offset`.
    /// - Returns: Whether the tail was saved and cut; `false` leaves the segment unchanged.
    private static func cutTail(
        of fd: Int32,
        path: String,
        directory: String,
        at offset: Int64,
        size: Int64,
        operations: any SpoolFileOperations
    ) -> Bool {
        let tailPath = path + ".torn-\(offset)"
        let opened = operations.open(tailPath, flags: O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: 0o640)
        guard opened >= 0 else { return false }
        let out = Int32(opened)
        var tail = [UInt8](repeating: 0, count: Int(size - offset))
        var saved = false
        if let got = try? SpoolRecordScanner.readFully(
            fd,
            into: &tail,
            count: tail.count,
            at: offset,
            operations: operations
        ),
            got == tail.count
        {
            saved =
                tail.withUnsafeBytes { SpoolRecordScanner.writeAll(out, $0, operations: operations) } == 0
                && operations.fdatasync(out) == 0
        }
        saved = operations.close(out) == 0 && saved
        saved = saved && operations.fsyncDirectory(directory) == 0
        guard saved else {
            // Keep the segment whole rather than lose bytes that could not be saved; a failed unlink leaves a
            // partial copy that a later open overwrites.
            _ = operations.unlink(tailPath)
            return false
        }
        // Cut, then make the new size durable; if the cut is lost to a power failure, the next open cuts again.
        return operations.ftruncate(fd, to: offset) == 0 && operations.fdatasync(fd) == 0
    }
}
