import Foundation
import GatewayTestSupport
import PostgresSink
import Testing

/// `migrate --to-version`, through the built binary against a real database: a scratch database of an earlier schema
/// (scripts/v16-same-data.sh builds the v16 layout with it), and a later `migrate` applies the rest.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"))
struct MigrateCommandTests {
    private func migrate(
        _ environment: IntegrationEnvironment,
        database: String,
        _ arguments: [String]
    ) throws -> (status: Int32, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: environment.binary)
        process.arguments = ["migrate"] + arguments
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("METER_GATEWAY_") }
        variables["METER_GATEWAY_POSTGRES_CONNINFO"] = environment.conninfo(database)
        process.environment = variables
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self))
    }

    @Test func migratesUpToTheGivenVersionAndLaterToTheEnd() throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "migrate_to")
        defer { environment.dropDatabase(database) }
        let connection = try PostgresConnection.connect(conninfo: environment.conninfo(database))
        defer { connection.close() }
        let layout = """
            SELECT (SELECT max(version) FROM schema_migrations),
                (SELECT relkind FROM pg_class WHERE oid = 'interval_readings'::regclass)
            """

        let toV16 = try migrate(environment, database: database, ["--to-version", "16"])
        #expect(toV16.status == 0)
        #expect(toV16.stdout == "applied migrations: \((1...16).map(String.init).joined(separator: ", "))\n")
        #expect(try connection.query(layout) == [["16", "r"]])
        let again = try migrate(environment, database: database, ["--to-version", "16"])
        #expect(again.stdout == "database is up to date\n")

        let rest = try migrate(environment, database: database, [])
        #expect(rest.status == 0)
        #expect(rest.stdout.hasPrefix("applied migrations: 17, 18, "))
        let after = try #require(try connection.query(layout).first)
        #expect(after.last == "v")
        #expect((after.first.flatMap { $0 }.flatMap { Int($0) } ?? 0) > 16)
    }
}
