import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// The billing store's rows decoded from what the real server prints: the feed with its arrays, the review queue,
/// expired verifications and accuracy tests.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct BillingStoreTests {
    @Test func billingPageDecodesEveryColumnIncludingIntervalArrays() async throws {
        try await withMigratedStores(meters: ["b1"]) { stores, database, ids in
            let meter = try #require(ids["b1"])
            try database.connect().executeScript(
                """
                INSERT INTO billing_feed (meter_id, basis, day, day_start, version, is_correction, start_index_ml,
                    end_index_ml, volume_ml, quality, reasons, interval_minutes, intervals_ml, intervals_estimated,
                    protection)
                VALUES
                    (\(meter), 1, '2026-03-01', '2026-03-01 00:00Z', 1, false, 100, 160, 60, 1,
                        '{estimated_boundary}', 720, '{20,40}', '{f,t}', 'authenticated'),
                    (\(meter), 0, '2026-03-02', '2026-03-02 00:00Z', 2, true, 160, 170, 10, 0, '{}', NULL, NULL, NULL,
                        'encrypted');
                """
            )
            let page = try await stores.billing.billingPage(after: 0, limit: 10)
            #expect(page.count == 2)
            let first = try #require(page.first)
            #expect(first.protocol == .native && first.meter == "b1" && first.district == "d1")
            #expect(first.basis == VolumeBasis(rawValue: 1) && first.day == "2026-03-01")
            #expect(first.dayStart == at(0) && first.version == 1 && !first.isCorrection)
            #expect(
                first.startIndexMillilitres == 100 && first.endIndexMillilitres == 160 && first.volumeMillilitres == 60
            )
            #expect(first.quality == .estimated && first.reasons == ["estimated_boundary"])
            #expect(first.intervalMinutes == 720 && first.protection == .authenticated)
            #expect(
                first.intervals == [
                    BillingRead.Interval(start: at(0), volumeMillilitres: 20, isEstimated: false),
                    BillingRead.Interval(start: at(43_200), volumeMillilitres: 40, isEstimated: true),
                ]
            )
            let second = page[1]
            #expect(second.isCorrection && second.quality == .valid && second.reasons.isEmpty)
            #expect(second.intervalMinutes == nil && second.intervals.isEmpty && second.protection == .encrypted)
            #expect(try await stores.billing.billingPage(after: first.seq, limit: 10).map(\.seq) == [second.seq])
        }
    }

    @Test func heldReadingsAndDaysDecodeAndAReviewQueuesTheMeterOnce() async throws {
        try await withMigratedStores(meters: ["h1"]) { stores, database, ids in
            let meter = try #require(ids["h1"])
            _ = try await stores.telemetry.write(batch(readings: [makeReading(meter: meter, at: at(3600), volume: 5)]))
            let admin = try database.connect()
            try admin.executeScript(
                """
                DELETE FROM validation_queue;
                \(ReadingVerdictSQL.set(quality: 2, reasons: "'{spike,negative_flow}'", where: "true"))
                INSERT INTO daily_reads (meter_id, basis, day, day_start, start_index_ml, end_index_ml, volume_ml,
                    quality, reasons, valve, version, protection)
                VALUES (\(meter), 0, '2026-03-01', '2026-03-01 00:00Z', 0, 9, 9, 2, '{zero_consumption}', 0, 1,
                    'encrypted');
                """
            )
            let held = try await stores.billing.heldForReview(limit: 10)
            #expect(
                held.map(\.position) == [
                    .reading(readAt: at(3600), meterID: meter, kind: 0, basis: 0, storage: 0, tariff: 0),
                    .day(day: "2026-03-01", meterID: meter, basis: 0),
                ]
            )
            #expect(
                held.map { item in
                    var item = item
                    item.position = nil
                    return item
                } == [
                    HeldItem(
                        protocol: .native,
                        meter: "h1",
                        basis: .unspecified,
                        target: .reading(readAt: at(3600), kind: .periodic),
                        volumeMillilitres: 5,
                        reasons: ["spike", "negative_flow"],
                        protection: .plain
                    ),
                    HeldItem(
                        protocol: .native,
                        meter: "h1",
                        basis: .unspecified,
                        target: .day("2026-03-01"),
                        volumeMillilitres: 9,
                        reasons: ["zero_consumption"],
                        protection: .encrypted
                    ),
                ]
            )
            try await stores.billing.review(
                meter: (.native, "h1"),
                basis: .unspecified,
                target: .day("2026-03-01"),
                decision: .accept,
                reviewer: "rita",
                reason: "holiday home"
            )
            #expect(try database.count("day_reviews") == 1)
            let queued = try await stores.validation.dirtyMeters(limit: 5)
            #expect(queued.map(\.meterID) == [meter] && queued.first?.dirtyFrom == at(0))

            for (target, meterAddress) in [(HeldItem.Target.day("2026-03-05"), "h1"), (.day("2026-03-01"), "nope")] {
                let error = await #expect(throws: PostgresError.self) {
                    try await stores.billing.review(
                        meter: (.native, meterAddress),
                        basis: .unspecified,
                        target: target,
                        decision: .reject,
                        reviewer: "rita",
                        reason: "r"
                    )
                }
                #expect(error?.code == .invalidArgument)
            }
        }
    }

    @Test func expiredMetersAndAccuracyTestsDecode() async throws {
        try await withMigratedStores(meters: ["e1", "e2"]) { stores, database, _ in
            try database.connect().executeScript(
                """
                UPDATE meters SET verification_expires_on = '2026-01-31', accuracy_class = '1.5',
                    qmin_ml_per_h = 40000, qt_ml_per_h = 600000, qmax_ml_per_h = 6000000
                WHERE address = 'e1';
                UPDATE meters SET district = NULL, verification_expires_on = '2026-06-30' WHERE address = 'e2';
                """
            )
            let expired = try await stores.billing.expiredMeters(asOf: try #require(CivilDate(iso: "2026-02-01")))
            #expect(expired == [ExpiredMeter(protocol: .native, meter: "e1", district: "d1", expiresOn: "2026-01-31")])
            let later = try await stores.billing.expiredMeters(asOf: try #require(CivilDate(iso: "2026-07-01")))
            #expect(later.last == ExpiredMeter(protocol: .native, meter: "e2", district: nil, expiresOn: "2026-06-30"))

            let judgement = try await stores.billing.recordAccuracyTest(
                meter: (.native, "e1"),
                testedOn: try #require(CivilDate(iso: "2026-02-02")),
                kind: .field,
                flowMillilitresPerHour: 2_500_000,
                errorBasisPoints: 900,
                tester: "lab",
                note: nil,
                inServicePercent: 200
            )
            let tests = try await stores.billing.accuracyTests(failedOnly: false, limit: 10)
            #expect(
                tests == [
                    AccuracyTestRecord(
                        protocol: .native,
                        meter: "e1",
                        testedOn: "2026-02-02",
                        kind: .field,
                        flowMillilitresPerHour: 2_500_000,
                        errorBasisPoints: 900,
                        verdict: judgement.verdict,
                        band: judgement.band,
                        limitBasisPoints: judgement.limitBasisPoints,
                        tester: "lab"
                    )
                ]
            )
            #expect(
                try await stores.billing.accuracyTests(failedOnly: true, limit: 10).count
                    == (judgement.verdict == .fail ? 1 : 0)
            )
        }
    }
}
