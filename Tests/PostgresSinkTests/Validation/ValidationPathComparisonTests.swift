import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// The set-based batch validator against the per-meter path it replaced (``LegacyValidation``): the same generated
/// fleet, validated once each way in two databases, must leave the same rows behind — reading verdicts, daily reads,
/// billing-feed publications and corrections, signature alarms, their tickets and ticket events.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(10)))
struct ValidationPathComparisonTests {
    /// Meters of the generated fleet.
    private static let fleetSize = 2_500
    private static let day: Int64 = 86_400
    private static let t0 = at(0)
    /// Validation time: every generated day has ended.
    private static let now = at(6 * day)

    @Test func theBatchPathLeavesTheSameRowsAsThePerMeterPath() async throws {
        let legacy = try await validateFleet { stores, queue in
            var totals = MeterValidationSummary()
            for meter in queue {
                let summary = try await LegacyValidation.validate(
                    meter,
                    settings: ValidationSettings(),
                    signatures: SignatureSettings(),
                    now: Self.now,
                    database: stores.session
                )
                #expect(!summary.wasBusy)
                totals.add(summary)
            }
            return totals
        }
        let batched = try await validateFleet { stores, queue in
            let summary = try await stores.validation.validate(
                batch: queue,
                settings: ValidationSettings(),
                signatures: SignatureSettings(),
                now: Self.now
            )
            #expect(summary.busyMeters.isEmpty)
            #expect(summary.metersValidated == queue.count)
            return summary.totals
        }
        // The fleet exercises what it should: verdicts, publications, corrections, signatures with tickets.
        let stats = legacy.totals
        #expect(stats.readsChanged > 10_000)
        #expect(stats.published > 5_000)
        #expect(stats.corrections > 50)
        #expect(stats.signatureAlarms > 50)
        #expect((stats.qualityCounts[.suspect] ?? 0) + (stats.qualityCounts[.rejected] ?? 0) > 100)
        #expect(legacy.tables["repair_tickets"]?.isEmpty == false)

        #expect(batched.totals.readsValidated == stats.readsValidated)
        #expect(batched.totals.readsChanged == stats.readsChanged)
        #expect(batched.totals.daysChanged == stats.daysChanged)
        #expect(batched.totals.published == stats.published)
        #expect(batched.totals.corrections == stats.corrections)
        #expect(batched.totals.signatureAlarms == stats.signatureAlarms)
        #expect(batched.totals.qualityCounts == stats.qualityCounts)
        #expect(batched.totals.ticketEvents.count == stats.ticketEvents.count)
        for (table, rows) in legacy.tables.sorted(by: { $0.key < $1.key }) {
            let other = batched.tables[table] ?? []
            #expect(other.count == rows.count, "\(table): \(other.count) rows against \(rows.count)")
            if let index = rows.indices.first(where: { $0 < other.count && rows[$0] != other[$0] }) {
                Issue.record(
                    "\(table) differs at row \(index):\n  per meter: \(rows[index])\n  batch:     \(other[index])"
                )
            }
        }
    }

    /// What one path left behind.
    private struct Outcome {
        var totals = MeterValidationSummary()
        var tables: [String: [String]] = [:]
    }

    /// Generates the fleet in a fresh database, validates it in two rounds (the second after late data that
    /// changes published days) with `validate` over each queue page, and snapshots the rows.
    private func validateFleet(
        _ validate: (TestStores, [DirtyMeter]) async throws -> MeterValidationSummary
    ) async throws -> Outcome {
        var outcome = Outcome()
        let names = (0..<Self.fleetSize).map { String(format: "v%05d", $0) }
        try await withMigratedStores(meters: names) { stores, database, ids in
            _ = try await stores.meters.importMeters(
                names.indices.map(ValidationFleet.profile),
                columns: [.size, .qmaxM3h, .role]
            )
            let meters = names.map { ids[$0]! }
            for round in 0..<2 {
                for chunk in stride(from: 0, to: meters.count, by: 250) {
                    let slice = Array(meters[chunk..<min(chunk + 250, meters.count)])
                    _ = try await stores.telemetry.write(ValidationFleet.batch(slice, firstIndex: chunk, round: round))
                    if round == 0 {
                        // A second report of some readings with other values: recorded as conflicts.
                        _ = try await stores.telemetry.write(ValidationFleet.conflicts(slice, firstIndex: chunk))
                    }
                }
                while true {
                    let queue = try await stores.validation.dirtyMeters(limit: 200)
                    if queue.isEmpty { break }
                    outcome.totals.add(try await validate(stores, queue))
                }
            }
            let connection = try database.connect()
            for (table, sql) in ValidationFleet.snapshots {
                outcome.tables[table] = try connection.query(sql).map { $0.map { $0 ?? "∅" }.joined(separator: " | ") }
            }
        }
        return outcome
    }
}

