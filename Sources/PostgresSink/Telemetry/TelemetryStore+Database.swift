extension TelemetryStore {
    /// The store's own connection as a ``PostgresDatabase``, so that the other stores (``MeterStore``,
    /// ``QuarantineStore``, …) can run on it where one connection is enough: a one-shot command, the quarantine
    /// replay, the ingest pipeline's registry reload. Work through it runs on the store's thread, between batches.
    public nonisolated var database: any PostgresDatabase { Database(store: self) }

    /// Runs `body` with the store's connection for another store.
    func runForStore<R: Sendable>(_ body: @Sendable (PostgresConnection) throws -> R) throws -> R {
        try withConnection(body)
    }

    /// Runs `body` in one transaction on the store's connection for another store.
    func runForStoreInTransaction<R: Sendable>(_ body: @Sendable (PostgresConnection) throws -> R) throws -> R {
        try withTransaction(body)
    }

    /// The ``PostgresDatabase`` view of a telemetry store.
    struct Database: PostgresDatabase {
        let store: TelemetryStore

        @discardableResult
        func withConnection<R: Sendable>(_ body: @Sendable (PostgresConnection) throws -> R) async throws -> R {
            try await store.runForStore(body)
        }

        @discardableResult
        func withTransaction<R: Sendable>(_ body: @Sendable (PostgresConnection) throws -> R) async throws -> R {
            try await store.runForStoreInTransaction(body)
        }
    }
}

extension PostgresSessionSettings {
    /// Settings with the session setup the ingest writer uses (a larger `work_mem` and `temp_buffers`, no JIT), for
    /// sessions that run the same kind of set-based statements (validation, the billing and dispatch APIs).
    /// - Parameters:
    ///   - conninfo: A libpq connection string or URI. It is never logged.
    ///   - statementTimeoutMilliseconds: The session's `statement_timeout`, or nil for the server's default.
    /// - Returns: The settings.
    public static func gateway(conninfo: String, statementTimeoutMilliseconds: Int? = nil) -> PostgresSessionSettings {
        PostgresSessionSettings(
            conninfo: conninfo,
            statementTimeoutMilliseconds: statementTimeoutMilliseconds,
            setup: WriterSQL.sessionSettings
        )
    }
}
