import Testing

@testable import PostgresSink

/// Stage tables that stores without per-connection state make sure of inside their transaction.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct StageTablesTests {
    /// The OID of the session's temporary table `name`, or nil when it does not exist.
    private func oid(_ name: String, on connection: PostgresConnection) throws -> String? {
        try connection.query("SELECT to_regclass('pg_temp.\(name)')::oid::text").first?.first ?? nil
    }

    @Test func sessionTablesMadeInsideATransactionOutliveItsCommitEmptyAndAreNotMadeAgain() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        // The alarm stage table has a column of the schema's type protection_level.
        _ = try connection.migrate()
        let tables = [StageTables.alarms, StageTables.newAlarms]

        // A rolled-back transaction takes its creation with it; the next one creates the tables again.
        try connection.execute("BEGIN")
        try StageTables.ensureSessionTables(tables, on: connection)
        #expect(try oid(StageTables.alarms.name, on: connection) != nil)
        try connection.execute("ROLLBACK")
        #expect(try oid(StageTables.alarms.name, on: connection) == nil)

        try connection.execute("BEGIN")
        try StageTables.ensureSessionTables(tables, on: connection)
        try connection.execute(
            "INSERT INTO gw_new_alarms VALUES (1, 1, now(), now(), 'over_flow', false, 'P0', true)"
        )
        try connection.execute("COMMIT")
        let alarms = try #require(try oid(StageTables.alarms.name, on: connection))
        let newAlarms = try #require(try oid(StageTables.newAlarms.name, on: connection))
        // Emptied at commit, like the ingest store's session tables.
        #expect(try connection.query("SELECT count(*) FROM gw_new_alarms") == [["0"]])

        // Later transactions find them: the same relations, no catalog churn.
        for _ in 0..<3 {
            try connection.execute("BEGIN")
            try StageTables.ensureSessionTables(tables, on: connection)
            try connection.execute("COMMIT")
        }
        #expect(try oid(StageTables.alarms.name, on: connection) == alarms)
        #expect(try oid(StageTables.newAlarms.name, on: connection) == newAlarms)
    }
}
