import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct MigrationTests {
    @Test func migrateTwiceIsANoOp() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let writer = TelemetryStore(conninfo: database.conninfo, logger: testLogger)
        let all = Migrations.all.map(\.version)
        // Versions grow and may skip a number.
        #expect(all == all.sorted() && Set(all).count == all.count && all.first == 1)
        #expect(try await writer.migrate() == all)
        #expect(try await writer.migrate() == [])
        let connection = try database.connect()
        #expect(try connection.migrate() == [])
        #expect(try connection.schemaVersion() == all.last)
        #expect(try database.count("schema_migrations") == all.count)
        #expect(try database.scalar("SELECT name FROM schema_migrations WHERE version = 1") == "initial schema")
        await writer.close()
    }

    @Test func concurrentMigrationsApplyEachVersionOnce() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let first = TelemetryStore(conninfo: database.conninfo, logger: testLogger)
        let second = TelemetryStore(conninfo: database.conninfo, logger: testLogger)
        async let a = first.migrate()
        async let b = second.migrate()
        let applied = try await a + b
        #expect(applied == Migrations.all.map(\.version))
        #expect(try database.count("schema_migrations") == Migrations.all.count)
        await first.close()
        await second.close()
    }

    /// A v1 database with stored readings and conflicts upgrades in place: old rows get basis, storage and tariff 0,
    /// and a reading that differs only in basis (Vm next to Vb) is a new row, not a conflict.
    @Test func v2UpgradesAV1DatabaseWithRows() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        #expect(try connection.migrate(through: 1) == [1])
        try connection.execute(
            """
            INSERT INTO readings (meter_id, read_at, kind, received_at, volume_ml, register_modulus_ml, valve, status_bits,
                source)
            VALUES (1, '2026-01-01 00:00Z', 0, '2026-01-01 00:01Z', 5000, 0, 0, 0, 'native')
            """
        )
        try connection.execute(
            """
            INSERT INTO value_conflicts (series, meter_id, at, kind, stored_volume_ml, conflicting_volume_ml, received_at)
            VALUES ('reading', 1, '2026-01-01 00:00Z', 0, 5000, 6000, '2026-01-01 00:02Z')
            """
        )
        #expect(try connection.migrate().first == 2)
        #expect(try database.scalar("SELECT basis || '/' || storage || '/' || tariff FROM readings") == "0/0/0")
        #expect(try database.scalar("SELECT basis || '/' || storage || '/' || tariff FROM value_conflicts") == "0/0/0")

        let writer = TelemetryStore(conninfo: database.conninfo, logger: testLogger)
        var batch = SinkBatch()
        let at = Timestamp(secondsSinceEpoch: 1_767_225_600)  // 2026-01-01 00:00 UTC
        var converted = ReadingRecord(
            meterID: 1,
            readAt: at,
            receivedAt: at.adding(seconds: 120),
            kind: .periodic,
            volumeMillilitres: 4_800,
            registerModulusMillilitres: 0,
            flowMillilitresPerHour: nil,
            valve: .unknown,
            batteryMillivolts: nil,
            temperatureCentiCelsius: nil,
            signalDBm: nil,
            statusBits: 0,
            frameCounter: nil,
            source: .wmbus,
            basis: .converted
        )
        batch.readings.append(converted)
        converted.volumeMillilitres = 4_900  // the same key again with another value: a conflict
        batch.readings.append(converted)
        let summary = try await writer.write(batch)
        #expect(summary.readingsInserted == 1)
        #expect(summary.conflicts == 1)
        #expect(try database.count("readings") == 2)
        #expect(
            try database.scalar("SELECT basis || ':' || conflicting_volume_ml FROM value_conflicts WHERE basis = 2")
                == "2:4900"
        )
        await writer.close()
    }

    /// The ticket rules read their inputs from the configuration (GatewayDomain), so v8 leaves no settings table
    /// that could show a second, stale truth.
    @Test func noTicketRuleInputsAreLeftInTheSchema() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        #expect(try connection.migrate().contains(8))
        let left = try connection.query(
            "SELECT to_regclass('ticket_deadline_settings') IS NULL, to_regclass('dispatch_settings') IS NULL"
        )
        #expect(left == [["t", "t"]])
    }

    /// v9: an outage's cancellation is who, when and why together; a half-recorded cancellation is refused.
    @Test func aCancellationRecordsWhoWhenAndWhyTogether() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        #expect(try connection.migrate().contains(9))
        try connection.execute(
            """
            INSERT INTO planned_outages (district, starts_at, ends_at, reason, announced_by)
            VALUES ('d1', now(), now() + interval '1 hour', 'works', 'planner')
            """
        )
        #expect(throws: PostgresError.self) {
            try connection.execute("UPDATE planned_outages SET cancelled_at = now()")
        }
        #expect(throws: PostgresError.self) {
            try connection.execute("UPDATE planned_outages SET cancelled_at = now(), cancelled_by = 'sup'")
        }
        try connection.execute(
            "UPDATE planned_outages SET cancelled_at = now(), cancelled_by = 'sup', cancel_reason = 'postponed'"
        )
        #expect(try database.count("planned_outages", where: "cancelled_at IS NOT NULL") == 1)
    }

    /// v10 seeds each native meter's mark from the frames it stored: the highest stored counter, and the highest one
    /// the identity log no longer holds (pruned, or stored before v6). `meters.mac_key` goes.
    @Test func v10SeedsNativeMarksFromStoredFramesAndDropsMacKey() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        _ = try connection.migrate(through: 8)
        try connection.executeScript(
            """
            INSERT INTO meters (protocol, address, mac_key) VALUES ('native', '1', NULL), ('native', '2', NULL),
                ('native', '3', NULL);
            INSERT INTO uplink_frames (meter_id, frame_counter, frame_type, meter_time, received_at)
            SELECT m.id, c, 1, now(), now() FROM meters m, generate_series(1, 5) c WHERE m.address IN ('1', '2');
            -- Meter 1 still remembers counters 3 to 5; meter 2 remembers all five.
            INSERT INTO frame_identities (meter_id, kind, identity, fingerprint, source, first_received_at)
            SELECT u.meter_id, 1, u.frame_counter, u.frame_counter, 'native', now() FROM uplink_frames u
            JOIN meters m ON m.id = u.meter_id WHERE m.address = '2' OR u.frame_counter >= 3;
            """
        )
        #expect(try connection.migrate() == Migrations.all.map(\.version).filter { $0 > 8 })
        #expect(
            try connection.query(
                """
                SELECT m.address, c.kind, c.high_water, c.forgotten_through FROM counter_marks c
                JOIN meters m ON m.id = c.meter_id ORDER BY m.address
                """
            ) == [["1", "1", "5", "2"], ["2", "1", "5", "-1"]]
        )
        #expect(
            try connection.query(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'meters' AND column_name = 'mac_key'"
            ) == [["0"]]
        )
    }
}
