import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

/// Migration v17's `interval_days` behind the `interval_readings` view: a day that arrives in several frames is
/// merged into its row without losing or overwriting an interval, each interval keeps its own receive time,
/// protection and key source, and concurrent writers of the same day lose nothing.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct IntervalDaysTests {
    private func interval(
        _ meter: Int64,
        _ slot: Int,
        volume: Int64? = nil,
        received: Int64 = 86_400,
        protection: ProtectionLevel = .plain,
        keySource: KeySource? = nil
    ) -> IntervalRecord {
        IntervalRecord(
            meterID: meter,
            intervalStart: at(Int64(slot) * 1_800),
            intervalMinutes: 30,
            volumeMillilitres: volume ?? Int64(100 + slot),
            endIndexMillilitres: Int64(10_000 + slot),
            receivedAt: at(received),
            protection: protection,
            keySource: keySource
        )
    }

    @Test func dayInSeveralFramesIsMergedAndEachIntervalKeepsItsReceiptAndProtection() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let first = (0..<24).map {
                interval(m1, $0, received: 90_000, protection: .authenticated, keySource: .meter)
            }
            let a = try await writer.write(batch(intervals: first))
            #expect(a.intervalsInserted == 24 && a.intervalsDuplicate == 0 && a.conflicts == 0)
            // The second frame repeats 20..<24 (duplicates) and runs into the next day (slots 48, 49).
            let second = (20..<50).map { interval(m1, $0, received: 95_000, keySource: .manufacturerDefault) }
            let b = try await writer.write(batch(intervals: second))
            #expect(b.intervalsInserted == 26 && b.intervalsDuplicate == 4 && b.conflicts == 0)

            #expect(try database.count("interval_days") == 2)
            #expect(try database.count("interval_readings") == 50)
            let rows = try database.connect().query(
                """
                SELECT extract(epoch FROM interval_start - '2026-03-01 00:00Z')::bigint / 1800, volume_ml,
                    end_index_ml, interval_minutes, received_at, protection, key_source
                FROM interval_readings WHERE meter_id = $1::bigint ORDER BY interval_start
                """,
                parameters: ["\(m1)"]
            )
            #expect(rows.count == 50)
            for (slot, row) in rows.enumerated() {
                let fromFirst = slot < 24
                #expect(row[0] == "\(slot)")
                #expect(row[1] == "\(100 + slot)" && row[2] == "\(10_000 + slot)" && row[3] == "30")
                #expect(row[4] == (fromFirst ? "2026-03-02 01:00:00+00" : "2026-03-02 02:23:20+00"))
                #expect(row[5] == (fromFirst ? "authenticated" : "plain"))
                #expect(row[6] == (fromFirst ? "meter" : "default"))
            }
            // One day's row holds its two receive times once each.
            #expect(
                try database.scalar("SELECT cardinality(receipts) FROM interval_days WHERE day = '2026-03-01'") == "2"
            )

            // A third frame with other volumes for stored starts changes nothing and records the conflicts.
            let third = [interval(m1, 3, volume: 7), interval(m1, 30, volume: 8), interval(m1, 50)]
            let c = try await writer.write(batch(intervals: third))
            #expect(c.intervalsInserted == 1 && c.intervalsDuplicate == 2 && c.conflicts == 2)
            #expect(try database.scalar("SELECT volume_ml FROM interval_readings WHERE volume_ml IN (7, 8)") == nil)
            #expect(try database.count("value_conflicts", where: "series = 'interval'") == 2)
            #expect(try database.count("interval_readings") == 51)
        }
    }

    /// Migration v26: a normal daily report is stored as its 32-bit volumes and scalars; a day with irregular starts,
    /// mixed minutes and flags, two receipts and a volume beyond 32 bits keeps every array, and the view shows both
    /// exactly as written.
    @Test func normalDayIsStoredCompactAndIrregularDayKeepsItsArrays() async throws {
        try await withMigratedWriter(meters: ["m1", "m2"]) { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let m2 = try #require(ids["m2"])
            let normal = (0..<48).map { interval(m1, $0, protection: .authenticated, keySource: .meter) }
            let starts: [Int64] = [0, 900, 2_700, 3_600, 7_201]
            let irregular = starts.enumerated().map { index, start in
                IntervalRecord(
                    meterID: m2,
                    intervalStart: at(start),
                    intervalMinutes: index == 1 ? 15 : 30,
                    volumeMillilitres: index == 2 ? 5_000_000_000 : Int64(index) - 1,
                    endIndexMillilitres: 9_000_000_000 + Int64(index),
                    receivedAt: at(index < 3 ? 86_400 : 86_401),
                    protection: index == 4 ? .plain : .authenticated,
                    keySource: index == 4 ? nil : .meter
                )
            }
            let written = try await writer.write(batch(intervals: normal + irregular))
            #expect(written.intervalsInserted == 53)
            let form = """
                SELECT offsets_s IS NULL, first_offset_s, offset_step_s, minutes IS NULL, interval_minutes,
                    volumes_ml IS NULL, volumes_wide_ml IS NULL, flags IS NULL, flag, receipts IS NULL,
                    received_at IS NULL, end_index_ml IS NULL
                FROM interval_days WHERE meter_id = $1::bigint
                """
            #expect(
                try database.connect().query(form, parameters: ["\(m1)"])
                    == [["t", "0", "1800", "t", "30", "f", "t", "t", "6", "t", "f", "f"]]
            )
            #expect(
                try database.connect().query(form, parameters: ["\(m2)"])
                    == [["f", nil, nil, "f", nil, "t", "f", "f", nil, "f", "t", "f"]]
            )
            let points = """
                SELECT extract(epoch FROM interval_start - '2026-03-01 00:00Z')::bigint, interval_minutes, volume_ml,
                    end_index_ml, extract(epoch FROM received_at - '2026-03-01 00:00Z')::bigint, protection, key_source
                FROM interval_readings WHERE meter_id = $1::bigint ORDER BY interval_start
                """
            let normalRows = try database.connect().query(points, parameters: ["\(m1)"])
            #expect(
                normalRows
                    == (0..<48).map {
                        ["\($0 * 1_800)", "30", "\(100 + $0)", "\(10_000 + $0)", "86400", "authenticated", "meter"]
                    }
            )
            let irregularRows = try database.connect().query(points, parameters: ["\(m2)"])
            #expect(
                irregularRows
                    == irregular.enumerated().map { index, record in
                        [
                            "\(starts[index])", "\(record.intervalMinutes)", "\(record.volumeMillilitres)",
                            "\(record.endIndexMillilitres)", index < 3 ? "86400" : "86401",
                            index == 4 ? "plain" : "authenticated", index == 4 ? nil : "meter",
                        ]
                    }
            )
        }
    }

    @Test func concurrentWritersOfOneDayLoseNoInterval() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            let m2 = try #require(ids["m2"])
            let other = TelemetryStore(conninfo: database.conninfo, logger: testLogger)
            for day in 0..<8 {
                let base = day * 48
                // Interleaved halves of the same two meter-days, with a shared overlap, from two writers at once.
                let even = stride(from: base, to: base + 48, by: 2).flatMap { [interval(m1, $0), interval(m2, $0)] }
                let odd = stride(from: base + 1, to: base + 48, by: 2).flatMap { [interval(m2, $0), interval(m1, $0)] }
                let shared = [interval(m1, base + 10), interval(m2, base + 11)]
                async let left = writer.write(batch(intervals: even + shared))
                async let right = other.write(batch(intervals: odd + shared))
                let (l, r) = try await (left, right)
                #expect(l.intervalsInserted + r.intervalsInserted == 96)
                #expect(l.intervalsDuplicate + r.intervalsDuplicate == 4)
                #expect(l.conflicts + r.conflicts == 0)
            }
            await other.close()
            #expect(try database.count("interval_readings") == 768)  // 2 meters x 8 days x 48
            #expect(try database.count("interval_days") == 16)
            #expect(try database.count("interval_readings", where: "volume_ml <> 100 + (end_index_ml - 10000)") == 0)
        }
    }

    /// v15's rule stays: a row above `plain` was protected by the meter's own key; the database refuses a violation
    /// as a data error of the batch (SQLSTATE 23514), which the sink isolates.
    @Test func aKeySourceTheProtectionDoesNotAllowIsRefused() async throws {
        try await withMigratedWriter { writer, database, ids in
            let m1 = try #require(ids["m1"])
            // The initializer derives `meter` for a level above plain; set the pair the database must refuse.
            var refused = interval(m1, 0, protection: .authenticated)
            refused.keySource = .manufacturerDefault
            let error = await #expect(throws: PostgresError.self) {
                _ = try await writer.write(batch(intervals: [refused]))
            }
            #expect(error?.sqlState == "23514")
            #expect(try database.count("interval_readings") == 0)
        }
    }
}
