import Foundation
import GatewayCore
import GatewayTestSupport
import Logging
import PostgresSink
import Testing

/// `meter-gateway storage maintain` through the built binary: each table's retention setting drops only that
/// table's old months (a swapped pair would drop the billing reads that the interval retention was set to keep),
/// and what it did is printed per table.
@Suite(.enabled(if: IntegrationEnvironment.isAvailable, "needs GATEWAY_TEST_PG and MQTT_TEST_PORT"))
struct StorageMaintainCommandTests {
    @Test func eachRetentionSettingDropsOnlyItsOwnTablesOldMonths() async throws {
        let environment = try IntegrationEnvironment()
        let database = try environment.makeDatabase(prefix: "storage_maintain")
        defer { environment.dropDatabase(database) }
        let conninfo = environment.conninfo(database)
        let writer = TelemetryStore(conninfo: conninfo, logger: Logger(label: "storage-maintain"))
        _ = try await writer.migrate()
        let meters = MeterStore(writer.database)
        _ = try await meters.registerMeters([MeterRegistration(protocol: .native, address: "700")])
        let meter = try #require(try await meters.loadMeters(protocol: .native).first?.id)

        // One reading and one interval five months before the current UTC month (both land in DEFAULT).
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let thisMonth = calendar.date(from: calendar.dateComponents([.year, .month], from: Date()))!
        let old = calendar.date(byAdding: DateComponents(month: -5, day: 14), to: thisMonth)!
        let at = Timestamp(secondsSinceEpoch: Int64(old.timeIntervalSince1970))
        var batch = SinkBatch()
        batch.readings = [
            ReadingRecord(
                meterID: meter,
                readAt: at,
                receivedAt: at.adding(seconds: 5),
                kind: .periodic,
                volumeMillilitres: 1_000_000,
                registerModulusMillilitres: 100_000_000_000,
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
        batch.intervals = [
            IntervalRecord(
                meterID: meter,
                intervalStart: at,
                intervalMinutes: 30,
                volumeMillilitres: 20,
                endIndexMillilitres: 1_000_000,
                receivedAt: at.adding(seconds: 5)
            )
        ]
        _ = try await writer.write(batch)
        await writer.close()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: environment.binary)
        process.arguments = ["storage", "maintain"]
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("METER_GATEWAY_") }
        variables["METER_GATEWAY_POSTGRES_CONNINFO"] = conninfo
        variables["METER_GATEWAY_STORAGE_READINGS_RETENTION_MONTHS"] = "2"
        variables["METER_GATEWAY_STORAGE_INTERVAL_DAYS_RETENTION_MONTHS"] = "12"
        variables["METER_GATEWAY_STORAGE_PARTITION_MONTHS_AHEAD"] = "1"
        process.environment = variables
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        await process.exited()
        #expect(process.terminationStatus == 0, "\(printed)")

        let lines = printed.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let readings = try #require(lines.first { $0.hasPrefix("readings: ") })
        let intervals = try #require(lines.first { $0.hasPrefix("interval_days: ") })
        #expect(readings.contains("1 row from DEFAULT") && !readings.hasSuffix("dropped none"), "\(readings)")
        #expect(intervals.contains("1 row from DEFAULT") && intervals.hasSuffix("dropped none"), "\(intervals)")

        let connection = try PostgresConnection.connect(conninfo: conninfo)
        defer { connection.close() }
        #expect(try connection.query("SELECT count(*) FROM readings") == [["0"]], "past the 2 months kept")
        #expect(try connection.query("SELECT count(*) FROM interval_days") == [["1"]], "within the 12 months kept")
    }
}
