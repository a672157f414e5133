import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

/// The README's "Looking at the data" queries run on the schema the gateway migrates to. They are what a newcomer
/// types first; one that names a column the schema dropped (as `readings.quality` after v25) fails here.
@Suite(.enabled(if: TestServer.isAvailable), .timeLimit(.minutes(1)))
struct ReadmeQueriesTests {
    /// The statements of the first `sql` block under "## Looking at the data", one per line, comments removed.
    static func lookingAtTheData() throws -> [String] {
        let readme = try String(contentsOf: Repository.url("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "\n## Looking at the data\n"))
        let rest = readme[section.upperBound...]
        let open = try #require(rest.range(of: "```sql\n"))
        let close = try #require(rest[open.upperBound...].range(of: "\n```"))
        return rest[open.upperBound..<close.lowerBound].split(separator: "\n").compactMap { line in
            let statement = line.components(separatedBy: "--")[0].trimmingCharacters(in: .whitespaces)
            return statement.isEmpty ? nil : statement
        }
    }

    @Test func theQueriesOfLookingAtTheDataRunOnTheMigratedSchema() async throws {
        let statements = try Self.lookingAtTheData()
        #expect(statements.count >= 8, "the block was found and read")
        try await withMigratedStores { stores, database, ids in
            let meter = try #require(ids["m1"])
            _ = try await stores.telemetry.write(
                batch(
                    readings: [makeReading(meter: meter, at: at(0), volume: 1_000)],
                    intervals: [makeInterval(meter: meter, start: at(0), volume: 20)],
                    alarms: [makeAlarm(meter: meter, raisedAt: at(0))]
                )
            )
            let connection = try database.connect()
            defer { connection.close() }
            for statement in statements {
                do {
                    _ = try connection.execute(statement)
                } catch {
                    Issue.record("README query failed: \(statement): \(error)")
                }
            }
        }
    }
}
