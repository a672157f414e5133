import Logging

/// The connection plumbing shared by ``PostgresSession`` and ``TelemetryStore``: connect with the session's setup
/// statements, reconnect after a lost connection, roll back and recover after a failure, and count connections.
///
/// Thread rules: not `Sendable`. Exactly one actor owns an instance, and that actor's executor is a dedicated
/// thread, so every libpq call made through it runs on that thread and never on the Swift cooperative pool.
final class SessionConnection {
    /// Kept only to (re)connect; never logged or put into errors.
    private let conninfo: String
    private let setupStatements: [String]
    private let logger: Logger
    private var connection: PostgresConnection?
    /// Incremented on every new connection, so per-connection state (temporary tables, prepared statements) can
    /// tell that it must be set up again.
    private(set) var generation = 0

    /// Creates the plumbing; nothing connects before ``connected()``.
    /// - Parameters:
    ///   - conninfo: A libpq connection string or URI. It is never logged.
    ///   - setupStatements: Run after each connect, before any work.
    ///   - logger: Receives connection events.
    init(conninfo: String, setupStatements: [String], logger: Logger) {
        self.conninfo = conninfo
        self.setupStatements = setupStatements
        self.logger = logger
    }

    /// Whether an open connection is held.
    var isConnected: Bool { connection?.isConnected ?? false }

    /// The server process id of the connection, or nil when not connected.
    var backendPID: Int32? {
        guard let connection, connection.isConnected else { return nil }
        return connection.backendPID
    }

    /// Closes the connection. A later call reconnects.
    func close() {
        connection?.close()
        connection = nil
    }

    /// The open connection, connecting (or reconnecting after a lost connection) first.
    /// - Throws: ``PostgresError`` with code `.connectionFailed` (retryable) when the server is unreachable.
    func connected() throws -> PostgresConnection {
        if let connection, connection.isConnected { return connection }
        if connection != nil {
            logger.warning("postgres connection lost, reconnecting")
            connection?.close()
            connection = nil
        }
        let fresh = try PostgresConnection.connect(conninfo: conninfo)
        for statement in setupStatements {
            try fresh.execute(statement)
        }
        logger.info(
            "postgres connected",
            metadata: ["pg.backend.pid": "\(fresh.backendPID)", "pg.server.version": "\(fresh.serverVersion)"]
        )
        connection = fresh
        generation += 1
        return fresh
    }

    /// Runs `body` with the connection (connecting first), recovering on failure.
    /// - Throws: What connecting or `body` throws, after recovery.
    func run<R>(_ body: (PostgresConnection) throws -> R) throws -> R {
        let connection = try connected()
        do {
            return try body(connection)
        } catch {
            recover(from: error, on: connection)
            throw error
        }
    }

    /// Runs `body` between `BEGIN` and `COMMIT`, rolling back and recovering on failure.
    /// - Throws: What connecting, `body` or the commit throws, after recovery.
    func withTransaction<R>(_ body: (PostgresConnection) throws -> R) throws -> R {
        try run { connection in
            try connection.execute("BEGIN")
            let result = try body(connection)
            try connection.execute("COMMIT")
            return result
        }
    }

    /// Cleans up after a failed operation: rolls back an open transaction, or forgets a broken connection so
    /// that the next call reconnects (with a new ``generation``).
    private func recover(from error: any Error, on connection: PostgresConnection) {
        if connection.isConnected, connection.isInTransaction {
            do {
                try connection.execute("ROLLBACK")
            } catch {
                logger.warning("postgres rollback failed, dropping connection", metadata: ["pg.error": "\(error)"])
                connection.close()
            }
        }
        if !connection.isConnected {
            self.connection = nil
        }
        logger.warning("postgres operation failed", metadata: ["pg.error": "\(error)"])
    }
}
