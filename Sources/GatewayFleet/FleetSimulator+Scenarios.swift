import Foundation
import GatewayCore
import MQTTIngest

extension FleetSimulator {
    /// The leaks the demo shows besides alarm frames: 31 days of interval history of a leaking household (no
    /// zero-flow half hour: a continuous-flow ticket after 30 days), and each district's supply meter reporting
    /// yesterday's total, 20 % above the sum of its customers in district-1 (a network leak) and equal elsewhere.
    func publishLeakScenarios(
        _ meters: inout [SimulatedMeter],
        client: MosquittoClient,
        report: inout SimulatorReport
    ) throws {
        let now = Int64(Date().timeIntervalSince1970)
        if let leaker = meters.indices.first(where: {
            meters[$0].profile.leakLitresPerHour > 0 && $0 != Self.burstMeterIndex && $0 > 3
        }) {
            for body in leakHistory(meters[leaker], now: now) {
                try publish(&meters[leaker], body: body, at: now, client: client, report: &report)
            }
        }
        for (district, id) in supplyMeterIDs.enumerated() {
            var points = [UInt32](repeating: 0, count: 48)
            for index in meters.indices where index % 4 == district {
                guard case .dailyReport(let daily) = dailyReport(meters[index], now: now) else { continue }
                for slot in 0..<min(48, daily.pointCount) { points[slot] += daily.points[slot] }
            }
            if district == 0 { points = points.map { $0 + $0 / 5 } }
            let yesterday = SimulatedMeter.localMidnight(before: now, offset: 8 * 3600) - 86_400
            var supply = SimulatedMeter(
                id: id,
                key: FleetKeys.key(for: id, fleetSecret: options.fleetSecret),
                profile: meters[0].profile,
                registerMillilitres: 0,
                frameCounter: meters[0].frameCounter,
                lastAdvance: now,
                batteryMillivolts: 6000
            )
            try publish(
                &supply,
                body: Self.dayReport(start: yesterday, startRaw: 500_000, points: points),
                at: now,
                client: client,
                report: &report
            )
        }
    }

    /// A household's daily reports for the 31 days before yesterday, newest first: each day's points are the ones
    /// its own report would state (``HouseholdProfile/halfHourLitres(from:)``), and each day closes at the total the
    /// next one opens with, the newest at the total yesterday's report opens with. So every midnight has one frozen
    /// total, whichever report states it; a second value there would be a conflicting duplicate.
    ///
    /// A leaking household (at least 8 L/h, so at least 4 L per half hour) has no zero point in it.
    /// - Parameters:
    ///   - meter: The meter.
    ///   - now: The current second.
    /// - Returns: The reports, stopping early where the register would fall to zero.
    func leakHistory(_ meter: SimulatedMeter, now: Int64) -> [NativeFrame.Body] {
        let yesterday = SimulatedMeter.localMidnight(before: now, offset: meter.profile.utcOffsetSeconds) - 86_400
        var end = meter.yesterdayStartMillilitres / 1000
        var reports: [NativeFrame.Body] = []
        for back in 1...31 {
            let dayStart = yesterday - Int64(back) * 86_400
            let points = meter.profile.halfHourLitres(from: dayStart)
            let start = end - Int64(points.reduce(0) { $0 + Int($1) })
            guard start > 0 else { break }
            reports.append(Self.dayReport(start: dayStart, startRaw: start, points: points))
            end = start
        }
        return reports
    }

    /// A daily report of 48 half-hour points with frozen totals at both ends of the day.
    static func dayReport(start: Int64, startRaw: Int64, points: [UInt32]) -> NativeFrame.Body {
        let endRaw = startRaw + Int64(points.reduce(0) { $0 + Int($1) })
        return .dailyReport(
            NativeFrame.DailyReport(
                intervalStart: UInt32(start),
                intervalMinutes: 30,
                startRegister: NativeFrame.Register(
                    raw: UInt64(startRaw),
                    exponent: SimulatedMeter.exponent,
                    digits: SimulatedMeter.registerDigits
                ),
                points: points,
                frozenTotals: [
                    NativeFrame.FrozenTotal(time: UInt32(start), raw: UInt64(startRaw)),
                    NativeFrame.FrozenTotal(time: UInt32(start + 86_400), raw: UInt64(endRaw)),
                ]
            )
        )
    }

    /// Two correctly sealed readings that validation must catch: meter 3's register 5 m³ below its last value
    /// (index_decrease, rejected) and meter 4's clock two hours behind the receive time (clock_drift, held).
    /// Sent without ack requests, so the simulator does not wait for them.
    func publishImplausible(meters: [SimulatedMeter], now: Int64, client: MosquittoClient) -> Int {
        guard meters.count >= 4 else { return 0 }
        var sent = 0
        for (index, meterTime, shift) in [(2, now, Int64(-5_000_000)), (3, now - 7200, Int64(0))] {
            var meter = meters[index]
            meter.registerMillilitres = max(0, meter.registerMillilitres + shift)
            let frame = NativeFrame(
                meterID: meter.id,
                frameCounter: 2 + UInt32(index),
                meterTime: UInt32(meterTime),
                flags: [],
                body: reading(meter, at: meterTime)
            )
            if let bytes = try? NativeEncoder.encode(frame, key: meter.key),
                (try? client.publish(topic: topics.uplinkTopic(.native, address: String(meter.id)), payload: bytes))
                    != nil
            {
                sent += 1
            }
        }
        return sent
    }
}
