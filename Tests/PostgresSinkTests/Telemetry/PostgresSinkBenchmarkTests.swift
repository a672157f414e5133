import Foundation
import Testing

@testable import PostgresSink

/// Prints write throughput. With `GATEWAY_BENCH=1` it runs the full size (50 daily-report batches of 1,000
/// readings + 48,000 intervals) for both stage-table strategies; otherwise a 3-batch smoke run. Asserts only
/// correctness of the run, never timings.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(10)))
struct PostgresSinkBenchmarkTests {
    static var isFull: Bool { ProcessInfo.processInfo.environment["GATEWAY_BENCH"] == "1" }

    @Test func measureWriteThroughput() async throws {
        let strategies: [StageTables.Strategy] = Self.isFull ? [.perSession, .perTransaction] : [.perSession]
        for strategy in strategies {
            let database = try TestDatabase.create()
            defer { database.drop() }
            let batches = Self.isFull ? 50 : 3
            let result = try await PostgresSinkBenchmark.run(
                conninfo: database.conninfo,
                batches: batches,
                meters: 1_000,
                logger: testLogger,
                stageStrategy: strategy
            )
            print("PostgresSink benchmark (\(strategy) stage tables): \(result)")
            #expect(result.rows == batches * 49_000)
            #expect(try database.count("interval_readings") == batches * 48_000)
            #expect(try database.count("readings") == batches * 1_000)
        }
    }
}
