import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// Leak signatures and the district balance against a real database: found during validation, stored as alarms,
/// turned into tickets (or not, for warnings), never repeated.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct SignatureStoreTests {
    /// 2026-01-01 00:00 UTC.
    private let t0 = Timestamp(secondsSinceEpoch: 1_767_225_600)
    private let day: Int64 = 86_400

    private func frozen(_ meter: Int64, _ number: Int64, ml: Int64) -> ReadingRecord {
        var reading = makeReading(meter: meter, at: t0.adding(seconds: number * day), volume: ml, kind: .dailyFrozen)
        reading.receivedAt = reading.readAt.adding(seconds: 3600)
        return reading
    }

    private func validateAll(_ writer: ValidationStore) async throws -> MeterValidationSummary {
        var total = MeterValidationSummary()
        while true {
            let queue = try await writer.dirtyMeters(limit: 50)
            if queue.isEmpty { return total }
            for meter in queue {
                let summary = try await writer.validate(
                    meter,
                    settings: ValidationSettings(),
                    signatures: SignatureSettings(),
                    now: t0.adding(seconds: 10 * day)
                )
                total.signatureAlarms += summary.signatureAlarms
                total.ticketEvents += summary.ticketEvents
            }
        }
    }

    /// The OIDs of the session's alarm stage tables that exist.
    private func alarmStageTables(_ session: PostgresSession) async throws -> [String] {
        try await session.withConnection { connection in
            let row = try connection.query(
                "SELECT to_regclass('pg_temp.gw_stage_alarms')::oid::text, to_regclass('pg_temp.gw_new_alarms')::oid::text"
            )
            return (row.first ?? []).compactMap { $0 }
        }
    }

    @Test func signaturesFoundDuringValidationBecomeAlarmsAndTickets() async throws {
        try await withMigratedStores(meters: ["leaky", "burst"]) { stores, database, ids in
            let writer = stores.telemetry
            var g4 = [
                MeterProfile(protocol: .native, address: "leaky"), MeterProfile(protocol: .native, address: "burst"),
            ]
            for index in g4.indices {
                g4[index].size = .g4
                g4[index].qmaxMillilitresPerHour = 6_000_000
            }
            _ = try await stores.meters.importMeters(g4, columns: [.size, .qmaxM3h])
            var batch = SinkBatch()
            // "leaky": 48 intervals of 2 L (a tiny continuous flow); "burst": one half hour of 3.5 m³ (7 m³/h).
            for (name, volumes) in [
                ("leaky", Array(repeating: Int64(2_000), count: 48)),
                ("burst", [0, 3_500_000] + Array(repeating: 0, count: 46)),
            ] {
                let meter = ids[name]!
                let total = volumes.reduce(0, +)
                batch.readings += [frozen(meter, 0, ml: 1_000_000_000), frozen(meter, 1, ml: 1_000_000_000 + total)]
                batch.intervals += volumes.enumerated().map {
                    makeInterval(meter: meter, start: t0.adding(seconds: Int64($0.offset) * 1800), volume: $0.element)
                }
            }
            _ = try await writer.write(batch)
            let first = try await validateAll(stores.validation)
            let stored = try database.connect().query(
                "SELECT m.address, a.condition, a.priority, a.raw_code FROM alarms a JOIN meters m ON m.id = a.meter_id ORDER BY 1, 2"
            ).map { $0.map { $0 ?? "" } }
            #expect(first.signatureAlarms == 3, "\(stored)")
            #expect(
                stored == [
                    ["burst", "over_flow", "P0", String(LeakSignatures.Code.totalFlow)],
                    ["burst", "sudden_increase", "P1", String(LeakSignatures.Code.suddenIncrease)],
                    ["leaky", "continuous_flow_warning", "P2", String(LeakSignatures.Code.continuousWarning)],
                ]
            )
            // The warning is recorded without a ticket; the over-flow and the increase open theirs.
            #expect(
                try database.connect().query("SELECT condition FROM repair_tickets ORDER BY condition").map {
                    $0[0] ?? ""
                }
                    == ["over_flow", "sudden_increase"]
            )
            // The alarm stage tables are the validator session's: they outlive its transactions (empty), so the
            // signatures of later meters create no tables again.
            let stageTables = try await alarmStageTables(stores.session)
            try #require(stageTables.count == 2)
            let stagedRows = try await stores.session.withConnection {
                try $0.query("SELECT (SELECT count(*) FROM gw_stage_alarms) + (SELECT count(*) FROM gw_new_alarms)")
            }
            #expect(stagedRows == [["0"]])
            // Validating the same data again finds the same signatures and stores nothing new.
            try database.connect().execute(
                "INSERT INTO validation_queue (meter_id, dirty_from) SELECT id, '2026-01-01Z' FROM meters"
            )
            #expect(try await validateAll(stores.validation).signatureAlarms == 0)
            #expect(try database.count("alarms") == 3)
            #expect(try await alarmStageTables(stores.session) == stageTables)
        }
    }

    @Test func aDistrictWhoseSupplyExceedsItsCustomersBeyondToleranceRaisesANetworkLeak() async throws {
        try await withMigratedStores(meters: ["supply", "c1", "c2"]) { stores, database, ids in
            let writer = stores.telemetry
            var supply = MeterProfile(protocol: .native, address: "supply")
            supply.role = .districtSupply
            supply.district = "d1"
            _ = try await stores.meters.importMeters([supply], columns: [.role, .district])
            // Customers use 10 m³ each on day 1; the supply 20.5 m³ (inside 3 % tolerances), then 23 m³ on day 2.
            var batch = SinkBatch()
            for (name, volumes) in [
                ("c1", [Int64(10_000_000), 10_000_000]), ("c2", [10_000_000, 10_000_000]),
                ("supply", [20_500_000, 23_000_000]),
            ] {
                let meter = ids[name]!
                batch.readings += [
                    frozen(meter, 0, ml: 0), frozen(meter, 1, ml: volumes[0]),
                    frozen(meter, 2, ml: volumes[0] + volumes[1]),
                ]
            }
            _ = try await writer.write(batch)
            _ = try await validateAll(stores.validation)
            #expect(
                try await stores.validation.checkDistrictBalance(
                    since: t0,
                    zone: .utc,
                    now: t0.adding(seconds: 10 * day)
                ) == 1
            )
            #expect(
                try await stores.validation.checkDistrictBalance(
                    since: t0,
                    zone: .utc,
                    now: t0.adding(seconds: 10 * day)
                ) == 0
            )
            let rows = try database.connect().query(
                """
                SELECT m.address, a.condition, a.detail, to_char(a.raised_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), t.priority
                FROM alarms a JOIN meters m ON m.id = a.meter_id JOIN repair_tickets t ON t.first_alarm_id = a.id
                """
            ).map { $0.map { $0 ?? "" } }
            #expect(rows == [["supply", "network_leak_suspected", "3000000", "2026-01-03", "P1"]])
        }
    }

    @Test func theBalanceChartShowsTheDaysAndTheVerdictOfTheBalanceCheck() async throws {
        try await withMigratedStores(meters: ["supply", "c1", "c2"]) { stores, _, ids in
            var supply = MeterProfile(protocol: .native, address: "supply")
            supply.role = .districtSupply
            supply.district = "d1"
            _ = try await stores.meters.importMeters([supply], columns: [.role, .district])
            var batch = SinkBatch()
            for (name, volumes) in [
                ("c1", [Int64(10_000_000), 10_000_000]), ("c2", [10_000_000, 10_000_000]),
                ("supply", [20_500_000, 23_000_000]),
            ] {
                let meter = ids[name]!
                batch.readings += [
                    frozen(meter, 0, ml: 0), frozen(meter, 1, ml: volumes[0]),
                    frozen(meter, 2, ml: volumes[0] + volumes[1]),
                ]
            }
            _ = try await stores.telemetry.write(batch)
            _ = try await validateAll(stores.validation)
            let chart = try await ChartStore(stores.session).districtBalanceChart(
                district: "d1",
                days: 3,
                now: t0.adding(seconds: 2 * day),
                zone: .utc
            )
            #expect(chart.supplyLabel == "native supply")
            // Day 1: 20.5 m³ against 20 m³ ± 1.215 m³ (3 % of each volume); day 2: 23 m³, 3 m³ over, the alarm's day.
            #expect(chart.days.map(\.supplyMillilitres) == [20_500_000, 23_000_000])
            #expect(chart.days.map(\.customersMillilitres) == [20_000_000, 20_000_000])
            #expect(chart.days.map(\.toleranceMillilitres) == [1_215_000, 1_290_000])
            #expect(chart.days.map(\.isImbalanced) == [false, true])
            #expect(chart.days.allSatisfy { $0.customerMeters == 2 && $0.customersReported == 2 })
            let stored = try await stores.validation.checkDistrictBalance(
                since: t0,
                zone: .utc,
                now: t0.adding(seconds: 10 * day)
            )
            #expect(stored == chart.days.filter(\.isImbalanced).count)
            await #expect(throws: ChartStore.NotFound.self) {
                try await ChartStore(stores.session).districtBalanceChart(
                    district: "nowhere",
                    days: 3,
                    now: t0,
                    zone: .utc
                )
            }
        }
    }
}
