public import Logging

/// What a store needs from the database: run a piece of work on a connection, alone or as one transaction.
///
/// ``PostgresSession`` (one connection on its own thread) and ``PostgresSessionPool`` (a few sessions, for the
/// HTTP APIs) implement it. The body runs synchronously on the session's thread, so libpq's blocking calls never
/// run on the Swift cooperative pool; it must not keep the connection beyond its return.
public protocol PostgresDatabase: Sendable {
    /// Runs `body` with an open connection (connecting first), outside a transaction.
    @discardableResult
    func withConnection<R: Sendable>(_ body: @Sendable (PostgresConnection) throws -> R) async throws -> R
    /// Runs `body` between `BEGIN` and `COMMIT`; any error rolls back and is rethrown.
    @discardableResult
    func withTransaction<R: Sendable>(_ body: @Sendable (PostgresConnection) throws -> R) async throws -> R
}

/// Settings of a session: where to connect and how the session is set up after each (re)connect.
public struct PostgresSessionSettings: Sendable {
    /// A libpq connection string or URI. It is never logged.
    public var conninfo: String
    /// `statement_timeout` of the session (nil: the server's default, normally none). The HTTP APIs set one so
    /// that a slow page cannot hold a connection for long.
    public var statementTimeoutMilliseconds: Int?
    /// Statements run after each connect (e.g. `SET work_mem = …`), before any work.
    public var setup: [String]

    public init(conninfo: String, statementTimeoutMilliseconds: Int? = nil, setup: [String] = []) {
        self.conninfo = conninfo
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.setup = setup
    }

    /// The statements run after each connect.
    var setupStatements: [String] {
        setup + (statementTimeoutMilliseconds.map { ["SET statement_timeout = \(max(1, $0))"] } ?? [])
    }
}

/// One PostgreSQL connection owned by an actor whose executor is a thread of its own.
///
/// Failure model: when the connection breaks, the error is retryable (``PostgresError/isRetryable``) and the next
/// call reconnects; a failed transaction is rolled back before the error is rethrown. Every store
/// (``MeterStore``, ``BillingStore``, ``DispatchStore``, …) runs its SQL through a session or a pool, so the
/// connection and transaction rules exist once.
public actor PostgresSession: PostgresDatabase {
    private let executor: DedicatedThreadExecutor
    private let session: SessionConnection

    /// Incremented on every new connection, so per-connection state kept by a caller (temporary tables, prepared
    /// statements) can tell that it must be set up again.
    public var generation: Int { session.generation }

    /// Runs every job of this actor on the session's own thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Creates a session; it connects on the first call that needs the database.
    /// - Parameters:
    ///   - settings: Where to connect and how to set up each connection.
    ///   - logger: Receives connection events (metadata keys `pg.*`).
    public init(_ settings: PostgresSessionSettings, logger: Logger) {
        self.executor = DedicatedThreadExecutor(name: "pg-session")
        self.session = SessionConnection(
            conninfo: settings.conninfo,
            setupStatements: settings.setupStatements,
            logger: logger
        )
    }

    /// Creates a session with default settings for a connection string.
    /// - Parameters:
    ///   - conninfo: A libpq connection string or URI. It is never logged.
    ///   - logger: Receives connection events (metadata keys `pg.*`).
    public init(conninfo: String, logger: Logger) {
        self.init(PostgresSessionSettings(conninfo: conninfo), logger: logger)
    }

    deinit {
        // The connection (if any) is finished by its own deinit; the thread is stopped asynchronously because
        // deinit may run on that very thread.
        executor.shutdown()
    }

    /// Connects if not connected, or reconnects after a lost connection.
    /// - Throws: ``PostgresError`` with code `.connectionFailed` (retryable) when the server is unreachable.
    public func connect() throws {
        assert(executor.isOnExecutorThread)
        _ = try session.connected()
    }

    /// Closes the connection. A later call reconnects.
    public func close() {
        session.close()
    }

    /// Whether the session currently holds an open connection.
    public var isConnected: Bool { session.isConnected }

    /// The server process id of the session (for diagnostics and tests), or nil when not connected.
    public var backendPID: Int32? { session.backendPID }

    /// Applies pending schema migrations (see ``PostgresConnection/migrate()``).
    /// - Returns: The versions applied now; empty when the schema was current.
    /// - Throws: ``PostgresError`` with code `.migrationFailed` or `.connectionLost`.
    public func migrate() throws -> [Int] {
        try withConnection { try $0.migrate() }
    }

    @discardableResult
    public func withConnection<R: Sendable>(_ body: @Sendable (PostgresConnection) throws -> R) throws -> R {
        try run(body)
    }

    @discardableResult
    public func withTransaction<R: Sendable>(_ body: @Sendable (PostgresConnection) throws -> R) throws -> R {
        assert(executor.isOnExecutorThread)
        return try session.withTransaction(body)
    }

    /// Runs `body` with the connection, recovering on failure. Isolated: callers on the session's thread use it
    /// for work that keeps non-Sendable state.
    /// - Parameters:
    ///   - body: The work; it must not keep the connection beyond its return.
    /// - Returns: What `body` returns.
    /// - Throws: What connecting or `body` throws, after recovery.
    @discardableResult
    public func run<R>(_ body: (PostgresConnection) throws -> R) throws -> R {
        assert(executor.isOnExecutorThread)
        return try session.run(body)
    }
}
