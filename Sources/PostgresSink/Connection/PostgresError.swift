/// An error from the PostgreSQL sink: a failed connection, a lost connection, a server error, a failed COPY
/// or a failed migration.
///
/// `description` is safe to log: it never contains the conninfo, passwords or payload bytes. The server's
/// DETAIL and HINT lines (which can quote row values) appear only in `debugDescription`.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case connectionFailed
            case connectionLost
            case serverError
            case copyFailed
            case migrationFailed
            case unexpectedResult
            case invalidArgument
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The connection could not be established (server down, refused, authentication failed). Retryable.
        public static let connectionFailed = Code(.connectionFailed)
        /// An established connection broke (server restart, backend terminated, network). Retryable.
        public static let connectionLost = Code(.connectionLost)
        /// The server rejected a statement; `sqlState` says why.
        public static let serverError = Code(.serverError)
        /// A `COPY … FROM STDIN` failed while sending data or at its end.
        public static let copyFailed = Code(.copyFailed)
        /// A schema migration failed; its transaction was rolled back.
        public static let migrationFailed = Code(.migrationFailed)
        /// The server answered with a result this client did not expect (a protocol or programming error).
        public static let unexpectedResult = Code(.unexpectedResult)
        /// An argument could not be sent (for example a string containing a NUL byte).
        public static let invalidArgument = Code(.invalidArgument)

        public var description: String {
            switch base {
            case .connectionFailed: "connectionFailed"
            case .connectionLost: "connectionLost"
            case .serverError: "serverError"
            case .copyFailed: "copyFailed"
            case .migrationFailed: "migrationFailed"
            case .unexpectedResult: "unexpectedResult"
            case .invalidArgument: "invalidArgument"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// The five-character SQLSTATE from the server (`PG_DIAG_SQLSTATE`), when the server sent one.
    public var sqlState: String?
    /// The server's or libpq's primary message. Never contains the conninfo.
    public var message: String
    /// The server's DETAIL line. It can quote row values, so it appears only in `debugDescription`.
    public var detail: String?
    /// Whether retrying the same operation later may succeed (lost connection, deadlock, serialization
    /// failure, server shutting down). Every sink write is idempotent, so a retryable failure is retried
    /// with the same batch.
    public var isRetryable: Bool
    /// Where the error was raised.
    public var file: String
    /// Where the error was raised.
    public var line: Int

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - sqlState: The server's SQLSTATE, if any.
    ///   - message: A message that must not contain the conninfo or payload bytes.
    ///   - detail: Extra detail for `debugDescription` only.
    ///   - isRetryable: Overrides the retry classification derived from `code` and `sqlState`.
    ///   - file: The source file; defaults to the caller's.
    ///   - line: The source line; defaults to the caller's.
    public init(
        code: Code,
        sqlState: String? = nil,
        message: String,
        detail: String? = nil,
        isRetryable: Bool? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.isRetryable = isRetryable ?? PostgresError.classifyRetryable(code: code, sqlState: sqlState)
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "PostgresError.\(code)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if isRetryable { text += " (retryable)" }
        return text
    }

    public var debugDescription: String {
        var text = description
        if let detail { text += " detail: \(detail)" }
        return text + " at \(file):\(line)"
    }

    /// Whether the error belongs to the rows of the batch itself rather than to the database's state: a data
    /// exception (SQLSTATE class 22: a value out of range, bad encoding …), an integrity violation (class 23)
    /// other than a unique violation (23505, which idempotent inserts absorb and which therefore means a race,
    /// not bad data), or an argument that cannot be sent (a NUL byte). Only such an error may isolate and
    /// quarantine a frame; every other error — connection, read-only (25006), statement timeout (57014),
    /// insufficient privilege (42501), undefined table or column after a schema change (42P01, 42703), disk full
    /// (53100), … — holds the batch and is retried until it commits.
    public var isFrameDataError: Bool {
        if code == .invalidArgument { return true }
        guard let sqlState else { return false }
        if sqlState.hasPrefix("22") { return true }
        return sqlState.hasPrefix("23") && sqlState != "23505"
    }

    /// Retry classification: lost or refused connections, and the SQLSTATEs that mean "try again".
    static func classifyRetryable(code: Code, sqlState: String?) -> Bool {
        if code == .connectionFailed || code == .connectionLost { return true }
        guard let sqlState else { return false }
        switch sqlState {
        case "40001",  // serialization_failure
            "40P01",  // deadlock_detected
            "55P03",  // lock_not_available
            "57P01",  // admin_shutdown (pg_terminate_backend, fast shutdown)
            "57P02",  // crash_shutdown
            "57P03":  // cannot_connect_now (starting up, recovery)
            return true
        default:
            // Class 08: connection exception. Class 53: insufficient resources (disk full, out of memory,
            // too many connections).
            return sqlState.hasPrefix("08") || sqlState.hasPrefix("53")
        }
    }
}
