internal import CLibPQ

/// One libpq connection (`PGconn`): plain statements, text-row queries and binary `COPY … FROM STDIN`.
///
/// Thread rules: a connection has **one owner at a time** and is deliberately not `Sendable`. Every method
/// blocks the calling thread until the server answers, so production code calls it only from a thread it owns
/// (the executor thread of a ``TelemetryStore`` or a ``PostgresSession``, a listener's thread), never from the Swift
/// cooperative pool. Tests and one-shot command-line tools may call it directly.
///
/// The conninfo is used to connect and then forgotten: it is never stored, logged or put into an error.
public final class PostgresConnection {
    /// The `PGconn *`. Nil only after ``close()``.
    private var handle: OpaquePointer?

    /// Size of each `PQputCopyData` call.
    static let copyChunkSize = 64 * 1024

    /// The session's server-side prepared statements (pipelined statements), by SQL text: see
    /// ``preparedName(for:)``.
    private var preparedStatements: [String: String] = [:]
    /// The most statements a session prepares; any beyond it run unnamed (parsed and planned on every run).
    var preparedStatementLimit = 256

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Opens a connection and prepares the session (UTF-8 client encoding, UTC time zone, notices silenced).
    ///
    /// Unless the conninfo says otherwise, connecting times out after 10 s and TCP keepalives plus
    /// `tcp_user_timeout=60000` detect a dead server within about a minute.
    /// - Parameters:
    ///   - conninfo: A libpq connection string (`host=… port=… user=… dbname=…`) or URI.
    /// - Returns: The open connection.
    /// - Throws: `PostgresError` with code `.invalidArgument` when the conninfo cannot be parsed, or
    ///   `.connectionFailed` (retryable) when the server cannot be reached or refuses the login. The error
    ///   never contains the conninfo or password.
    public static func connect(conninfo: String) throws -> PostgresConnection {
        let password = try validate(conninfo: conninfo)
        // expand_dbname = 1: the "dbname" value is the caller's whole conninfo. libpq processes keywords in
        // order and the last value wins, so the defaults *before* it can be overridden by the conninfo, and
        // client_encoding *after* it cannot (the encoder always sends UTF-8). The defaults bound how long a
        // blocking call can hang on a dead server or a half-open TCP connection (about a minute) instead of
        // the OS default of many minutes.
        let keywords: [String?] = [
            "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
            "tcp_user_timeout", "dbname", "fallback_application_name", "client_encoding",
        ]
        let values: [String?] = ["10", "1", "30", "10", "3", "60000", conninfo, "meter-gateway", "UTF8"]
        let raw = try withCStringArray(keywords) { keywordPointers in
            try withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let raw else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        let connection = PostgresConnection(handle: raw)
        guard PQstatus(raw) == CONNECTION_OK else {
            throw PostgresError(
                code: .connectionFailed,
                message: redacting(password, in: connection.libpqMessage())
            )
        }
        try connection.prepareSession()
        return connection
    }

    /// Rejects a conninfo that libpq cannot parse without echoing libpq's message, which can quote a
    /// fragment of a malformed password.
    /// - Returns: The conninfo's password, if it has one, so that messages can be cleaned of it.
    private static func validate(conninfo: String) throws -> String? {
        guard !conninfo.utf8.contains(0) else {
            throw PostgresError(code: .invalidArgument, message: "conninfo contains a NUL byte")
        }
        var errorMessage: UnsafeMutablePointer<CChar>?
        let options = PQconninfoParse(conninfo, &errorMessage)
        if let errorMessage { PQfreemem(errorMessage) }
        guard let options else {
            throw PostgresError(code: .invalidArgument, message: "conninfo could not be parsed")
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val {
                let password = String(cString: value)
                return password.isEmpty ? nil : password
            }
            option += 1
        }
        return nil
    }

    /// A libpq message with every occurrence of the password replaced. libpq's connection messages are not known
    /// to quote the password, but they do quote parts of the conninfo (host, user, database, file names); this is
    /// the guarantee, whatever a libpq version writes.
    /// - Parameters:
    ///   - password: The conninfo's password, if any.
    ///   - message: The message.
    /// - Returns: The message without the password.
    static func redacting(_ password: String?, in message: String) -> String {
        guard let password, !password.isEmpty else { return message }
        return message.replacing(password, with: "<redacted>")
    }

    private func prepareSession() throws {
        if let handle { clibpq_silence_notices(handle) }
        try execute("SET TIME ZONE 'UTC'")
    }

    // MARK: Status

    /// Whether the connection is open and usable (`PQstatus == CONNECTION_OK`).
    public var isConnected: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Whether a transaction block is open (idle in transaction, or in a failed transaction).
    public var isInTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// The server process id of this session, for `pg_terminate_backend` and logs; 0 when closed.
    public var backendPID: Int32 {
        guard let handle else { return 0 }
        return PQbackendPID(handle)
    }

    /// The server version as an integer, e.g. 150018 for 15.18; 0 when closed.
    public var serverVersion: Int32 {
        guard let handle else { return 0 }
        return PQserverVersion(handle)
    }

    /// Reconnects with the original parameters (`PQreset`) and prepares the session again.
    ///
    /// Session state (temporary tables, `LISTEN` registrations, settings) is gone afterwards.
    /// - Throws: `PostgresError` with code `.connectionFailed` (retryable) when the server is still unreachable.
    public func reset() throws {
        guard let handle else {
            throw PostgresError(code: .connectionFailed, message: "connection was closed")
        }
        PQreset(handle)
        preparedStatements.removeAll()  // a new server session holds none
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PostgresError(code: .connectionFailed, message: libpqMessage())
        }
        try prepareSession()
    }

