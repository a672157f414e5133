import Foundation
import GatewayTestSupport
import PostgresSink
import Testing

/// `meters import` streaming a big file and `billing export --all` following the cursor, through the built binary
/// against a real database.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"), .serialized)
struct StreamingCommandTests {
    private func command(
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
        let folder = try environment.makeFolder()
        // Files rather than pipes: the output of a big run must not fill a pipe nobody reads yet.
        let outPath = folder + "/out"
        let errPath = folder + "/err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        process.waitUntilExit()
        return (
            process.terminationStatus, try String(contentsOfFile: outPath, encoding: .utf8),
            try String(contentsOfFile: errPath, encoding: .utf8)
        )
    }

    private func write(_ text: String, in environment: IntegrationEnvironment) throws -> String {
        let path = try environment.makeFolder() + "/meters.csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func importStreamsFiftyThousandRowsReportingEveryRejectedLine() throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "import_stream")
        defer { environment.dropDatabase(database) }
        // 50,000 meters over ten batches; line 20,001 is bad, line 40,003 repeats the meter of line 2 (another batch).
        var text = "protocol,address,district,qmin_m3h,qt_m3h\n"
        for id in 1...50_000 {
            text += "native,\(id),d\(id % 7),0.04,\(id == 20_000 ? "0.01" : "0.6")\n"
            if id == 40_001 { text += "native,1,elsewhere,0.04,0.6\n" }
        }
        text += "native,50001,\"quoted, district\",0.04,0.6\n"
        let path = try write(text, in: environment)

        let result = try command(environment, database: database, ["meters", "import", path])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout == "read 50002 rows: imported 50000 meters, 2 rejected\n", "\(result.stderr)")
        #expect(result.stderr.contains("\(path): line 20001, column qt_m3h: Qt must be greater than Qmin"))
        #expect(result.stderr.contains("\(path): line 40003, column address: meter 1 already appears on line 2"))
        // One progress line: the first 64 KiB chunk that takes the count past 50,000 rows.
        let progress = result.stderr.split(separator: "\n").filter { $0.hasSuffix("passed the checks") }
        #expect(progress.count == 1, "\(result.stderr)")
        #expect(progress.first?.hasPrefix("\(path): 50") == true && progress.first?.contains(" rows read, ") == true)

        let connection = try PostgresConnection.connect(conninfo: environment.conninfo(database))
        defer { connection.close() }
        #expect(try connection.query("SELECT count(*) FROM meters").first?.first == "50000")
        // The first line of a repeated meter is the one imported; a quoted cell keeps its comma.
        #expect(try connection.query("SELECT district FROM meters WHERE address = '1'").first?.first == "d1")
        #expect(
            try connection.query("SELECT district FROM meters WHERE address = '50001'").first?.first
                == "quoted, district"
        )
        #expect(try connection.query("SELECT count(*) FROM meters WHERE address = '20000'").first?.first == "0")
    }

    @Test func aRecordThatNeverEndsImportsNothingAndSaysWhere() throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "import_unclosed")
        defer { environment.dropDatabase(database) }
        var text = "protocol,address,district\nnative,1,a\nnative,2,a\nnative,3,\"unclosed\n"
        for id in 4...40_000 { text += "native,\(id),a district name long enough to fill\n" }
        let path = try write(text, in: environment)

        let result = try command(environment, database: database, ["meters", "import", path])
        #expect(result.status == 2)
        #expect(result.stdout.contains("nothing imported"), "\(result.stdout)")
        #expect(result.stderr.contains("\(path): line 4: the record is longer than 1048576 bytes"), "\(result.stderr)")
        let connection = try PostgresConnection.connect(conninfo: environment.conninfo(database))
        defer { connection.close() }
        // The rows before it were in the same transaction: rolled back with it.
        #expect(try connection.query("SELECT count(*) FROM meters").first?.first == "0")

        let ragged = try write("protocol,address\nnative,1\nnative,2,extra\nlora,3\n", in: environment)
        let second = try command(environment, database: database, ["meters", "import", ragged])
        #expect(second.status == 1)
        #expect(second.stdout == "read 3 rows: imported 1 meters, 2 rejected\n")
        #expect(second.stderr.contains("line 3: has 3 fields, the header names 2"), "\(second.stderr)")
        #expect(second.stderr.contains("line 4, column protocol: \"lora\" is not one of"), "\(second.stderr)")
    }

    @Test func exportAllFollowsTheCursorAcrossPagesToTheEnd() throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "export_all")
        defer { environment.dropDatabase(database) }
        let path = try write("protocol,address,district\nnative,4242,\"north, old town\"\n", in: environment)
        #expect(try command(environment, database: database, ["meters", "import", path]).status == 0)
        let connection = try PostgresConnection.connect(conninfo: environment.conninfo(database))
        defer { connection.close() }
        _ = try connection.execute(
            """
            INSERT INTO billing_feed (meter_id, basis, day, day_start, version, is_correction, start_index_ml,
                end_index_ml, volume_ml, quality, reasons, protection)
            SELECT m.id, 0, d::date, d, 1, false, 1000 * i, 1000 * (i + 1), 1000, 0, '{}', 'plain'
            FROM meters m, generate_series(1, 25) AS i,
                 LATERAL (SELECT timestamptz '2026-01-01 00:00Z' + (i - 1) * interval '1 day' AS d) AS days
            """
        )

        let one = try command(environment, database: database, ["billing", "export", "--limit", "10"])
        #expect(one.stdout.split(separator: "\n").count == 11)
        #expect(one.stderr.contains("(more)"))

        let all = try command(environment, database: database, ["billing", "export", "--limit", "10", "--all"])
        #expect(all.status == 0, "\(all.stderr)")
        let lines = all.stdout.split(separator: "\n")
        #expect(lines.count == 26, "\(all.stdout)")
        #expect(lines.first?.hasPrefix("seq,protocol,meter,district") == true)
        #expect(lines.filter { $0.hasPrefix("seq,") }.count == 1)
        // Field 6, not 5: the quoted district holds a comma.
        let days = lines.dropFirst().map { $0.split(separator: ",")[6] }
        #expect(days.first == "2026-01-01" && days.last == "2026-01-25" && Set(days).count == 25)
        #expect(lines.dropFirst().allSatisfy { $0.contains(",\"north, old town\",") })
        for page in 1...3 { #expect(all.stderr.contains("billing export: page \(page), ")) }
        #expect(all.stderr.contains("page 3, 25 days so far"))
        #expect(all.stderr.contains("next cursor: ") && !all.stderr.contains("(more)"), "\(all.stderr)")

        // JSON: one page object per line, each as the HTTP API sends it; the last says no more follow.
        let json = try command(
            environment,
            database: database,
            ["billing", "export", "--limit", "10", "--all", "--format", "json"]
        )
        let pages = try json.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(pages.map { ($0["reads"] as? [Any])?.count } == [10, 10, 5])
        #expect(pages.map { $0["has_more"] as? Bool } == [true, true, false])

        // Starting from the cursor the export printed, nothing more is there.
        let cursor = try #require(all.stderr.split(separator: "\n").last { $0.hasPrefix("next cursor: ") })
            .dropFirst("next cursor: ".count)
        let again = try command(environment, database: database, ["billing", "export", "--cursor", String(cursor)])
        #expect(again.stdout.split(separator: "\n").count == 1)
    }
}
