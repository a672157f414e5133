import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// The batch validator's queue semantics: busy meters, meters queued again while a batch runs, bad input.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct ValidationBatchTests {
    private let day: Int64 = 86_400

    private func dailyReadings(_ meters: [Int64], days: Int64) -> SinkBatch {
        batch(
            readings: meters.flatMap { meter in
                (0...days).map { makeReading(meter: meter, at: at($0 * day), volume: 1_000_000 + $0 * 400_000, kind: .dailyFrozen) }
            }
        )
    }

    @Test func aMeterAnotherValidatorHoldsIsSkippedAndStaysQueued() async throws {
        try await withMigratedStores { stores, database, ids in
            let meters = ["m1", "m2", "m3"].map { ids[$0]! }
            _ = try await stores.telemetry.write(dailyReadings(meters, days: 2))
            let other = try database.connect()
            _ = try other.query("SELECT pg_advisory_lock(hashtextextended('validate/' || $1, 7411))", parameters: [String(meters[1])])
            let queue = try await stores.validation.dirtyMeters(limit: 10)
            let summary = try await stores.validation.validate(batch: queue, settings: ValidationSettings(), now: at(5 * day))
            #expect(summary.busyMeters == [meters[1]])
            #expect(summary.metersValidated == 2)
            #expect(summary.totals.wasBusy)
            #expect(summary.totals.daysChanged == 4)
            #expect(try database.count("validation_queue") == 1)
            #expect(try database.count("daily_reads", where: "meter_id = \(meters[1])") == 0)
        }
    }

    @Test func aMeterQueuedAgainDuringItsBatchIsValidatedAgain() async throws {
        try await withMigratedStores { stores, database, ids in
            let meters = ["m1", "m2"].map { ids[$0]! }
            _ = try await stores.telemetry.write(dailyReadings(meters, days: 2))
            let queue = try await stores.validation.dirtyMeters(limit: 10)
            // New data for m2 after the batch read the queue: its queue version moves on.
            _ = try await stores.telemetry.write(
                batch(readings: [makeReading(meter: meters[1], at: at(3 * day), volume: 2_300_000, kind: .dailyFrozen)])
            )
            let first = try await stores.validation.validate(batch: queue, settings: ValidationSettings(), now: at(5 * day))
            #expect(first.metersValidated == 2)
            let again = try await stores.validation.dirtyMeters(limit: 10)
            #expect(again.map(\.meterID) == [meters[1]])
            let second = try await stores.validation.validate(batch: again, settings: ValidationSettings(), now: at(5 * day))
            // The first batch already read the new row (it was committed before the batch began): same verdicts.
            #expect(second.metersValidated == 1)
            #expect(second.totals.daysChanged == 0)
            #expect(try database.count("validation_queue") == 0)
        }
    }

    @Test func aBatchNamingAMeterTwiceIsRefusedAndWritesNothing() async throws {
        try await withMigratedStores { stores, database, ids in
            _ = try await stores.telemetry.write(dailyReadings([ids["m1"]!], days: 2))
            let queue = try await stores.validation.dirtyMeters(limit: 10)
            await #expect(throws: PostgresError.self) {
                _ = try await stores.validation.validate(batch: queue + queue, settings: ValidationSettings(), now: at(5 * day))
            }
            #expect(try database.count("validation_queue") == 1)
            #expect(try database.count("daily_reads") == 0)
        }
    }
}
