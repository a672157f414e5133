#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file-system calls the spool makes, as one seam, so tests can make any of them fail on demand (EIO, ENOSPC).
///
/// Every method returns its result (a descriptor, a byte count, a size or `0`) when it is non-negative, and
/// `-errno` when the call failed; `errno` is captured inside the call, so nothing between the call and the check
/// can overwrite it. `write` and `pread` return `-EINTR` to the caller, which retries; the others retry `EINTR`
/// themselves. Implementations must be safe to call from any thread; the spool calls them from the MQTT network
/// thread (writer) and the pipeline task (reader, checkpoint) at the same time.
///
/// The writer's hot path makes one `write` call per frame through this existential, on a reused buffer; no
/// method may allocate per call.
protocol SpoolFileOperations: Sendable {
    /// `open(2)`. Returns the descriptor or `-errno`.
    func open(_ path: String, flags: Int32, mode: mode_t) -> Int
    /// `write(2)` of `bytes`. Returns the number of bytes written (possibly fewer) or `-errno`.
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int
    /// `pread(2)` into `buffer` from `offset`. Returns the number of bytes read (0 at the end) or `-errno`.
    func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int
    /// `fdatasync(2)`. Returns `0` or `-errno`.
    func fdatasync(_ fd: Int32) -> Int
    /// `ftruncate(2)`. Returns `0` or `-errno`.
    func ftruncate(_ fd: Int32, to length: Int64) -> Int
    /// The size of the open file (`fstat(2)`). Returns the size or `-errno`.
    func size(_ fd: Int32) -> Int64
    /// `close(2)`. The descriptor is released even when it fails. Returns `0` or `-errno`.
    func close(_ fd: Int32) -> Int
    /// `rename(2)`. Returns `0` or `-errno`.
    func rename(_ from: String, to: String) -> Int
    /// `unlink(2)`. Returns `0` or `-errno`.
    func unlink(_ path: String) -> Int
    /// Makes the folder's entries durable: `open(O_DIRECTORY)` + `fsync(2)` + `close`. Returns `0` or `-errno`.
    func fsyncDirectory(_ path: String) -> Int
}

/// The real POSIX file operations of the spool.
struct PosixSpoolFileOperations: SpoolFileOperations {
    func open(_ path: String, flags: Int32, mode: mode_t) -> Int {
        while true {
            let fd = systemOpen(path, flags, mode)
            if fd >= 0 { return Int(fd) }
            if errno != EINTR { return -Int(errno) }
        }
    }

    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        let result = systemWrite(fd, bytes.baseAddress, bytes.count)
        return result < 0 ? -Int(errno) : result
    }

    func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int {
        let result = systemPread(fd, buffer.baseAddress, buffer.count, off_t(offset))
        return result < 0 ? -Int(errno) : result
    }

    func fdatasync(_ fd: Int32) -> Int {
        while systemFdatasync(fd) != 0 {
            if errno != EINTR { return -Int(errno) }
        }
        return 0
    }

    func ftruncate(_ fd: Int32, to length: Int64) -> Int {
        while systemFtruncate(fd, off_t(length)) != 0 {
            if errno != EINTR { return -Int(errno) }
        }
        return 0
    }

    func size(_ fd: Int32) -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return -Int64(errno) }
        return Int64(info.st_size)
    }

    func close(_ fd: Int32) -> Int {
        // Never retry close on Linux: the descriptor is released even when close reports EINTR or EIO.
        systemClose(fd) == 0 ? 0 : -Int(errno)
    }

    func rename(_ from: String, to: String) -> Int {
        systemRename(from, to) == 0 ? 0 : -Int(errno)
    }

    func unlink(_ path: String) -> Int {
        systemUnlink(path) == 0 ? 0 : -Int(errno)
    }

    func fsyncDirectory(_ path: String) -> Int {
        let fd = open(path, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC, mode: 0)
        guard fd >= 0 else { return fd }
        var result = 0
        while fsync(Int32(fd)) != 0 {
            if errno != EINTR {
                result = -Int(errno)
                break
            }
        }
        let closed = close(Int32(fd))
        return result != 0 ? result : closed
    }
}

// The methods above share their names with the C functions, so they call these file-scope forwarders.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, bytes, count) }
private func systemPread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    pread(fd, buffer, count, offset)
}
private func systemFdatasync(_ fd: Int32) -> Int32 { fdatasync(fd) }
private func systemFtruncate(_ fd: Int32, _ length: off_t) -> Int32 { ftruncate(fd, length) }
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
private func systemUnlink(_ path: String) -> Int32 { unlink(path) }
