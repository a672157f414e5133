import Foundation
import GatewayCore
import GatewayDomain
import GatewayTestSupport
import Logging
import PostgresSink
import Testing

/// `meter-gateway meters import` against a real database, through the built binary.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"))
struct MetersImportCommandTests {
    private func importFile(
        _ environment: IntegrationEnvironment,
        database: String,
        folder: String,
        csv: String
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let path = folder + "/meters-\(UInt32.random(in: 0...UInt32.max)).csv"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        return try command(environment, database: database, ["meters", "import", path])
    }

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

    @Test func importsGoodRowsReportsBadOnesAndUpdatesOnlyTheColumnsGiven() throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "meters_import")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        let db = { try PostgresConnection.connect(conninfo: environment.conninfo(database)) }

        let first = try importFile(
            environment,
            database: database,
            folder: folder,
            csv: """
                protocol,address,district,size,qmin_m3h,qt_m3h,qmax_m3h,register_digits,verification_expires_on,aes_key
                native,100000001,north,G4,0.04,0.6,6,5,2030-03-01,2B7E151628AED2A6ABF7158809CF4F3C
                cjt188,78330011223344,east,G2.5,0.025,0.4,4,5,2029-01-10,
                cjt188,78330011223345,east,G2.5,0.4,0.025,4,5,2029-01-10,

                """
        )
        #expect(first.status == 1)
        #expect(first.stdout.contains("read 3 rows: imported 2 meters, 1 rejected"), "\(first.stdout)")
        #expect(first.stderr.contains("line 4, column qt_m3h: Qt must be greater than Qmin"), "\(first.stderr)")

        let connection = try db()
        defer { connection.close() }
        func rows(_ sql: String) throws -> [[String]] { try connection.query(sql).map { $0.map { $0 ?? "NULL" } } }
        let select = """
            SELECT address, coalesce(district, '-'), coalesce(size, '-'), coalesce(qmax_ml_per_h::text, '-'),
                   coalesce(verification_expires_on::text, '-'), aes_key IS NOT NULL
            FROM meters ORDER BY address
            """
        #expect(
            try rows(select) == [
                ["100000001", "north", "G4", "6000000", "2030-03-01", "t"],
                ["78330011223344", "east", "G2.5", "4000000", "2029-01-10", "f"],
            ]
        )

        // A file naming fewer columns updates only those; the rejected meter can be fixed and imported.
        let second = try importFile(
            environment,
            database: database,
            folder: folder,
            csv: "protocol,address,district\nnative,100000001,south\ncjt188,78330011223345,east\n"
        )
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("imported 2 meters, 0 rejected"))
        #expect(
            try rows(select) == [
                ["100000001", "south", "G4", "6000000", "2030-03-01", "t"],
                ["78330011223344", "east", "G2.5", "4000000", "2029-01-10", "f"],
                ["78330011223345", "east", "-", "-", "-", "f"],
            ]
        )

        // A bad header imports nothing.
        let third = try importFile(
            environment,
            database: database,
            folder: folder,
            csv: "protocol,adress\nnative,100000003\n"
        )
        #expect(third.status == 2)
        #expect(third.stderr.contains("line 1, column adress: unknown column"), "\(third.stderr)")
        #expect(try rows("SELECT count(*) FROM meters") == [["3"]])
    }

    /// `meters import --dry-run` checks a file without touching the database (not even migrating it), and exits 1
    /// when rows would be rejected; `meters reset-counter` forgets a registered meter's counter marks (a re-keyed
    /// meter is silenced without it) and exits 2 for a meter that is not registered.
    @Test func aDryRunWritesNothingAndResetCounterForgetsARegisteredMetersMarks() throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "meters_dry_run")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        let db = try PostgresConnection.connect(conninfo: environment.conninfo(database))
        defer { db.close() }
        let header = "protocol,address,district\n"

        // On a database nothing has migrated yet: the dry run must leave it that way.
        let dry = try command(
            environment,
            database: database,
            [
                "meters", "import", "--dry-run",
                try Self.write(header + "native,100000002,north\nbogus,1,x\n", in: folder),
            ]
        )
        #expect(dry.status == 1)
        #expect(dry.stdout == "read 2 rows: 1 would be imported, 1 rejected (dry run)\n")
        #expect(try db.query("SELECT to_regclass('meters') IS NULL") == [["t"]], "nothing created, nothing written")

        let real = try importFile(
            environment,
            database: database,
            folder: folder,
            csv: header + "native,100000001,north\n"
        )
        #expect(real.status == 0, "\(real.stderr)")

        let unknown = try command(
            environment,
            database: database,
            ["meters", "reset-counter", "--protocol", "native", "--address", "999"]
        )
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no native meter 999 is registered"))

        let meter = try #require(try db.query("SELECT id FROM meters WHERE address = '100000001'").first?.first ?? nil)
        _ = try db.execute("INSERT INTO counter_marks (meter_id, kind, high_water) VALUES (\(meter), 1, 41)")
        let reset = try command(
            environment,
            database: database,
            ["meters", "reset-counter", "--protocol", "native", "--address", "100000001"]
        )
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(reset.stdout.hasPrefix("native meter 100000001: forgot 1 counter marks"))
        #expect(
            try db.query("SELECT count(*) FROM counter_marks WHERE meter_id = \(meter) AND high_water >= 0") == [["0"]]
        )
    }

    private static func write(_ csv: String, in folder: String) throws -> String {
        let path = folder + "/meters-\(UInt32.random(in: 0...UInt32.max)).csv"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func accuracyTestsAreJudgedAndExpiredMetersListed() throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "meters_accuracy")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        let imported = try importFile(
            environment,
            database: database,
            folder: folder,
            csv: """
                protocol,address,district,accuracy_class,qmin_m3h,qt_m3h,qmax_m3h,verified_on,verification_expires_on
                cjt188,78330011223344,east,1.5,0.04,0.6,6,2010-01-01,2020-01-01
                cjt188,78330011223345,east,1.5,0.04,0.6,6,2020-01-01,2030-01-01

                """
        )
        #expect(imported.status == 0, "\(imported.stderr)")

        let expired = try command(
            environment,
            database: database,
            ["meters", "expired", "--as-of", "2026-01-01", "--format", "csv"]
        )
        #expect(expired.status == 0)
        #expect(
            expired.stdout == "protocol,meter,district,verification_expires_on\ncjt188,78330011223344,east,2020-01-01\n"
        )

        let base = ["meters", "test", "--protocol", "cjt188", "--meter", "78330011223344", "--tester", "lab-3"]
        // A dispute test at 3 m³/h (above Qt): in-service limit 2 × 1.5 % = 3 %.
        let failed = try command(
            environment,
            database: database,
            base + ["--kind", "dispute", "--flow", "3", "--error=-3.5"]
        )
        #expect(failed.status == 1)
        #expect(failed.stdout.hasPrefix("fail: error -3.5 % at 3 m³/h, band high, limit ±3.00 %"), "\(failed.stdout)")
        let passed = try command(
            environment,
            database: database,
            base + ["--kind", "verification", "--flow", "0.1", "--error", "2.9"]
        )
        #expect(passed.status == 0, "\(passed.stderr)")
        #expect(passed.stdout.hasPrefix("pass: error 2.9 % at 0.1 m³/h, band low, limit ±3.00 %"), "\(passed.stdout)")
        let unknown = try command(
            environment,
            database: database,
            [
                "meters", "test", "--protocol", "cjt188", "--meter", "99999999999999", "--tester", "x", "--kind",
                "field",
                "--flow", "1", "--error", "0",
            ]
        )
        #expect(unknown.status != 0)

        let connection = try PostgresConnection.connect(conninfo: environment.conninfo(database))
        defer { connection.close() }
        #expect(
            try connection.query(
                "SELECT kind, error_bp, verdict, band, limit_bp, tester FROM accuracy_tests ORDER BY id"
            )
            .map { $0.map { $0 ?? "NULL" } } == [
                ["dispute", "-350", "fail", "high", "300", "lab-3"],
                ["verification", "290", "pass", "low", "300", "lab-3"],
            ]
        )

        // Nothing published yet: the billing export is the header, and the cursor to continue from.
        let export = try command(environment, database: database, ["billing", "export"])
        #expect(export.status == 0)
        #expect(export.stdout.hasPrefix("seq,protocol,meter,district,basis,day"))
        #expect(export.stderr.contains("next cursor: "))
        let held = try command(environment, database: database, ["review", "list", "--format", "csv"])
        #expect(held.stdout == "protocol,meter,basis,target,kind,volume_ml,reasons\n")
        let heldJSON = try command(environment, database: database, ["review", "list", "--format", "json"])
        #expect(heldJSON.stdout == "[]\n")
    }

    @Test func reviewDecisionsFromTheCommandLineAreRecordedOnce() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "review_cli")
        defer { environment.dropDatabase(database) }
        let writer = TelemetryStore(conninfo: environment.conninfo(database), logger: Logger(label: "review-cli"))
        _ = try await writer.migrate()
        let meters = MeterStore(writer.database)
        _ = try await meters.importMeters([MeterProfile(protocol: .native, address: "900")], columns: [])
        let meter = try #require(try await meters.lookupMeter(protocol: .native, address: "900")?.id)
        let readAt = Timestamp(secondsSinceEpoch: 1_767_225_600)
        var batch = SinkBatch()
        batch.readings = [
            ReadingRecord(
                meterID: meter,
                readAt: readAt,
                receivedAt: readAt.adding(seconds: 7200),  // two hours of clock drift: held
                kind: .periodic,
                volumeMillilitres: 5_000_000,
                registerModulusMillilitres: 0,
                flowMillilitresPerHour: nil,
                valve: .open,
                batteryMillivolts: nil,
                temperatureCentiCelsius: nil,
                signalDBm: nil,
                statusBits: 0,
                frameCounter: nil,
                source: .native
            )
        ]
        _ = try await writer.write(batch)
        for queued in try await ValidationStore(writer.database).dirtyMeters(limit: 5) {
            _ = try await ValidationStore(writer.database).validate(
                queued,
                settings: ValidationSettings(),
                now: readAt.adding(seconds: 86_400)
            )
        }
        await writer.close()

        let listed = try command(environment, database: database, ["review", "list", "--format", "csv"])
        #expect(listed.stdout.contains("native,900,unspecified,2026-01-01T00:00:00Z,0,5000000,clock_drift"))
        let decide = [
            "review", "decide", "reject", "--protocol", "native", "--meter", "900", "--read-at", "2026-01-01T00:00:00Z",
            "--kind", "0", "--reviewer", "b.li", "--reason", "meter replaced, reading belongs to the old one",
        ]
        let first = try command(environment, database: database, decide)
        #expect(first.status == 0, "\(first.stderr)")
        let connection = try PostgresConnection.connect(conninfo: environment.conninfo(database))
        defer { connection.close() }
        #expect(
            try connection.query("SELECT decision, reviewer, reason FROM reading_reviews").map { $0.map { $0 ?? "" } }
                == [["reject", "b.li", "meter replaced, reading belongs to the old one"]]
        )
        #expect(try connection.query("SELECT count(*) FROM validation_queue").first?.first == "1")
    }

    @Test func dispatchFromTheCommandLine() throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "tickets_cli")
        defer { environment.dropDatabase(database) }
        let folder = try environment.makeFolder()
        let imported = try importFile(
            environment,
            database: database,
            folder: folder,
            csv: "protocol,address,district,rural,customer_class\nnative,4242,north,yes,commercial\n"
        )
        #expect(imported.status == 0, "\(imported.stderr)")
        let hotline = try command(
            environment,
            database: database,
            ["tickets", "hotline", "--meter", "4242", "--reporter", "caller", "--actor", "desk-1", "--note", "smell"]
        )
        #expect(hotline.stdout == "opened ticket 1\n", "\(hotline.stderr)")
        let listed = try command(
            environment,
            database: database,
            ["tickets", "list", "--priority", "P0", "--format", "csv"]
        )
        #expect(listed.stdout.contains("\n1,P0,open,gas_smell_reported,4242,north,"), "\(listed.stdout)")
        let stepped = try command(
            environment,
            database: database,
            ["tickets", "step", "1", "acknowledged", "--actor", "desk-2"]
        )
        #expect(stepped.stdout.hasPrefix("ticket 1: acknowledged by desk-2"), "\(stepped.stderr)")
        let refused = try command(
            environment,
            database: database,
            ["tickets", "step", "1", "closed", "--actor", "desk-2"]
        )
        #expect(refused.status != 0)
        let sla = try command(environment, database: database, ["tickets", "sla", "--format", "csv"])
        // Acknowledged within its 5 minutes: 1 of 1 met; the other deadlines are not decided yet.
        #expect(sla.stdout.contains("\nP0,north,1,1/1,0/0,0/0,0/0,,,\n"), "\(sla.stdout)")
        let due = try command(
            environment,
            database: database,
            ["tickets", "inspections-due", "--as-of", "2099-01-01", "--format", "csv"]
        )
        #expect(due.stdout.contains("native,4242,north,commercial,,"), "\(due.stdout)")
        let notYet = try command(
            environment,
            database: database,
            ["tickets", "inspections-due", "--as-of", "2000-01-01"]
        )
        #expect(notYet.stdout == "protocol  meter  district  customer_class  last_inspection  due_on\n")
    }
}
