import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// The monthly service-quality report against a fixture whose every figure was worked out by hand (the comments
/// give the working). Month: March 2026 in China Standard Time, i.e. 2026-02-28T16:00Z to 2026-03-31T16:00Z.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct ServiceQualityStoreTests {
    @Test func theMarchReportMatchesTheHandComputedFigures() async throws {
        let clock = TestClock(beijing("2026-03-02T10:00:00"))
        // d1: a1, a2, a3 households and a4, the district's supply meter (not a household); d2: b1, b2.
        try await withMigratedWriter(meters: ["a1", "a2", "a3", "a4"]) { _, database, ids in
            let connection = try database.connect()
            for statement in [
                """
                INSERT INTO meters (protocol, address, district, customer_class) VALUES
                    ('native', 'b1', 'd2', 'commercial'), ('native', 'b2', 'd2', 'residential')
                """,
                "UPDATE meters SET role = 'district_supply' WHERE address = 'a4'",
                "UPDATE meters SET registered_at = '2025-01-01T00:00:00Z' WHERE address <> 'b2'",
                "UPDATE meters SET registered_at = '2026-02-01T00:00:00Z' WHERE address = 'b2'",
            ] {
                _ = try connection.execute(statement)
            }
            func meter(_ address: String) throws -> String {
                try database.scalar("SELECT id FROM meters WHERE address = '\(address)'") ?? "none"
            }
            let a1 = try meter("a1")
            let b1 = try meter("b1")
            #expect(ids["a1"].map(String.init) == a1)
            // Tickets, times in +08:00. P0 arrivals in d1: 20 (in time), 40 (late), 10 (in time), 60 (late) minutes;
            // p50 of [10, 20, 40, 60] = 30, p90 = 40 + 0.7 × 20 = 54. The ticket of 1 April 00:30 local is April's
            // although its UTC date is 31 March.
            func ticket(
                _ meter: String,
                _ condition: String,
                _ priority: String,
                opened: String,
                arriveBy: Int,
                onSite: Int?,
                madeSafe: Int? = nil,
                resolved: Int? = nil
            ) throws -> String {
                func plus(_ minutes: Int?) -> String {
                    minutes.map { "'\(opened)+08'::timestamptz + interval '\($0) minutes'" } ?? "NULL"
                }
                return try database.scalar(
                    """
                    INSERT INTO repair_tickets (meter_id, condition, priority, status, opened_at, last_alarm_at,
                        alarm_count, arrive_by, on_site_at, made_safe_at, resolved_at, origin)
                    VALUES (\(meter), '\(condition)', '\(priority)', 'resolved', '\(opened)+08', '\(opened)+08', 1,
                        \(plus(arriveBy)), \(plus(onSite)), \(plus(madeSafe)), \(plus(resolved)), 'hotline')
                    RETURNING id
                    """
                ) ?? "none"
            }
            let t1 = try ticket(a1, "methane_detector", "P0", opened: "2026-03-02 10:00", arriveBy: 30, onSite: 20)
            _ = try ticket(a1, "methane_detector", "P0", opened: "2026-03-05 10:00", arriveBy: 30, onSite: 40)
            let t3 = try ticket(a1, "methane_detector", "P0", opened: "2026-03-10 10:00", arriveBy: 30, onSite: 10)
            _ = try ticket(a1, "methane_detector", "P0", opened: "2026-03-01 07:00", arriveBy: 30, onSite: 60)
            _ = try ticket(a1, "methane_detector", "P0", opened: "2026-04-01 00:30", arriveBy: 30, onSite: 5)
            _ = try ticket(a1, "methane_detector", "P0", opened: "2026-02-28 23:30", arriveBy: 30, onSite: 5)
            // Network faults in d2: made safe in 5 h and repaired in 20 h (both in time); 7 h and 30 h (neither);
            // never made safe but repaired in 5 h (both); a meter fault is no network fault.
            _ = try ticket(
                b1,
                "pressure_low",
                "P1",
                opened: "2026-03-03 08:00",
                arriveBy: 120,
                onSite: 60,
                madeSafe: 300,
                resolved: 1200
            )
            _ = try ticket(
                b1,
                "network_leak_suspected",
                "P1",
                opened: "2026-03-04 08:00",
                arriveBy: 120,
                onSite: 60,
                madeSafe: 420,
                resolved: 1800
            )
            _ = try ticket(
                b1,
                "pressure_low",
                "P1",
                opened: "2026-03-06 08:00",
                arriveBy: 120,
                onSite: 60,
                resolved: 300
            )
            _ = try ticket(
                b1,
                "meter_fault",
                "P3",
                opened: "2026-03-07 08:00",
                arriveBy: 600,
                onSite: 60,
                resolved: 300
            )

            let session = PostgresSession(conninfo: database.conninfo, logger: testLogger)
            let complaints = ComplaintStore(session, calendar: .weekendsOnly, zone: beijingZone, clock: { clock.now })
            let tickets = DispatchStore(session, clock: { clock.now })
            func receive(
                _ at: String,
                _ category: ComplaintCategory,
                meter: String?,
                district: String? = nil
            ) async throws -> Int64 {
                clock.set(beijing(at))
                return try await complaints.receive(
                    ComplaintIntake(
                        channel: .hotline,
                        category: category,
                        meter: meter.map { (.native, $0) },
                        district: district,
                        complainant: "c",
                        summary: "s",
                        disputedDays: category == .billingDispute ? civil("2026-02-01")...civil("2026-02-28") : nil
                    ),
                    actor: "desk"
                ).id
            }
            func answer(_ id: Int64, at: String, outcome: ComplaintOutcome? = nil) async throws {
                clock.set(beijing(at))
                _ = try await complaints.advance(id, to: .accepted, text: nil, outcome: nil, actor: "desk")
                _ = try await complaints.advance(id, to: .proposed, text: "p", outcome: nil, actor: "desk")
                _ = try await complaints.advance(id, to: .answered, text: "a", outcome: outcome, actor: "desk")
            }
            func call(_ outcome: ReturnCallOutcome, attempts: Int, at: String) throws -> ReturnCall {
                clock.set(beijing(at))
                return try ReturnCall(
                    outcome: outcome,
                    attempts: attempts,
                    remarks: outcome == .waived ? "customer abroad" : nil,
                    isSupervisor: true
                )
            }
            // Complaints of d1 (weekends only; received Mon 2 March, due by the end of Mon 9 March):
            // billing dispute answered Thu 5th (in time); two service-attitude complaints, one answered on the 20th
            // (late), one not answered; a safety complaint late on 31 March local. One of 1 April local is April's.
            let c1 = try await receive("2026-03-02T10:00:00", .billingDispute, meter: "a1")
            try await answer(c1, at: "2026-03-05T10:00:00", outcome: .billConfirmed)
            let c2 = try await receive("2026-03-03T10:00:00", .serviceAttitude, meter: "a2")
            try await answer(c2, at: "2026-03-20T10:00:00")
            _ = try await receive("2026-03-04T10:00:00", .serviceAttitude, meter: "a3")
            _ = try await receive("2026-03-31T23:00:00", .safety, meter: nil, district: "d1")
            _ = try await receive("2026-04-01T01:00:00", .other, meter: nil, district: "d1")
            // d2: a meter-accuracy complaint not accepted the next day (in time).
            let c6 = try await receive("2026-03-09T10:00:00", .meterAccuracy, meter: "b1")
            clock.set(beijing("2026-03-10T10:00:00"))
            _ = try await complaints.advance(
                c6,
                to: .notAccepted,
                text: "meter in tolerance",
                outcome: nil,
                actor: "desk"
            )
            // Return calls: d1 satisfied (c1), not satisfied (ticket 1), waived (ticket 3); d2 unreachable (c6).
            _ = try await complaints.recordReturnCall(
                c1,
                try call(.satisfied, attempts: 1, at: "2026-03-06T10:00:00"),
                actor: "desk"
            )
            _ = try await tickets.recordReturnCall(
                try #require(Int64(t1)),
                try call(.notSatisfied, attempts: 2, at: "2026-03-03T10:00:00"),
                actor: "desk"
            )
            _ = try await tickets.recordReturnCall(
                try #require(Int64(t3)),
                try call(.waived, attempts: 0, at: "2026-03-11T10:00:00"),
                actor: "sup"
            )
            _ = try await complaints.recordReturnCall(
                c6,
                try call(.unreachable, attempts: 3, at: "2026-03-12T10:00:00"),
                actor: "desk"
            )
            // Inspections (residential every 12 months, others every 6): a1 last 2025-03-10, due 2026-03-10, done
            // 2026-03-15; a2 last 2025-06-01, not due; a3 never, registered 2025-01-01, due and not done. b1
            // (commercial) last 2025-09-01, due 2026-03-01, done 2026-03-31; b2 registered 2026-02-01, not due.
            _ = try connection.execute(
                """
                INSERT INTO inspections (meter_id, inspected_on, inspector, result)
                SELECT id, d::date, 'insp', 'ok' FROM meters
                JOIN (VALUES ('a1', '2025-03-10'), ('a1', '2026-03-15'), ('a2', '2025-06-01'), ('b1', '2025-09-01'),
                    ('b1', '2026-03-31')) AS v (address, d) USING (address)
                """
            )

            let report = try await ServiceQualityStore(session).report(
                year: 2026,
                month: 3,
                zone: beijingZone,
                residentialMonths: 12,
                nonResidentialMonths: 6
            )
            await session.close()
            let d1 = ServiceQuality(
                district: "d1",
                households: 3,
                emergencies: 4,
                emergenciesArrivedInTime: 2,
                arrivalMinutesP50: 30,
                arrivalMinutesP90: 54,
                complaintsByCategory: [.billingDispute: 1, .serviceAttitude: 2, .safety: 1],
                complaintsAnsweredInTime: 1,
                returnCalls: [.satisfied: 1, .notSatisfied: 1, .waived: 1],
                inspectionsDue: 2,
                inspectionsDone: 1
            )
            let d2 = ServiceQuality(
                district: "d2",
                households: 2,
                networkFaults: 3,
                networkFaultsHandledInTime: 2,
                networkFaultsRepairedInTime: 2,
                complaintsByCategory: [.meterAccuracy: 1],
                complaintsAnsweredInTime: 1,
                returnCalls: [.unreachable: 1],
                inspectionsDue: 1,
                inspectionsDone: 1
            )
            #expect(report == [d1, d2])
            // The derived rates, by hand: 4 complaints / 3 households × 10,000; 2 of 3 calls made; 1 of 2 satisfied.
            let first = try #require(report.first)
            #expect(abs((first.complaintsPer10kHouseholdsTotal ?? 0) - 13_333.333) < 0.001)
            #expect(abs((first.complaintsPer10kHouseholds(.serviceAttitude) ?? 0) - 6_666.667) < 0.001)
            #expect(abs((first.followUpCallRate ?? 0) - 2.0 / 3.0) < 1e-9 && first.satisfactionRate == 0.5)
            #expect(report.last?.satisfactionRate == nil && report.last?.followUpCallRate == 1)
        }
    }
}
