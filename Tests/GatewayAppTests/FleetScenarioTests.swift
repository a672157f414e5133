import Foundation
import GatewayCore
import GatewayDomain
import Logging
import Testing

@testable import GatewayApp
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
            mqtt: GatewayConfiguration().fleetMQTTOptions(clientID: "scenario-test"),
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
}
