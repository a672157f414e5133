import GatewayCore

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte layout constants of a spool record.
enum SpoolRecordLayout {
    /// `u32 length` + `u32 crc`.
    static let headerBytes = 8
    /// `i64 receive time` + `u16 topic length`.
    static let minimumBodyBytes = 10
    /// A corrupt record hands out at most this many of its damaged bytes.
    static let corruptPayloadLimit = 64 << 10
    /// Resynchronisation gives up after checksumming this many bytes of candidate records (bounded work).
    static let resyncChecksumBudget: Int64 = 256 << 20
    /// Resynchronisation reads the damaged region in windows of this size.
    static let resyncWindowBytes = 64 << 10
    /// A record found by resynchronisation must carry a receive time in `0 ..< 2^53` µs (before the year 2255).
    /// A cheap filter that rejects almost every random candidate before its checksum is computed.
    static let resyncMaximumReceiveMicroseconds: Int64 = 1 << 53
}

/// Recognises records and finds the next intact record after damage. Shared by the open-time check
/// (``SpoolFiles/validate(directory:segment:from:operations:)``), the reader and the writer's salvage.
enum SpoolRecordScanner {
    /// What the bytes at a record boundary hold.
    enum Check: Equatable {
        /// A complete record with a matching checksum, `total` bytes long (header included).
        case valid(total: Int)
        /// The record is plausible so far but `total` bytes (header included) must be in memory to check it.
        case needMore(total: Int)
        /// The bytes do not start an intact record: resynchronise.
        case damaged
    }

    /// Checks the record that starts at the first byte of `bytes`.
    /// - Parameters:
    ///   - bytes: The bytes in memory from the record's start on (possibly fewer than the record).
    ///   - remaining: The bytes from the record's start to the end of the readable region (≥ `bytes.count`).
    /// - Returns: What the bytes hold.
    static func check(_ bytes: UnsafeRawBufferPointer, remaining: Int64) -> Check {
        let header = SpoolRecordLayout.headerBytes
        guard bytes.count >= header else {
            return remaining >= Int64(header) ? .needMore(total: header) : .damaged
        }
        let length = Int(bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian)
        let total = header + length
        guard length >= SpoolRecordLayout.minimumBodyBytes, Int64(total) <= remaining else { return .damaged }
        guard bytes.count >= total else { return .needMore(total: total) }
        let crc = bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
        let body = UnsafeRawBufferPointer(rebasing: bytes[header..<total])
        let topicLength = Int(body.loadUnaligned(fromByteOffset: 8, as: UInt16.self).littleEndian)
        guard SpoolRecordLayout.minimumBodyBytes + topicLength <= length, CRC32C.checksum(body) == crc else {
            return .damaged
        }
        return .valid(total: total)
    }