    /// Closes the connection. Later calls throw `.connectionLost`.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        preparedStatements.removeAll()
    }

    // MARK: Statements

    /// Runs one statement with text parameters (`PQexecParams`).
    /// - Parameters:
    ///   - sql: One SQL statement; parameters are `$1`, `$2`, ….
    ///   - parameters: Text values, or nil for SQL NULL.
    /// - Returns: The number of rows the statement affected (`PQcmdTuples`), 0 when it reports none.
    /// - Throws: `PostgresError`: `.serverError` with the SQLSTATE, `.connectionLost` (retryable) when the
    ///   connection broke, `.invalidArgument` when a parameter contains a NUL byte.
    @discardableResult
    public func execute(_ sql: String, parameters: [String?] = []) throws -> Int {
        let result = try run(sql, parameters: parameters, accepting: PGRES_COMMAND_OK, PGRES_TUPLES_OK)
        defer { PQclear(result) }
        return Self.affectedRows(result)
    }

    /// Runs one statement with text parameters and returns its rows in text format.
    /// - Parameters:
    ///   - sql: One SQL statement; parameters are `$1`, `$2`, ….
    ///   - parameters: Text values, or nil for SQL NULL.
    /// - Returns: The rows; each column is its text value, or nil for NULL.
    /// - Throws: `PostgresError`, as for ``execute(_:parameters:)``.
    public func query(_ sql: String, parameters: [String?] = []) throws -> [[String?]] {
        let result = try run(sql, parameters: parameters, accepting: PGRES_TUPLES_OK, PGRES_COMMAND_OK)
        defer { PQclear(result) }
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) != 0 {
                    values.append(nil)
                } else if let value = PQgetvalue(result, row, column) {
                    values.append(String(cString: value))
                } else {
                    values.append(nil)
                }
            }
            rows.append(values)
        }
        return rows
    }

    /// Runs a script of several statements separated by semicolons (`PQexec`, simple protocol, no parameters).
    func executeScript(_ sql: String) throws {
        let handle = try requireHandle()
        let result = try check(PQexec(handle, sql), accepting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY])
        PQclear(result)
    }

    /// Sends a `COPY … FROM STDIN` statement and its data, in chunks of about 64 KiB.
    ///
    /// The data is sent straight from `data`'s storage (no copy); pass the reused buffer of a
    /// `BinaryCopyEncoder`.
    /// - Parameters:
    ///   - sql: The `COPY table (columns) FROM STDIN (FORMAT binary)` statement.
    ///   - data: The complete COPY stream: header, tuples and trailer for binary format.
    /// - Returns: The number of rows the server stored.
    /// - Throws: `PostgresError` with code `.copyFailed` and the SQLSTATE when the server rejects the data,
    ///   `.connectionLost` (retryable) when the connection broke.
    @discardableResult
    public func copyIn(sql: String, data: [UInt8]) throws -> Int {
        let handle = try requireHandle()
        let start = try check(PQexec(handle, sql), accepting: [PGRES_COPY_IN], code: .copyFailed)
        PQclear(start)
        // The connection is in COPY IN state now: it must see PQputCopyEnd and be drained to NULL whatever
        // happens, or the next statement fails with "another command is already in progress".
        defer { drainResults(handle) }
        var sent = true
        data.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                guard let base = chars.baseAddress else { return }
                var offset = 0
                while offset < chars.count {
                    let length = min(Self.copyChunkSize, chars.count - offset)
                    guard PQputCopyData(handle, base + offset, Int32(length)) == 1 else {
                        sent = false
                        return
                    }
                    offset += length
                }
            }
        }
        // A non-nil error message makes the server abort the COPY with that message.
        _ = PQputCopyEnd(handle, sent ? nil : "client could not send all COPY data")
        let result = try check(PQgetResult(handle), accepting: [PGRES_COMMAND_OK], code: .copyFailed)
        defer { PQclear(result) }
        return Self.affectedRows(result)
    }

    // MARK: Internals

    /// Runs `sql` through `PQexecParams` with text parameters and checks the result status; the caller clears the
    /// result.
    func run(
        _ sql: String,
        parameters: [String?],
        accepting accepted: ExecStatusType...
    ) throws -> OpaquePointer {
        let handle = try requireHandle()
        let raw = try withCStringArray(parameters) { pointers in
            PQexecParams(handle, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        return try check(raw, accepting: accepted)
    }

    /// The name of `sql`'s prepared statement in this session, preparing it (`PQprepare`, one round trip) on its
    /// first use; nil once the session holds ``preparedStatementLimit`` statements.
    ///
    /// A prepared statement is parsed once and its plan is cached by the server, where an unnamed one is parsed and
    /// planned on every run: for the small repeated transactions of alarm frames that was about half of the
    /// server's time. The server re-plans a prepared statement by itself when a table it uses changes (a stage
    /// table dropped and created again, a migration); ``migrate(through:)`` also forgets them all, since a
    /// statement whose result columns changed would fail. Prepared statements outlive a rolled-back transaction.
    /// - Throws: ``PostgresError``: the statement's parse error (as running it would throw), `.connectionLost`.
    func preparedName(for sql: String) throws -> String? {
        if let name = preparedStatements[sql] { return name }
        guard preparedStatements.count < preparedStatementLimit else { return nil }
        let handle = try requireHandle()
        let name = "gw_\(preparedStatements.count + 1)"
        PQclear(try check(PQprepare(handle, name, sql, 0, nil), accepting: [PGRES_COMMAND_OK]))
        preparedStatements[sql] = name
        return name
    }

    /// Drops the session's prepared statements (`DEALLOCATE ALL`).
    func forgetPreparedStatements() throws {
        guard !preparedStatements.isEmpty else { return }
        try execute("DEALLOCATE ALL")
        preparedStatements.removeAll()
    }

    func requireHandle() throws -> OpaquePointer {
        guard let handle else {
            throw PostgresError(code: .connectionLost, message: "connection was closed")
        }
        return handle
    }

    private func drainResults(_ handle: OpaquePointer) {
        while let leftover = PQgetResult(handle) { PQclear(leftover) }
    }

    /// Returns `result` when its status is one of `accepted`; otherwise clears it and throws the matching
    /// `PostgresError`. Together with ``makeError(_:code:file:line:)`` this is the one place where libpq
    /// results become errors.
    func check(
        _ result: OpaquePointer?,
        accepting accepted: [ExecStatusType],
        code: PostgresError.Code = .serverError,
        file: String = #fileID,
        line: Int = #line
    ) throws -> OpaquePointer {
        if let result, accepted.contains(PQresultStatus(result)) { return result }
        let error = makeError(result, code: code, file: file, line: line)
        if let result { PQclear(result) }
        throw error
    }

    /// Converts a failed (or unexpected) libpq result into a `PostgresError`; does not clear `result`.
    ///
    /// A connection whose status went bad is `.connectionLost` (retryable) whatever the result said, so a
    /// terminated backend (SQLSTATE 57P01) and a dead socket look the same to callers. The SQLSTATE and the
    /// primary message are kept; the DETAIL line goes only to `debugDescription`.
    func makeError(_ result: OpaquePointer?, code: PostgresError.Code, file: String, line: Int) -> PostgresError {
        let isBroken = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
        var sqlState: String?
        var message: String?
        var detail: String?
        var effectiveCode = code
        if let result {
            sqlState = Self.field(result, clibpq_diag_sqlstate())
            message = Self.field(result, clibpq_diag_message_primary())
            detail = Self.field(result, clibpq_diag_message_detail())
            let status = PQresultStatus(result)
            if status != PGRES_FATAL_ERROR, status != PGRES_NONFATAL_ERROR {
                effectiveCode = .unexpectedResult
                message = "unexpected result status \(String(cString: PQresStatus(status)))"
            }
        }
        return PostgresError(
            code: isBroken ? .connectionLost : effectiveCode,
            sqlState: sqlState,
            message: message ?? libpqMessage(),
            detail: detail,
            file: file,
            line: line
        )
    }

    private static func field(_ result: OpaquePointer, _ code: Int32) -> String? {
        guard let value = PQresultErrorField(result, code) else { return nil }
        return String(cString: value)
    }

    /// libpq's last error message, trimmed to one line.
    func libpqMessage() -> String {
        guard let handle, let raw = PQerrorMessage(handle) else { return "connection closed" }
        let text = String(cString: raw)
        let firstLine = text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        var trimmed = firstLine.trimmingASCIIWhitespace()
        for prefix in ["FATAL:", "ERROR:", "PANIC:"] where trimmed.hasPrefix(prefix) {
            trimmed = trimmed.dropFirst(prefix.count).trimmingASCIIWhitespace()
        }
        return trimmed.isEmpty ? "unknown libpq error" : trimmed
    }

    static func affectedRows(_ result: OpaquePointer) -> Int {
        guard let text = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    /// Quotes an identifier for SQL (`PQescapeIdentifier`).
    func escapeIdentifier(_ identifier: String) throws -> String {
        let handle = try requireHandle()
        let utf8Count = identifier.utf8.count
        guard let escaped = PQescapeIdentifier(handle, identifier, utf8Count) else {
            throw PostgresError(code: .invalidArgument, message: "identifier could not be escaped")
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// The raw `PGconn *` for the listener's poll loop. Valid until ``close()``.
    var rawHandle: OpaquePointer? { handle }
}

@available(*, unavailable)
extension PostgresConnection: Sendable {}

/// Calls `body` with a NULL-terminated array of C strings (nil entries stay NULL), all backed by one buffer.
func withCStringArray<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) throws -> R) throws -> R {
    var storage: [CChar] = []
    var offsets: [Int] = []
    offsets.reserveCapacity(strings.count)
    for string in strings {
        guard let string else {
            offsets.append(-1)
            continue
        }
        guard !string.utf8.contains(0) else {
            throw PostgresError(code: .invalidArgument, message: "a text parameter contains a NUL byte")
        }
        offsets.append(storage.count)
        storage.append(contentsOf: string.utf8CString)
    }
    return try storage.withUnsafeBufferPointer { buffer in
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(offsets.count + 1)
        for offset in offsets {
            pointers.append(offset < 0 ? nil : buffer.baseAddress.map { $0 + offset })
        }
        pointers.append(nil)
        return try body(pointers)
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
