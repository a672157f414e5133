import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// Billing days in Europe/Berlin against a real database: the stored day is the local date, its start the local
/// midnight, and the days of 2026's clock changes hold 23 and 25 hours of consumption.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct SummerTimeValidationStoreTests {
    /// Europe/Berlin's 2026 changes as the tz database has them (2026-03-29 01:00Z, 2026-10-25 01:00Z).
    private let berlin = TimeZoneRules(
        identifier: "Europe/Berlin",
        initialOffsetSeconds: 3600,
        transitions: [(1_774_746_000, 7200), (1_792_890_000, 3600)]
    )

    private func frozen(_ meter: Int64, at: Timestamp, ml: Int64) -> ReadingRecord {
        ReadingRecord(
            meterID: meter,
            readAt: at,
            receivedAt: at.adding(seconds: 60),
            kind: .dailyFrozen,
            volumeMillilitres: ml,
            registerModulusMillilitres: 100_000_000_000,
            flowMillilitresPerHour: nil,
            valve: .open,
            batteryMillivolts: nil,
            temperatureCentiCelsius: nil,
            signalDBm: nil,
            statusBits: 0,
            frameCounter: nil,
            source: .native,
            protection: .authenticated
        )
    }

    @Test func theDaysOfTheClockChangesAreStoredWithTheirLocalDatesAndLengths() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let stores = TestStores(conninfo: database.conninfo)
        _ = try await stores.telemetry.migrate()
        _ = try await stores.meters.importMeters([MeterProfile(protocol: .native, address: "42")], columns: [])
        let meter = try #require(Int64(try database.scalar("SELECT id FROM meters") ?? ""))

        // A steady 100 l an hour, read at every local midnight from 2026-03-28 to 2026-03-31 and from 2026-10-24 to
        // 2026-10-27.
        var batch = SinkBatch()
        for (month, first) in [(3, 28), (10, 24)] {
            for day in first...(first + 3) {
                let midnight = berlin.startOfDay(CivilDate(year: 2026, month: month, day: day))
                let hours = (midnight.secondsSinceEpoch - 1_774_000_000) / 3600
                batch.readings.append(frozen(meter, at: midnight, ml: 1_000_000_000 + hours * 100_000))
            }
        }
        _ = try await stores.telemetry.write(batch)
        var settings = ValidationSettings()
        settings.billingZone = berlin
        let now = Timestamp(secondsSinceEpoch: 1_800_000_000)
        while let queued = try await stores.validation.dirtyMeters(limit: 10).first {
            _ = try await stores.validation.validate(queued, settings: settings, now: now)
        }
        let days = try database.connect().query(
            """
            SELECT day::text, to_char(day_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI'), volume_ml,
                read_quality_name(quality)
            FROM daily_reads WHERE day IN ('2026-03-28', '2026-03-29', '2026-03-30', '2026-10-24', '2026-10-25',
                '2026-10-26')
            ORDER BY day
            """
        ).map { $0.map { $0 ?? "NULL" } }
        #expect(
            days == [
                ["2026-03-28", "2026-03-27T23:00", "2400000", "valid"],
                ["2026-03-29", "2026-03-28T23:00", "2300000", "valid"],
                ["2026-03-30", "2026-03-29T22:00", "2400000", "valid"],
                ["2026-10-24", "2026-10-23T22:00", "2400000", "valid"],
                ["2026-10-25", "2026-10-24T22:00", "2500000", "valid"],
                ["2026-10-26", "2026-10-25T23:00", "2400000", "valid"],
            ]
        )
        // PostgreSQL names the same local dates for the stored day starts.
        #expect(
            try database.scalar(
                "SELECT count(*) FROM daily_reads WHERE (day_start AT TIME ZONE 'Europe/Berlin')::date <> day"
            ) == "0"
        )
    }

    @Test func aVerificationExpiresAtItsDatesMidnightInTheBillingZone() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let stores = TestStores(conninfo: database.conninfo)
        _ = try await stores.telemetry.migrate()
        _ = try await stores.meters.importMeters([MeterProfile(protocol: .native, address: "42")], columns: [])
        let meter = try #require(Int64(try database.scalar("SELECT id FROM meters") ?? ""))
        _ = try database.scalar("UPDATE meters SET verification_expires_on = date '2026-06-10' RETURNING id")

        // Read at 23:00 and 01:00 local time (UTC+8) around the expiry date's start: 15:00Z and 17:00Z of the 9th.
        var batch = SinkBatch()
        let shanghai = TimeZoneRules(fixedOffsetSeconds: 8 * 3600)
        let localMidnight = shanghai.startOfDay(CivilDate(year: 2026, month: 6, day: 10))
        for (hours, litres) in [(-1, 0), (1, 2)] as [(Int64, Int64)] {
            batch.readings.append(
                frozen(meter, at: localMidnight.adding(seconds: hours * 3600), ml: 5_000_000 + litres)
            )
        }
        _ = try await stores.telemetry.write(batch)
        var settings = ValidationSettings()
        settings.billingZone = shanghai
        while let queued = try await stores.validation.dirtyMeters(limit: 10).first {
            _ = try await stores.validation.validate(
                queued,
                settings: settings,
                now: Timestamp(secondsSinceEpoch: 1_800_000_000)
            )
        }
        let flags = try database.connect().query(
            """
            SELECT to_char(read_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI'),
                coalesce('verification_expired' = ANY (reasons), false)::text
            FROM readings_validated ORDER BY read_at
            """
        ).map { $0.map { $0 ?? "NULL" } }
        #expect(flags == [["2026-06-09T15:00", "false"], ["2026-06-09T17:00", "true"]])
    }
}
