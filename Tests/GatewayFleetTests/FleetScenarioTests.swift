import Foundation
import GatewayCore
import GatewayDomain
import Logging
import MQTTIngest
import Testing

@testable import GatewayFleet

/// The demo's scenarios without servers: the rows their frames become (GatewayCore's records, keyed as the
/// database keys them) and what validation decides about them (GatewayDomain's engine).
@Suite struct FleetScenarioTests {
    /// Run starts over a local (UTC+8) day: 00:00, 03:00 (leak flow only), 07:00 (breakfast, heating), 12:00,
    /// 18:00 (dinner, heating) and 23:59, each at :37 seconds.
    static let runStarts: [Int64] = [0, 3, 7, 12, 18].map { 1_795_363_200 + $0 * 3600 + 37 } + [1_795_449_577]

    /// The demo's fleet (60 meters, faults on, seed 1) and its meters as they stand at `started`.
    private static func fleet(started: Int64) -> (FleetSimulator, [SimulatedMeter]) {
        var options = SimulatorOptions()
        options.meters = 60
        options.injectFaults = true
        let simulator = FleetSimulator(
            options: options,
            // Never connected: the scenarios are built, not published.
            mqtt: MQTTConnectionOptions(host: "127.0.0.1", port: 1883, clientID: "scenario-test"),
            topics: TopicScheme(prefix: "scenario-test/v1"),
            logger: Logger(label: "scenario-test")
        )
        var random = SplitMix64(seed: options.seed)
        return (simulator, simulator.makeMeters(now: started, random: &random))
    }

    /// The reading rows a frame becomes.
    private static func readings(of frame: NativeFrame, receivedAt: Timestamp) -> [ReadingRecord] {
        var batch = SinkBatch()
        frame.appendRecords(to: &batch, meterID: 1, receivedAt: receivedAt, policy: .serviceCommitments)
        return batch.readings
    }

    private static func indexRead(_ row: ReadingRecord) -> IndexRead {
        IndexRead(
            readAt: row.readAt,
            receivedAt: row.receivedAt,
            kind: row.kind,
            volumeMillilitres: row.volumeMillilitres,
            registerModulusMillilitres: row.registerModulusMillilitres,
            flowMillilitresPerHour: row.flowMillilitresPerHour,
            valve: row.valve
        )
    }

    @Test(arguments: runStarts)
    func aLeakingMetersHistoryAndItsDailyReportStateOneFrozenTotalPerMidnight(started: Int64) throws {
        let (simulator, meters) = Self.fleet(started: started)
        let leakers = meters.filter { $0.profile.leakLitresPerHour > 0 }
        try #require(leakers.count >= 2)
        for meter in leakers {
            let history = simulator.leakHistory(meter, now: started)
            #expect(!history.isEmpty)
            var totals: [Timestamp: Set<Int64>] = [:]
            for (number, body) in ([simulator.dailyReport(meter, now: started)] + history).enumerated() {
                let frame = NativeFrame(
                    meterID: meter.id,
                    frameCounter: UInt32(number + 1),
                    meterTime: UInt32(started),
                    flags: [],
                    body: body
                )
                for row in Self.readings(of: frame, receivedAt: Timestamp(secondsSinceEpoch: started))
                where row.kind == .dailyFrozen {
                    totals[row.readAt, default: []].insert(row.volumeMillilitres)
                }
            }
            // Yesterday's report: the midnights before, at the start and at the end of yesterday; the history adds
            // one midnight per day before those.
            #expect(totals.count == history.count + 2)
            let conflicting = totals.filter { $0.value.count > 1 }
            #expect(conflicting.isEmpty, "meter \(meter.id) states two totals at \(conflicting.keys.sorted())")
        }
    }

    @Test(arguments: runStarts)
    func theImplausibleReadingsAreCaughtEachForItsOwnReasonOnly(started: Int64) throws {
        let (simulator, before) = Self.fleet(started: started)
        var meters = before
        let now = started + 20
        // The densest schedule: meters 3 and 4 read every second of the run so far, received 0.3 s later.
        var regular: [Int: [ReadingRecord]] = [2: [], 3: []]
        for index in [2, 3] {
            for second in started...now {
                meters[index].advance(to: second)
                let frame = NativeFrame(
                    meterID: meters[index].id,
                    frameCounter: meters[index].nextCounter(),
                    meterTime: UInt32(second),
                    flags: .ackRequested,
                    body: simulator.reading(meters[index], at: second)
                )
                regular[index, default: []] += Self.readings(
                    of: frame,
                    receivedAt: Timestamp(microsecondsSinceEpoch: second * 1_000_000 + 300_000)
                )
            }
        }
        let frames = simulator.implausibleFrames(&meters, now: now, runStart: started)
        try #require(frames.map(\.meter) == [2, 3])
        // Meter 3's scheduled frames pass the second its implausible reading holds.
        #expect(meters[2].reservedSecond == now + 1)
        #expect(meters[3].reservedSecond == nil)

        let expected: [Int: (ReadQuality, ValidationReasons)] = [
            2: (.rejected, .indexDecrease), 3: (.suspect, .clockDrift),
        ]
        let limits = MeterLimits(qminMillilitresPerHour: 40_000, qmaxMillilitresPerHour: 6_000_000)
        for (index, frame) in frames {
            let received = Timestamp(microsecondsSinceEpoch: now * 1_000_000 + 500_000)
            let rows = Self.readings(of: frame, receivedAt: received)
            try #require(rows.count == 1)
            let implausible = rows[0]
            let others = regular[index] ?? []
            #expect(!others.contains { $0.readAt == implausible.readAt && $0.kind == implausible.kind })
            // As the validator sees the meter: its daily report's frozen totals, its readings, and for meter 3 the
            // reading after the implausible one, all in time order.
            var all =
                Self.readings(
                    of: NativeFrame(
                        meterID: before[index].id,
                        frameCounter: 1,
                        meterTime: UInt32(started),
                        flags: .ackRequested,
                        body: simulator.dailyReport(before[index], now: started)
                    ),
                    receivedAt: Timestamp(secondsSinceEpoch: started)
                ) + others + [implausible]
            if index == 2 {
                meters[2].advance(to: now + 2)
                let next = NativeFrame(
                    meterID: meters[2].id,
                    frameCounter: meters[2].nextCounter(),
                    meterTime: UInt32(now + 2),
                    flags: .ackRequested,
                    body: simulator.reading(meters[2], at: now + 2)
                )
                all += Self.readings(of: next, receivedAt: Timestamp(secondsSinceEpoch: now + 2))
            }
            all.sort { ($0.readAt, $0.kind.rawValue) < ($1.readAt, $1.kind.rawValue) }
            let output = ValidationEngine.validate(
                ValidationInput(
                    limits: limits,
                    settings: ValidationSettings(),
                    previous: nil,
                    reads: all.map(Self.indexRead),
                    intervals: [],
                    history: [],
                    firstDay: Timestamp(secondsSinceEpoch: now),
                    now: Timestamp(secondsSinceEpoch: now)
                )
            )
            for (row, verdict) in zip(all, output.verdicts) {
                if row == implausible {
                    #expect(verdict.quality == expected[index]?.0, "meter \(index + 1): \(verdict.reasons.names)")
                    #expect(verdict.reasons == expected[index]?.1, "meter \(index + 1): \(verdict.reasons.names)")
                } else {
                    #expect(verdict.quality == .valid, "meter \(index + 1) at \(row.readAt): \(verdict.reasons.names)")
                }
            }
        }
    }
}
