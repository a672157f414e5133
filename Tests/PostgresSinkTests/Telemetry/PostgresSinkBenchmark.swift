import GatewayCore
import Logging

@testable import PostgresSink

/// A throughput measurement of ``TelemetryStore/write(_:)`` with daily-report-shaped batches.
///
/// Each batch is one daily report from `meters` meters: one reading per meter and 48 half-hour intervals per
/// meter. The database must be migrated and is written to (meters `bench-0…` are registered), so point it at
/// a scratch database.
enum PostgresSinkBenchmark {
    /// What one run measured.
    struct Result: Sendable, CustomStringConvertible {
        /// Batches written.
        var batches: Int
        /// Rows (readings + intervals) per pass.
        var rows: Int
        /// Seconds spent in `write` for fresh rows.
        var insertSeconds: Double
        /// Seconds spent in `write` replaying the same batches (every row a duplicate).
        var replaySeconds: Double
        /// Seconds spent only encoding the batches into the COPY buffer.
        var encodeSeconds: Double
        /// Median milliseconds to commit a batch of one alarm that opens (or joins) a ticket, events and
        /// notification included.
        var alarmCommitMilliseconds: Double = 0

        /// Fresh rows per second.
        var insertRowsPerSecond: Double { Double(rows) / max(insertSeconds, 1e-9) }
        /// Replayed (duplicate) rows per second.
        var replayRowsPerSecond: Double { Double(rows) / max(replaySeconds, 1e-9) }
        /// Encoded rows per second.
        var encodeRowsPerSecond: Double { Double(rows) / max(encodeSeconds, 1e-9) }

        var description: String {
            "\(batches) batches, \(rows) rows: insert \(Int(insertRowsPerSecond)) rows/s (\(rounded(insertSeconds)) s), "
                + "replay \(Int(replayRowsPerSecond)) rows/s (\(rounded(replaySeconds)) s), "
                + "encode only \(Int(encodeRowsPerSecond)) rows/s, "
                + "one-alarm batch with ticket \(rounded(alarmCommitMilliseconds)) ms median"
        }

        private func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
    }

    /// Registers the meters, writes `batches` fresh batches, then writes them all again (replay).
    /// - Parameters:
    ///   - conninfo: A migrated scratch database.
    ///   - batches: Number of batches.
    ///   - meters: Meters per batch (one reading and 48 intervals each).
    ///   - logger: The writer's logger.
    /// - Returns: The timings.
    /// - Throws: ``PostgresError`` (`.invalidArgument` when `batches` or `meters` is not positive).
    static func run(
        conninfo: String,
        batches: Int = 50,
        meters: Int = 1_000,
        logger: Logger
    ) async throws -> Result {
        try await run(conninfo: conninfo, batches: batches, meters: meters, logger: logger, stageStrategy: .perSession)
    }

    static func run(
        conninfo: String,
        batches: Int,
        meters: Int,
        logger: Logger,
        stageStrategy: StageTables.Strategy
    ) async throws -> Result {
        guard batches > 0, meters > 0 else {
            throw PostgresError(code: .invalidArgument, message: "benchmark needs at least one batch and one meter")
        }
        let writer = TelemetryStore(conninfo: conninfo, logger: logger, stageStrategy: stageStrategy)
        _ = try await writer.migrate()
        let registrations = (0..<meters).map { MeterRegistration(protocol: .native, address: "bench-\($0)") }
        let meterStore = MeterStore(writer.database)
        _ = try await meterStore.registerMeters(registrations)
        let ids = try await meterStore.loadMeters(protocol: .native).filter { $0.address.hasPrefix("bench-") }.map(\.id)
        let start = Timestamp(secondsSinceEpoch: 1_767_225_600)  // 2026-01-01T00:00:00Z

        var result = Result(batches: batches, rows: 0, insertSeconds: 0, replaySeconds: 0, encodeSeconds: 0)
        var batch = SinkBatch()
        batch.reserveCapacity(frames: ids.count)
        let clock = ContinuousClock()
        var encoder = BinaryCopyEncoder(reservingCapacity: 8 << 20)
        for pass in 0..<2 {
            for day in 0..<batches {
                fill(&batch, ids: ids, day: start.adding(seconds: Int64(day) * 86_400))
                if pass == 0 {
                    result.rows += batch.readings.count + batch.intervals.count
                    let encodeStart = clock.now
                    encoder.reset()
                    for reading in batch.readings {
                        encoder.append(reading)
                    }
                    encoder.reset()
                    for interval in batch.intervals {
                        encoder.append(interval)
                    }
                    encoder.finish()
                    result.encodeSeconds += seconds(clock.now - encodeStart)
                }
                let writeStart = clock.now
                _ = try await writer.write(batch)
                let elapsed = seconds(clock.now - writeStart)
                if pass == 0 { result.insertSeconds += elapsed } else { result.replaySeconds += elapsed }
            }
        }
        var alarmTimes: [Double] = []
        for index in 0..<21 {
            var alarmBatch = SinkBatch()
            let raised = start.adding(seconds: Int64(index) * 60)
            alarmBatch.alarms.append(
                AlarmRecord(
                    meterID: ids[index % ids.count],
                    raisedAt: raised,
                    receivedAt: raised.adding(seconds: 1),
                    source: .native,
                    rawCode: 0x21,
                    condition: .methaneDetector,
                    isCleared: false,
                    priority: .p0,
                    valve: .closed,
                    detail: 30,
                    frameCounter: nil
                )
            )
            let alarmStart = clock.now
            _ = try await writer.write(alarmBatch)
            alarmTimes.append(seconds(clock.now - alarmStart) * 1_000)
        }
        result.alarmCommitMilliseconds = alarmTimes.sorted()[alarmTimes.count / 2]
        await writer.close()
        return result
    }

    private static func fill(_ batch: inout SinkBatch, ids: [Int64], day: Timestamp) {
        batch.removeAll()
        let received = day.adding(seconds: 86_400 + 3_600)
        for (index, id) in ids.enumerated() {
            let base = Int64(index) * 10_000_000 + day.secondsSinceEpoch % 10_000_000
            batch.readings.append(
                ReadingRecord(
                    meterID: id,
                    readAt: day.adding(seconds: 86_399),
                    receivedAt: received,
                    kind: .dailyFrozen,
                    volumeMillilitres: base + 48 * 1_000,
                    registerModulusMillilitres: 100_000_000_000,
                    flowMillilitresPerHour: nil,
                    valve: .open,
                    batteryMillivolts: 3_550,
                    temperatureCentiCelsius: 1_800,
                    signalDBm: -90,
                    statusBits: 0,
                    frameCounter: Int64(index),
                    source: .native
                )
            )
            for slot in 0..<48 {
                batch.intervals.append(
                    IntervalRecord(
                        meterID: id,
                        intervalStart: day.adding(seconds: Int64(slot) * 1_800),
                        intervalMinutes: 30,
                        volumeMillilitres: 1_000,
                        endIndexMillilitres: base + Int64(slot + 1) * 1_000,
                        receivedAt: received
                    )
                )
            }
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
