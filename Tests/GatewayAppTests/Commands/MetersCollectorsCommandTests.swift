import Foundation
import GatewayTestSupport
import PostgresSink
import Testing

/// `meters import` with a `collectors` column and `meters collectors assign|unassign|list`, through the built binary
/// against a real database.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"))
struct MetersCollectorsCommandTests {
    private func run(
        _ environment: IntegrationEnvironment,
        database: String,
        _ arguments: [String]
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: environment.binary)
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("METER_GATEWAY_") }
        variables["METER_GATEWAY_POSTGRES_CONNINFO"] = environment.conninfo(database)
        variables["METER_GATEWAY_LOG_LEVEL"] = "error"
        process.environment = variables
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    @Test func importAssignsReplacesAndKeepsCollectors() throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "collectors_import")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        func importCSV(_ csv: String) throws -> (status: Int32, stdout: String, stderr: String) {
            let path = folder + "/meters-\(UInt32.random(in: 0...UInt32.max)).csv"
            try csv.write(toFile: path, atomically: true, encoding: .utf8)
            return try run(environment, database: database, ["meters", "import", path])
        }
        let connection = try PostgresConnection.connect(conninfo: environment.conninfo(database))
        defer { connection.close() }
        func assignments() throws -> [String] {
            try connection.query(
                """
                SELECT m.address || '@' || c.collector FROM collector_meters c JOIN meters m ON m.id = c.meter_id
                ORDER BY 1
                """
            ).map { $0[0] ?? "" }
        }

        let first = try importCSV(
            """
            protocol,address,district,collectors
            cjt188,78330011223344,east,dtu-1; dtu-2
            wmbus,ELS-12345678-51-03,west,dtu-2;dtu-2
            cjt188,78330011223345,east,dtu/3
            mbus,GWF-87654321-60-03,west,

            """
        )
        #expect(first.status == 1, "\(first)")
        #expect(first.stdout.contains("imported 3 meters, 1 rejected"), "\(first.stdout)")
        #expect(first.stderr.contains("line 4, column collectors:"), "\(first.stderr)")
        #expect(first.stderr.contains("\"dtu/3\" is not a collector id"), "\(first.stderr)")
        #expect(try assignments() == ["78330011223344@dtu-1", "78330011223344@dtu-2", "ELS-12345678-51-03@dtu-2"])

        // Without the column, assignments stay; with it, they are replaced (an empty cell removes them).
        let kept = try importCSV("protocol,address,district\ncjt188,78330011223344,north\n")
        #expect(kept.status == 0, "\(kept)")
        #expect(try assignments().count == 3)
        let replaced = try importCSV(
            "protocol,address,collectors\ncjt188,78330011223344,dtu-7\nwmbus,ELS-12345678-51-03,\n"
        )
        #expect(replaced.status == 0, "\(replaced)")
        #expect(try assignments() == ["78330011223344@dtu-7"])
    }

    @Test func assignUnassignAndListWithClearErrors() throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "collectors_cli")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        let path = folder + "/meters.csv"
        try "protocol,address\ncjt188,78330011223344\nwmbus,ELS-12345678-51-03\n".write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        #expect(try run(environment, database: database, ["meters", "import", path]).status == 0)
        let cjt = ["--protocol", "cjt188", "--address", "78330011223344"]
        let wmbus = ["--protocol", "wmbus", "--address", "ELS-12345678-51-03"]

        let assigned = try run(
            environment,
            database: database,
            ["meters", "collectors", "assign"] + cjt + ["--collector", "dtu-1", "dtu-2"]
        )
        #expect(assigned.status == 0, "\(assigned)")
        #expect(assigned.stdout.contains("assigned to dtu-1, dtu-2 (2 new, 0 already assigned)"), "\(assigned.stdout)")
        let again = try run(
            environment,
            database: database,
            ["meters", "collectors", "assign"] + cjt + ["--collector", "dtu-2"]
        )
        #expect(again.status == 0 && again.stdout.contains("(0 new, 1 already assigned)"), "\(again)")
        #expect(
            try run(
                environment,
                database: database,
                ["meters", "collectors", "assign"] + wmbus + ["--collector", "dtu-2"]
            )
            .status == 0
        )

        let unknown = try run(
            environment,
            database: database,
            [
                "meters", "collectors", "assign", "--protocol", "cjt188", "--address", "78330011229999", "--collector",
                "x",
            ]
        )
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no cjt188 meter 78330011229999 is registered"), "\(unknown.stderr)")
        let badID = try run(
            environment,
            database: database,
            ["meters", "collectors", "assign"] + cjt + ["--collector", "a+b"]
        )
        #expect(badID.status != 0)
        #expect(badID.stderr.contains("\"a+b\" is not a collector id"), "\(badID.stderr)")
        let noCollector = try run(environment, database: database, ["meters", "collectors", "assign"] + cjt)
        #expect(noCollector.status != 0)

        // The default is an aligned table; scripts ask for CSV.
        let all = try run(environment, database: database, ["meters", "collectors", "list"])
        #expect(
            all.stdout == """
                collector  protocol  address
                dtu-1      cjt188    78330011223344
                dtu-2      cjt188    78330011223344
                dtu-2      wmbus     ELS-12345678-51-03

                """,
            "\(all)"
        )
        let ofCollector = try run(
            environment,
            database: database,
            ["meters", "collectors", "list", "--collector", "dtu-1", "--format", "csv"]
        )
        #expect(ofCollector.stdout == "collector,protocol,address\ndtu-1,cjt188,78330011223344\n", "\(ofCollector)")
        let ofMeter = try run(
            environment,
            database: database,
            ["meters", "collectors", "list", "--format", "csv"] + wmbus
        )
        #expect(ofMeter.stdout == "collector,protocol,address\ndtu-2,wmbus,ELS-12345678-51-03\n", "\(ofMeter)")

        let removed = try run(
            environment,
            database: database,
            ["meters", "collectors", "unassign"] + cjt + ["--collector", "dtu-1"]
        )
        #expect(removed.status == 0 && removed.stdout.contains("unassigned from 1 of 1 collectors"), "\(removed)")
        let notThere = try run(
            environment,
            database: database,
            ["meters", "collectors", "unassign"] + cjt + ["--collector", "dtu-1"]
        )
        #expect(notThere.status == 1)
        #expect(notThere.stderr.contains("not assigned to any collector named"), "\(notThere.stderr)")
        let remaining = try run(
            environment,
            database: database,
            ["meters", "collectors", "list", "--format", "csv"] + cjt
        )
        #expect(remaining.stdout == "collector,protocol,address\ndtu-2,cjt188,78330011223344\n", "\(remaining)")
    }
}