extension MeterValidationSummary {
    /// Adds another summary's counts.
    fileprivate mutating func add(_ other: MeterValidationSummary) {
        readsValidated += other.readsValidated
        readsChanged += other.readsChanged
        daysChanged += other.daysChanged
        published += other.published
        corrections += other.corrections
        signatureAlarms += other.signatureAlarms
        ticketEvents += other.ticketEvents
        for (quality, count) in other.qualityCounts { qualityCounts[quality, default: 0] += count }
    }
}

/// A deterministic fleet: four days of daily and periodic readings (some on a second volume basis), half-hourly
/// intervals for two meters in three, and per meter a mix of faults chosen by its index — index decreases, missing
/// days, leaks (continuous flow, bursts), conflicting reports — and, in round 1, late readings and late interval logs
/// for days already published.
enum ValidationFleet {
    private static let day: Int64 = 86_400
    private static let t0 = at(0)

    static func profile(_ index: Int) -> MeterProfile {
        var profile = MeterProfile(protocol: .native, address: String(format: "v%05d", index))
        if index % 4 == 0 {
            profile.size = .g4
            profile.qmaxMillilitresPerHour = 6_000_000
        }
        if index % 31 == 0 { profile.role = .districtSupply }
        return profile
    }

    /// A small deterministic generator (SplitMix64).
    private struct Generator {
        var state: UInt64
        mutating func next(_ range: ClosedRange<Int64>) -> Int64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return range.lowerBound + Int64(z % UInt64(range.upperBound - range.lowerBound + 1))
        }
    }

    /// The intervals of one meter's day (48 half hours).
    private static func dayIntervals(_ index: Int, day number: Int64, generator: inout Generator) -> [Int64] {
        (0..<48).map { slot -> Int64 in
            if index % 17 == 0 { return generator.next(400...900) }  // continuous flow: never zero
            if index % 19 == 0 && number == 2 && slot == 20 { return 3_500_000 }  // a burst
            let night = slot < 12
            return night ? (generator.next(0...3) == 0 ? 200 : 0) : generator.next(0...60_000)
        }
    }

    static func batch(_ meters: [Int64], firstIndex: Int, round: Int) -> SinkBatch {
        var batch = SinkBatch()
        for (offset, meter) in meters.enumerated() {
            let index = firstIndex + offset
            var generator = Generator(state: UInt64(index) &* 7919)
            var volume = 1_000_000_000 + Int64(index) * 10_000
            let hasIntervals = index % 3 != 0
            var readings: [ReadingRecord] = []
            var intervals: [IntervalRecord] = []
            var dayStarts: [(index: Int64, volume: Int64)] = []
            for number in 0..<5 as Range<Int64> {
                let start = t0.adding(seconds: number * day)
                if !(index % 11 == 0 && number == 2) {
                    var frozen = makeReading(meter: meter, at: start, volume: volume, kind: .dailyFrozen)
                    frozen.receivedAt = start.adding(seconds: 3_600)
                    readings.append(frozen)
                }
                guard number < 4 else { break }
                let slots = hasIntervals ? dayIntervals(index, day: number, generator: &generator) : []
                for (slot, amount) in slots.enumerated() {
                    intervals.append(
                        makeInterval(
                            meter: meter,
                            start: start.adding(seconds: Int64(slot) * 1_800),
                            volume: amount,
                            endIndex: volume + amount
                        )
                    )
                }
                let dayVolume = hasIntervals ? slots.reduce(0, +) : generator.next(0...900_000)
                dayStarts.append((volume, dayVolume))
                for quarter in 1..<4 as Range<Int64> {
                    var reading = makeReading(
                        meter: meter,
                        at: start.adding(seconds: quarter * 21_600),
                        volume: volume + dayVolume * quarter / 4 - (index % 13 == 0 && quarter == 2 ? 80_000 : 0)
                    )
                    reading.frameCounter = number * 10 + quarter
                    readings.append(reading)
                }
                volume += dayVolume
            }
            if index % 7 == 0 {
                // A converted channel beside the unspecified one.
                readings += readings.filter { $0.kind == .dailyFrozen }.map {
                    var converted = $0
                    converted.basis = .converted
                    converted.volumeMillilitres = $0.volumeMillilitres * 98 / 100
                    return converted
                }
            }
            if round == 0 {
                batch.readings += readings
                batch.intervals += intervals
            } else if index % 5 == 0 {
                // Late data: a reading inside day 1 far above the day's end index, or one that only fills in.
                let late = t0.adding(seconds: day + 3 * 3_600)
                let jump: Int64 = index % 10 == 0 ? 25_000_000 : 0
                var reading = makeReading(meter: meter, at: late, volume: readings[1].volumeMillilitres + jump)
                reading.frameCounter = 99
                batch.readings.append(reading)
                if !hasIntervals {
                    // A late interval log for a published day: its determinants change, a correction follows.
                    let (index, volume) = dayStarts[1]
                    batch.intervals += (0..<48).map { slot in
                        let amount = slot == 47 ? volume - volume / 48 * 47 : volume / 48
                        let start = t0.adding(seconds: day + Int64(slot) * 1_800)
                        return makeInterval(meter: meter, start: start, volume: amount, endIndex: index + amount)
                    }
                }
            }
        }
        return batch
    }

    /// Some periodic readings again with other values (same key): the ingest records a conflict.
    static func conflicts(_ meters: [Int64], firstIndex: Int) -> SinkBatch {
        var batch = SinkBatch()
        for (offset, meter) in meters.enumerated() where (firstIndex + offset) % 23 == 0 {
            var reading = makeReading(meter: meter, at: t0.adding(seconds: day + 21_600), volume: 1)
            reading.frameCounter = 11
            batch.readings.append(reading)
        }
        return batch
    }

    /// The rows compared, each as text in a fixed order; columns the database fills with the wall clock
    /// (`validated_at`, `updated_at`, `published_at`, `created_at`, …) and generated ids are left out, and rows
    /// that point at others are compared through the meter and content of what they point at.
    static let snapshots: [(String, String)] = [
        (
            "readings",
            """
            SELECT meter_id, read_at, kind, basis, storage, tariff, volume_ml, quality, reasons, validated_at IS NULL
            FROM readings_validated ORDER BY meter_id, read_at, kind, basis, storage, tariff
            """
        ),
        (
            "daily_reads",
            """
            SELECT (to_jsonb(d) - 'updated_at' - 'created_at')::text FROM daily_reads d
            ORDER BY meter_id, basis, day
            """
        ),
        (
            "billing_feed",
            """
            SELECT (to_jsonb(f) - 'seq' - 'published_at' - 'created_at')::text FROM billing_feed f ORDER BY seq
            """
        ),
        (
            "alarms",
            """
            SELECT (to_jsonb(a) - 'id')::text, (SELECT string_agg(e.kind, ',' ORDER BY e.kind) FROM ticket_events e
                WHERE e.alarm_id = a.id)
            FROM alarms a ORDER BY a.meter_id, a.raised_at, a.raw_code, a.is_cleared
            """
        ),
        (
            "repair_tickets",
            """
            SELECT t.meter_id, t.condition, t.priority, t.status, a.raised_at, a.raw_code
            FROM repair_tickets t JOIN alarms a ON a.id = t.first_alarm_id
            ORDER BY t.meter_id, a.raised_at, a.raw_code
            """
        ),
        (
            "ticket_events",
            """
            SELECT t.meter_id, t.condition, e.kind, count(*) FROM ticket_events e JOIN repair_tickets t ON t.id = e.ticket_id
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            """
        ),
        ("validation_queue", "SELECT meter_id FROM validation_queue ORDER BY meter_id"),
    ]
}
