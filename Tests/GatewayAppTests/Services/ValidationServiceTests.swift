import Foundation
import GatewayCore
import GatewayDomain
import GatewayTestSupport
import PostgresSink
import Synchronization
import Testing

@testable import GatewayApp

/// The validation service's batches and its failure handling against a real database.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(2)))
struct ValidationServiceTests {
    private static let day: Int64 = 86_400

    @Test func aMeterThatFailsAloneStaysQueuedWhileTheOthersOfItsBatchAreValidated() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let telemetry = TelemetryStore(conninfo: database.conninfo, logger: testLogger)
        _ = try await telemetry.migrate()
        let session = PostgresSession(conninfo: database.conninfo, logger: testLogger)
        let registry = MeterStore(session)
        _ = try await registry.registerMeters(
            (0..<6).map { MeterRegistration(protocol: .native, address: "s\($0)", district: "d1", isRural: false) }
        )
        let ids = try await registry.loadMeters(protocol: .native).map(\.id).sorted()
        let poisoned = ids[3]
        // Three ended days of daily readings for every meter.
        let today = Timestamp.now.secondsSinceEpoch / Self.day * Self.day
        var batch = SinkBatch()
        for meter in ids {
            for number in 0..<3 as Range<Int64> {
                let at = Timestamp(secondsSinceEpoch: today - (3 - number) * Self.day)
                batch.readings.append(
                    ReadingRecord(
                        meterID: meter,
                        readAt: at,
                        receivedAt: at.adding(seconds: 60),
                        kind: .dailyFrozen,
                        volumeMillilitres: 5_000_000 + number * 700_000,
                        registerModulusMillilitres: 100_000_000_000,
                        flowMillilitresPerHour: nil,
                        valve: .open,
                        batteryMillivolts: nil,
                        temperatureCentiCelsius: nil,
                        signalDBm: nil,
                        statusBits: 0,
                        frameCounter: number + 1,
                        source: .native
                    )
                )
            }
        }
        _ = try await telemetry.write(batch)
        await telemetry.close()
        // Storing a day of the poisoned meter fails, so every batch that holds it fails.
        let admin = try database.connect()
        _ = try admin.execute(
            """
            CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.meter_id = \(poisoned) THEN RAISE EXCEPTION 'poisoned meter'; END IF;
                RETURN NEW;
            END $$
            """
        )
        _ = try admin.execute(
            "CREATE TRIGGER poison BEFORE INSERT OR UPDATE ON daily_reads FOR EACH ROW EXECUTE FUNCTION poison()"
        )

        let statistics = ValidationStatistics()
        let service = ValidationService(
            session: PostgresSession(conninfo: database.conninfo, logger: testLogger),
            settings: ValidationSettings(),
            ticketRules: TicketRules(),
            signatures: nil,
            delaySeconds: 0,
            statistics: statistics,
            databaseReady: { true },
            logger: testLogger
        )
        let queued = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            defer { group.cancelAll() }
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if statistics.failures.load(ordering: .relaxed) >= 1,
                    statistics.metersValidated.load(ordering: .relaxed) >= Int64(ids.count - 1)
                {
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            return try database.connect().query("SELECT meter_id FROM validation_queue ORDER BY 1")
        }
        await session.close()
        #expect(queued == [[String(poisoned)]])
        #expect(statistics.metersValidated.load(ordering: .relaxed) == Int64(ids.count - 1))
        // Held back after failing alone: not retried within the pause.
        #expect(statistics.failures.load(ordering: .relaxed) == 1)
        #expect(try database.count("daily_reads", where: "meter_id = \(poisoned)") == 0)
        #expect(try database.count("daily_reads", where: "meter_id <> \(poisoned)") == 2 * (ids.count - 1))
        let judged = try database.count("readings_validated", where: "quality IS NOT NULL AND meter_id <> \(poisoned)")
        #expect(judged == 3 * (ids.count - 1))
        #expect(try database.count("readings_validated", where: "quality IS NOT NULL AND meter_id = \(poisoned)") == 0)
    }
}
