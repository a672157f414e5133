extension PostgresConnection {
    /// Applies every embedded schema migration that this database has not recorded yet.
    ///
    /// All pending migrations run in order inside one transaction that first takes a transaction-scoped
    /// advisory lock, so concurrent gateways starting together apply each migration exactly once. Each applied
    /// version is recorded in `schema_migrations(version, name, applied_at)`. Running it again is a no-op.
    /// - Returns: The versions applied by this call, in order; empty when the schema was current.
    /// - Throws: `PostgresError` with code `.migrationFailed` and the SQLSTATE when a migration fails (nothing
    ///   is applied), or `.connectionLost` (retryable) when the connection broke.
    public func migrate() throws -> [Int] {
        try migrate(through: Int.max)
    }

    /// Applies the pending migrations up to and including `version`: tests of upgrade paths, and scratch databases
    /// of an earlier schema (`meter-gateway migrate --to-version`, the bench's same-data storage comparison).
    /// - Parameter version: The highest version to apply.
    /// - Returns: The versions applied by this call, in order.
    /// - Throws: As ``migrate()``.
    public func migrate(through version: Int) throws -> [Int] {
        if isInTransaction {
            throw PostgresError(code: .migrationFailed, message: "migrate() called inside an open transaction")
        }
        do {
            try execute("BEGIN")
            try execute("SELECT pg_advisory_xact_lock($1::bigint)", parameters: [String(Migrations.advisoryLockKey)])
            try execute(Migrations.bootstrap)
            let applied = Set(
                try query("SELECT version FROM schema_migrations").compactMap {
                    $0.first.flatMap { $0 }.flatMap { Int($0) }
                }
            )
            var appliedNow: [Int] = []
            for migration in Migrations.all.sorted(by: { $0.version < $1.version })
            where !applied.contains(migration.version) && migration.version <= version {
                try executeScript(migration.sql)
                try execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1::integer, $2)",
                    parameters: [String(migration.version), migration.name]
                )
                appliedNow.append(migration.version)
            }
            try execute("COMMIT")
            if !appliedNow.isEmpty { try forgetPreparedStatements() }
            return appliedNow
        } catch var error as PostgresError {
            if isConnected, isInTransaction { _ = try? execute("ROLLBACK") }
            if error.code != .connectionLost { error.code = .migrationFailed }
            throw error
        }
    }

    /// The highest recorded schema version, or 0 when no migration has been applied.
    /// - Returns: The version.
    /// - Throws: `PostgresError` when the query fails.
    public func schemaVersion() throws -> Int {
        let exists = try query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard exists.first?.first == "t" else { return 0 }
        let rows = try query("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return rows.first?.first.flatMap { $0 }.flatMap { Int($0) } ?? 0
    }
}