    /// Finds the first offset after `damage` where an intact record starts, reading the file with `pread`.
    ///
    /// A candidate must have a length that fits before `limit`, a topic length that fits in the body, a receive
    /// time in `0 ..< 2^53` µs and a matching CRC-32C. The search checksums at most
    /// ``SpoolRecordLayout/resyncChecksumBudget`` bytes of candidates; past that it gives up as if nothing were
    /// found. Cold path: it allocates its own buffers.
    /// - Parameters:
    ///   - fd: The segment, open for reading.
    ///   - damage: Where the damaged bytes start; the search starts one byte after it.
    ///   - limit: The end of the readable region (a record must end at or before it).
    ///   - operations: The file operations.
    /// - Returns: The offset of the next intact record, or `nil` when none starts before `limit`.
    /// - Throws: ``SpoolError`` with code `readFailed` when the segment cannot be read.
    static func nextRecordStart(
        in fd: Int32,
        after damage: Int64,
        limit: Int64,
        operations: any SpoolFileOperations
    ) throws(SpoolError) -> Int64? {
        let prefix = SpoolRecordLayout.headerBytes + SpoolRecordLayout.minimumBodyBytes
        var window = [UInt8](repeating: 0, count: SpoolRecordLayout.resyncWindowBytes)
        var windowStart: Int64 = 0
        var windowCount = 0
        var scratch: [UInt8] = []
        var budget = SpoolRecordLayout.resyncChecksumBudget
        var candidate = damage + 1
        while candidate + Int64(prefix) <= limit {
            if candidate + Int64(prefix) > windowStart + Int64(windowCount) {
                let want = Int(min(Int64(window.count), limit - candidate))
                windowCount = try readFully(fd, into: &window, count: want, at: candidate, operations: operations)
                windowStart = candidate
                // The file is shorter than `limit`: nothing intact can start here.
                guard windowCount >= prefix else { return nil }
            }
            let index = Int(candidate - windowStart)
            let fields = window.withUnsafeBytes { raw in
                (
                    length: Int(raw.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian),
                    crc: raw.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian,
                    time: Int64(
                        bitPattern: raw.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self).littleEndian
                    ),
                    topicLength: Int(raw.loadUnaligned(fromByteOffset: index + 16, as: UInt16.self).littleEndian)
                )
            }
            let bodyStart = candidate + Int64(SpoolRecordLayout.headerBytes)
            if fields.length >= SpoolRecordLayout.minimumBodyBytes, Int64(fields.length) <= limit - bodyStart,
                SpoolRecordLayout.minimumBodyBytes + fields.topicLength <= fields.length,
                fields.time >= 0, fields.time < SpoolRecordLayout.resyncMaximumReceiveMicroseconds
            {
                budget -= Int64(fields.length)
                guard budget >= 0 else { return nil }
                let crc: UInt32?
                if bodyStart + Int64(fields.length) <= windowStart + Int64(windowCount) {
                    let from = index + SpoolRecordLayout.headerBytes
                    crc = window.withUnsafeBytes {
                        CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[from..<(from + fields.length)]))
                    }
                } else {
                    if scratch.isEmpty { scratch = [UInt8](repeating: 0, count: 1 << 20) }
                    crc = try checksum(
                        fd,
                        from: bodyStart,
                        count: fields.length,
                        scratch: &scratch,
                        operations: operations
                    )
                }
                if crc == fields.crc { return candidate }
            }
            candidate += 1
        }
        return nil
    }

    /// The CRC-32C of `count` bytes of the file from `offset`, read in pieces through `scratch`; `nil` when the
    /// file ends first.
    private static func checksum(
        _ fd: Int32,
        from offset: Int64,
        count: Int,
        scratch: inout [UInt8],
        operations: any SpoolFileOperations
    ) throws(SpoolError) -> UInt32? {
        var crc: UInt32 = 0
        var done = 0
        while done < count {
            let want = min(scratch.count, count - done)
            let got = try readFully(fd, into: &scratch, count: want, at: offset + Int64(done), operations: operations)
            guard got == want else { return nil }  // the file ends early: no record here
            crc = scratch.withUnsafeBytes {
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<want]), continuing: crc)
            }
            done += want
        }
        return crc
    }

    /// Reads `count` bytes from `offset` into the start of `buffer`, retrying short reads and `EINTR`.
    /// - Returns: The bytes read; fewer than `count` only at the end of the file.
    /// - Throws: ``SpoolError`` with code `readFailed`.
    static func readFully(
        _ fd: Int32,
        into buffer: inout [UInt8],
        count: Int,
        at offset: Int64,
        operations: any SpoolFileOperations
    ) throws(SpoolError) -> Int {
        precondition(count <= buffer.count, "read larger than its buffer")
        var total = 0
        while total < count {
            let got = buffer.withUnsafeMutableBytes { raw in
                operations.pread(
                    fd,
                    UnsafeMutableRawBufferPointer(rebasing: raw[total..<count]),
                    at: offset + Int64(total)
                )
            }
            if got == -Int(EINTR) { continue }
            if got < 0 {
                throw SpoolError(.readFailed, "cannot read a spool file at offset \(offset)", errorNumber: Int32(-got))
            }
            if got == 0 { break }
            total += got
        }
        return total
    }

    /// Writes all of `bytes`, retrying short writes and `EINTR`.
    /// - Returns: `0`, or `-errno` of the failed call (bytes before it may have been written).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, operations: any SpoolFileOperations) -> Int {
        var written = 0
        while written < bytes.count {
            let result = operations.write(fd, UnsafeRawBufferPointer(rebasing: bytes[written...]))
            if result == -Int(EINTR) { continue }
            if result < 0 { return result }
            if result == 0 { return -Int(EIO) }
            written += result
        }
        return 0
    }
}
