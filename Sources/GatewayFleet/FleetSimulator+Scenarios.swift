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

    /// Two correctly sealed readings that validation must catch, each for one reason only: meter 3's register 5 m³
    /// below its last reading (index_decrease, rejected) and meter 4's reading stamped two hours before the run
    /// started (clock_drift, held). Both report zero flow, so no flow rule adds a flag, whatever the hour.
    ///
    /// Neither shares its read time with another reading of its meter, which would make it a conflicting duplicate
    /// of that reading instead: meter 3's is the second after `now` (every frame so far is stamped `now` or earlier)
    /// and becomes the meter's ``SimulatedMeter/reservedSecond``, which its scheduled frames pass; meter 4's is
    /// before the run's first frame.
    /// - Parameters:
    ///   - meters: The fleet; meters 3 and 4 (indices 2 and 3) spend a frame counter, meter 3 reserves its second.
    ///   - now: The current second.
    ///   - runStart: The second the run started; no frame of the run is stamped before it.
    /// - Returns: The two frames (without ack requests) with their meters' indices; none for fewer than 4 meters.
    func implausibleFrames(
        _ meters: inout [SimulatedMeter],
        now: Int64,
        runStart: Int64
    ) -> [(meter: Int, frame: NativeFrame)] {
        guard meters.count >= 4 else { return [] }
        meters[2].reservedSecond = now + 1
        var frames: [(meter: Int, frame: NativeFrame)] = []
        for (index, readAt, shift) in [(2, now + 1, Int64(-5_000_000)), (3, runStart - 7200, Int64(0))] {
            let counter = meters[index].nextCounter()
            let meter = meters[index]
            let reading = NativeFrame.Reading(
                register: NativeFrame.Register(
                    raw: UInt64(max(0, meter.registerMillilitres + shift) / 1000),
                    exponent: SimulatedMeter.exponent,
                    digits: SimulatedMeter.registerDigits
                ),
                flowMillilitresPerHour: 0,
                valve: meter.valve,
                batteryMillivolts: meter.batteryMillivolts,
                temperatureCentiCelsius: 1250,
                signalDBm: -95,
                status: []
            )
            let frame = NativeFrame(
                meterID: meter.id,
                frameCounter: counter,
                meterTime: UInt32(readAt),
                flags: [],
                body: .reading(reading)
            )
            frames.append((index, frame))
        }
        return frames
    }

    /// Publishes ``implausibleFrames(_:now:runStart:)`` (no ack requested, so the simulator does not wait for them).
    /// - Returns: How many were published.
    func publishImplausible(
        _ meters: inout [SimulatedMeter],
        now: Int64,
        runStart: Int64,
        client: MosquittoClient
    ) -> Int {
        var sent = 0
        for (index, frame) in implausibleFrames(&meters, now: now, runStart: runStart) {
            let topic = topics.uplinkTopic(.native, address: String(frame.header.meterID))
            if let bytes = try? NativeEncoder.encode(frame, key: meters[index].key),
                (try? client.publish(topic: topic, payload: bytes)) != nil
            {
                sent += 1
            }
        }
        return sent
    }
}
