#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error of the durable spool.
///
/// Every spool failure that crosses the module boundary is a `SpoolError`. All of them come from the file system
/// (a full or failing disk, a missing folder, permissions), so trying again later may succeed; ``code`` says which
/// kind of operation failed.
///
/// ``description`` is safe to log: it names the file and the system error, never frame bytes. ``debugDescription``
/// adds the source location.
public struct SpoolError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The category of a ``SpoolError``.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case openFailed
            case writeFailed
            case syncFailed
            case readFailed
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A segment, the checkpoint or the spool folder could not be created, opened or listed.
        public static let openFailed = Code(.openFailed)
        /// Bytes could not be written, or a file could not be truncated, renamed or deleted.
        public static let writeFailed = Code(.writeFailed)
        /// The operating system could not confirm that written bytes reached stable storage (`fdatasync`, `fsync`
        /// of the folder, or `close` failed). Recently written records are not trusted as durable.
        public static let syncFailed = Code(.syncFailed)
        /// A segment or the checkpoint could not be read or inspected.
        public static let readFailed = Code(.readFailed)

        public var description: String {
            switch base {
            case .openFailed: return "openFailed"
            case .writeFailed: return "writeFailed"
            case .syncFailed: return "syncFailed"
            case .readFailed: return "readFailed"
            }
        }
    }

    /// What went wrong, as a category.
    public var code: Code
    /// A human-readable explanation naming the file. Never contains frame bytes.
    public var message: String
    /// The POSIX `errno` behind the failure, or `0` when there is none.
    public var errorNumber: Int32
    /// The file that raised the error.
    public var file: String
    /// The line that raised the error.
    public var line: Int

    /// Creates an error.
    /// - Parameters:
    ///   - code: The category.
    ///   - message: An explanation; must not contain frame bytes.
    ///   - errorNumber: The POSIX `errno`, or `0`.
    ///   - file: The file that raised the error.
    ///   - line: The line that raised the error.
    public init(
        _ code: Code,
        _ message: String,
        errorNumber: Int32 = 0,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.errorNumber = errorNumber
        self.file = file
        self.line = line
    }

    public var description: String {
        guard errorNumber != 0 else { return "SpoolError.\(code): \(message)" }
        return "SpoolError.\(code): \(message): \(String(cString: strerror(errorNumber)))"
    }

    public var debugDescription: String {
        "SpoolError(code: \(code), message: \(message), errno: \(errorNumber), at: \(file):\(line))"
    }
}
