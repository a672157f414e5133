import Foundation
public import GatewayCore
public import Logging
public import MQTTIngest
import Synchronization

/// A fleet of simulated native-protocol meters that publish through libmosquitto and resend unacked frames.
public final class FleetSimulator: Sendable {
    private struct AckKey: Hashable {
        var meter: UInt64
        var counter: UInt32
    }

    private struct Pending {
        var frame: NativeFrame
        var lastSent: ContinuousClock.Instant
        var attempts: Int
    }

    private struct Shared {
        var pending: [AckKey: Pending] = [:]
        var acked = 0
        var lastAck: ContinuousClock.Instant?
    }

    /// What this fleet does.
    public let options: SimulatorOptions
    let topics: TopicScheme
    private let mqttOptions: MQTTConnectionOptions
    private let logger: Logger
    private let shared = Mutex(Shared())
    private let keys: [UInt64: AES128Key]

    /// A fleet; its meters' keys are derived at once, nothing connects until ``run()``.
    /// - Parameters:
    ///   - options: What the fleet does.
    ///   - mqtt: The broker and the fleet's own client id (clean start: the fleet keeps no session).
    ///   - topics: The gateway's topic scheme; the fleet publishes uplinks and listens for acks on it.
    ///   - logger: Where progress is logged.
    public init(options: SimulatorOptions, mqtt: MQTTConnectionOptions, topics: TopicScheme, logger: Logger) {
        self.options = options
        self.topics = topics
        self.mqttOptions = mqtt
        self.logger = logger
        var keys: [UInt64: AES128Key] = [:]
        // The fleet, and the four district supply meters that follow it when faults are injected.
        for index in 0..<(options.meters + (options.injectFaults && options.meters >= 8 ? 4 : 0)) {
            let id = options.firstMeterID + UInt64(index)
            keys[id] = FleetKeys.key(for: id, fleetSecret: options.fleetSecret)
        }
        self.keys = keys
    }

    /// The registry rows for this fleet: residential G4 diaphragm meters (class 1.5, Qmin 0.04, Qt 0.6, Qmax 6 m³/h)
    /// with their derived keys, spread over four districts; every tenth meter's verification has expired.
    /// - Returns: One profile per meter, the district supply meters last.
    public func profiles() -> [MeterProfile] {
        (0..<options.meters).map { index in
            let id = options.firstMeterID + UInt64(index)
            var profile = MeterProfile(protocol: .native, address: String(id))
            profile.district = "district-\(index % 4 + 1)"
            profile.isRural = index % 5 == 4
            profile.aesKey = FleetKeys.keyBlock(for: id, fleetSecret: options.fleetSecret).bytes
            profile.size = .g4
            profile.accuracyClass = .class1_5
            profile.qminMillilitresPerHour = 40_000
            profile.qtMillilitresPerHour = 600_000
            profile.qmaxMillilitresPerHour = 6_000_000
            profile.registerDigits = Int(SimulatedMeter.registerDigits)
            profile.customerClass = .residential
            profile.verifiedOn = CivilDate(year: index % 10 == 9 ? 2014 : 2022, month: 3, day: 1)
            profile.verificationExpiresOn = CivilDate(year: index % 10 == 9 ? 2024 : 2032, month: 3, day: 1)
            return profile
        }
            + supplyMeterIDs.enumerated().map { district, id in
                var profile = MeterProfile(protocol: .native, address: String(id))
                profile.district = "district-\(district + 1)"
                profile.role = .districtSupply
                profile.aesKey = FleetKeys.keyBlock(for: id, fleetSecret: options.fleetSecret).bytes
                profile.size = .g100
                profile.accuracyClass = .class1_0
                profile.qminMillilitresPerHour = 1_000_000
                profile.qtMillilitresPerHour = 16_000_000
                profile.qmaxMillilitresPerHour = 160_000_000
                profile.registerDigits = 7
                profile.customerClass = .industrial
                return profile
            }
    }

    /// The meter whose interval data carries a scripted burst when faults are injected.
    static let burstMeterIndex = 6

    /// One district supply meter per district when faults are injected (ids after the fleet's).
    public var supplyMeterIDs: [UInt64] {
        guard options.injectFaults, options.meters >= 8 else { return [] }
        return (0..<4).map { options.firstMeterID + UInt64(options.meters) + UInt64($0) }
    }

    /// Publishes the fleet's frames for the configured duration, then waits for outstanding acks.
    /// - Returns: What was sent and acknowledged.
    /// - Throws: ``SimulatorError`` when the broker cannot be reached.
    public func run() async throws -> SimulatorReport {
        let client = try MosquittoClient(
            options: mqttOptions,
            subscriptions: [MQTTSubscription(filter: topics.downlinkFilter(.native), qos: .atLeastOnce)],
            logger: logger,
            onMessage: { [weak self] message in self?.receiveDownlink(message.payload) }
        )
        client.start()
        defer { client.stop() }
        guard await client.waitUntilConnected(timeout: .seconds(15)) else {
            throw SimulatorError("could not connect to the broker at \(mqttOptions.host):\(mqttOptions.port)")
        }

        var report = SimulatorReport()
        var random = SplitMix64(seed: options.seed)
        // Every frame of this run is stamped at or after this second.
        let started = Int64(Date().timeIntervalSince1970)
        var meters = makeMeters(now: started, random: &random)
        var sentFirst = [Bool](repeating: false, count: meters.count)
        var script =
            options.scriptedAlarms
            ? scriptedAlarms(
                meterCount: meters.count,
                leaking: meters.indices.filter { meters[$0].profile.leakLitresPerHour > 0 }
            ) : []
        var faultsDone = !options.injectFaults

        let clock = ContinuousClock()
        let start = clock.now
        let end = start + options.duration
        var nextMeter = 0
        var lastResendScan = start

        while clock.now < end {
            let elapsed = (clock.now - start) / options.duration
            let due: Int
            if options.ratePerSecond > 0 {
                let seconds =
                    Double((clock.now - start).components.seconds) + Double((clock.now - start).components.attoseconds)
                    / 1e18
                due = min(2000, Int(seconds * options.ratePerSecond) - report.framesGenerated)
            } else {
                due = max(0, min(2000, options.maxInFlight - inFlight()))
            }
            if due > 0 {
                for _ in 0..<due {
                    let index = nextMeter
                    nextMeter = (nextMeter + 1) % meters.count
                    let seconds = Int64(Date().timeIntervalSince1970)
                    meters[index].advance(to: seconds)
                    var body: NativeFrame.Body
                    if let scripted = script.first, scripted.at <= elapsed {
                        script.removeFirst()
                        // The alarm is stamped this second, so its snapshot carries this second's register (a
                        // register of an earlier second would make it a conflicting value of this second's frames).
                        meters[scripted.meter].advance(to: seconds)
                        body = alarmBody(
                            meters[scripted.meter],
                            code: scripted.code,
                            detail: scripted.detail,
                            valve: scripted.valve
                        )
                        try publish(&meters[scripted.meter], body: body, at: seconds, client: client, report: &report)
                        continue
                    }
                    // This second of the meter's clock holds its implausible reading: the turn passes.
                    if meters[index].reservedSecond == seconds { continue }
                    if options.dailyReports && !sentFirst[index] {
                        sentFirst[index] = true
                        body = dailyReport(meters[index], now: seconds)
                    } else if Double.random(in: 0..<1, using: &random) < options.randomAlarmProbability {
                        let code: UInt16 = Bool.random(using: &random) ? 0x000C : 0x0008
                        body = alarmBody(meters[index], code: code, detail: 0, valve: meters[index].valve)
                    } else {
                        body = reading(meters[index], at: seconds)
                    }
                    try publish(&meters[index], body: body, at: seconds, client: client, report: &report)
                }
            }
            if !faultsDone && elapsed >= 0.5 {
                faultsDone = true
                try injectFaults(&meters, runStart: started, client: client, report: &report)
            }
            if clock.now - lastResendScan > .milliseconds(250) {
                lastResendScan = clock.now
                resendOverdue(client: client, report: &report)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        if !faultsDone {
            // The loop slept past the run's middle and end in one go (a starved machine): the faults still go out,
            // once, so a run never reports fewer than it was asked for.
            try injectFaults(&meters, runStart: started, client: client, report: &report)
        }
        let generationTime = clock.now - start

        let drainEnd = clock.now + options.drain
        while clock.now < drainEnd && inFlight() > 0 {
            resendOverdue(client: client, report: &report)
            try await Task.sleep(for: .milliseconds(100))
        }
        let (acked, unacked, lastAck) = shared.withLock { ($0.acked, $0.pending.count, $0.lastAck) }
        report.acked = acked
        report.unacked = unacked
        if let lastAck, lastAck > start {
            let settled = lastAck - start
            report.settledSeconds = Double(settled.components.seconds) + Double(settled.components.attoseconds) / 1e18
        }
        report.seconds =
            Double(generationTime.components.seconds) + Double(generationTime.components.attoseconds) / 1e18
        report.framesPerSecond = report.seconds > 0 ? Double(report.framesGenerated) / report.seconds : 0
        return report
    }

    // MARK: Frames

    /// The fleet's meters as they stand at `now`: seeded households, registers advanced from yesterday's start.
    func makeMeters(now: Int64, random: inout SplitMix64) -> [SimulatedMeter] {
        // Counters continue across runs: the base grows with the clock (16 per second since 2026-09), so a rerun
        // against the same database sends new frames rather than repeats of old counters.
        let counterBase = UInt32(clamping: max(0, now - 1_788_000_000) * 16)
        return (0..<options.meters).map { index in
            let id = options.firstMeterID + UInt64(index)
            var meterRandom = SplitMix64(seed: options.seed &* 0x9E37_79B9 &+ id)
            let leaking = Double.random(in: 0..<1, using: &meterRandom) < options.leakingShare
            let profile = HouseholdProfile(random: &meterRandom, isLeaking: leaking)
            let yesterday = SimulatedMeter.localMidnight(before: now, offset: profile.utcOffsetSeconds) - 86_400
            let startRegister = Int64.random(in: 100...8000, using: &meterRandom) * 1_000_000
            var meter = SimulatedMeter(
                id: id,
                key: keys[id] ?? options.fleetSecret,
                profile: profile,
                registerMillilitres: startRegister,
                frameCounter: counterBase,
                lastAdvance: yesterday,
                batteryMillivolts: UInt16.random(in: 5600...6200, using: &meterRandom)
            )
            meter.yesterdayStartMillilitres = startRegister
            meter.advance(to: now)
            if options.injectFaults && index == Self.burstMeterIndex {
                // 3.6 m³ in one half hour yesterday (7.2 m³/h, above a G4's 6 m³/h): an over-flow signature.
                meter.burst = (slot: 20, millilitres: 3_600_000)
                meter.registerMillilitres += 3_600_000
            }
            _ = random.next()
            return meter
        }
    }

    func reading(_ meter: SimulatedMeter, at second: Int64) -> NativeFrame.Body {
        let flow = meter.profile.flowLitresPerHour(atUTCSecond: second)
        return .reading(
            NativeFrame.Reading(
                register: NativeFrame.Register(
                    raw: meter.registerRaw,
                    exponent: SimulatedMeter.exponent,
                    digits: SimulatedMeter.registerDigits
                ),
                flowMillilitresPerHour: UInt32(flow * 1000),
                valve: meter.valve,
                batteryMillivolts: meter.batteryMillivolts,
                temperatureCentiCelsius: 1250,
                signalDBm: -95,
                status: []
            )
        )
    }

    func dailyReport(_ meter: SimulatedMeter, now: Int64) -> NativeFrame.Body {
        let yesterday = SimulatedMeter.localMidnight(before: now, offset: meter.profile.utcOffsetSeconds) - 86_400
        var points = meter.profile.halfHourLitres(from: yesterday)
        if let burst = meter.burst { points[burst.slot] += UInt32(burst.millilitres / 1000) }
        let start = meter.yesterdayStartMillilitres / 1000
        let today = start + Int64(points.reduce(0) { $0 + Int($1) })
        // The day before, counted as its own report counts it (`leakHistory(_:now:)` sends that report for a
        // leaking meter): the same frozen total at yesterday's start, never a second value for that key.
        let dayBefore = max(
            0,
            start - Int64(meter.profile.halfHourLitres(from: yesterday - 86_400).reduce(0) { $0 + Int($1) })
        )
        return .dailyReport(
            NativeFrame.DailyReport(
                intervalStart: UInt32(yesterday),
                intervalMinutes: 30,
                startRegister: NativeFrame.Register(
                    raw: UInt64(start),
                    exponent: SimulatedMeter.exponent,
                    digits: SimulatedMeter.registerDigits
                ),
                points: points,
                frozenTotals: [
                    NativeFrame.FrozenTotal(time: UInt32(yesterday - 86_400), raw: UInt64(dayBefore)),
                    NativeFrame.FrozenTotal(time: UInt32(yesterday), raw: UInt64(start)),
                    NativeFrame.FrozenTotal(time: UInt32(yesterday + 86_400), raw: UInt64(today)),
                ]
            )
        )
    }

    private func alarmBody(_ meter: SimulatedMeter, code: UInt16, detail: Int32, valve: ValveState) -> NativeFrame.Body
    {
        .alarm(
            NativeFrame.Alarm(
                code: code,
                isRaised: true,
                valve: valve,
                register: NativeFrame.Register(
                    raw: meter.registerRaw,
                    exponent: SimulatedMeter.exponent,
                    digits: SimulatedMeter.registerDigits
                ),
                flowMillilitresPerHour: UInt32(meter.profile.flowLitresPerHour(atUTCSecond: meter.lastAdvance) * 1000),
                detail: detail
            )
        )
    }

    private struct ScriptedAlarm {
        var at: Double
        var meter: Int
        var code: UInt16
        var detail: Int32
        var valve: ValveState
    }

    /// The demo's story: a methane alarm (P0), an over-flow shut-off with the valve closed (P1), a continuous-flow
    /// timeout on a leaking meter (P2), a tilt (P1), a low battery (P3), and the methane alarm again (joins the ticket).
    private func scriptedAlarms(meterCount: Int, leaking: [Int]) -> [ScriptedAlarm] {
        guard meterCount >= 10 else { return [] }
        return [
            ScriptedAlarm(at: 0.15, meter: 1, code: 0x0001, detail: 2500, valve: .closed),
            ScriptedAlarm(at: 0.25, meter: 4, code: 0x0002, detail: 0, valve: .closed),
            ScriptedAlarm(at: 0.35, meter: leaking.first ?? 6, code: 0x0003, detail: 0, valve: .open),
            ScriptedAlarm(at: 0.45, meter: 7, code: 0x0007, detail: 0, valve: .open),
            ScriptedAlarm(at: 0.55, meter: 9, code: 0x000C, detail: 0, valve: .open),
            ScriptedAlarm(at: 0.65, meter: 1, code: 0x0001, detail: 3100, valve: .closed),
        ]
    }

    func publish(
        _ meter: inout SimulatedMeter,
        body: NativeFrame.Body,
        at second: Int64,
        client: MosquittoClient,
        report: inout SimulatorReport
    ) throws {
        let frame = NativeFrame(
            meterID: meter.id,
            frameCounter: meter.nextCounter(),
            meterTime: UInt32(truncatingIfNeeded: second),
            flags: .ackRequested,
            body: body
        )
        report.framesGenerated += 1
        switch body {
        case .reading: report.readings += 1
        case .dailyReport(let daily):
            report.dailyReports += 1
            report.intervalPoints += daily.pointCount
            report.frozenTotals += daily.frozenCount
        case .alarm(let alarm):
            report.alarms += 1
            report.alarmsByCondition[alarm.condition.rawValue, default: 0] += 1
        default: break
        }
        shared.withLock {
            $0.pending[AckKey(meter: meter.id, counter: frame.header.frameCounter)] = Pending(
                frame: frame,
                lastSent: .now,
                attempts: 0
            )
        }
        if send(frame, key: meter.key, client: client) {
            report.published += 1
            if case .alarm(let alarm) = body, let observer = options.onAlarmPublished {
                observer(
                    AlarmPublication(
                        meterID: meter.id,
                        frameCounter: frame.header.frameCounter,
                        condition: alarm.condition.rawValue,
                        publishedAt: .now,
                        meterTime: frame.header.meterTime,
                        rawCode: alarm.code,
                        isCleared: !alarm.isRaised
                    )
                )
            }
        } else {
            report.publishFailures += 1
        }
    }

    private func send(_ frame: NativeFrame, key: AES128Key, client: MosquittoClient) -> Bool {
        do {
            let bytes = try NativeEncoder.encode(frame, key: key)
            try client.publish(
                topic: topics.uplinkTopic(.native, address: String(frame.header.meterID)),
                payload: bytes
            )
            return true
        } catch {
            logger.warning("simulator could not publish", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func inFlight() -> Int { shared.withLock { $0.pending.count } }

    private func resendOverdue(client: MosquittoClient, report: inout SimulatorReport) {
        guard let after = options.retransmitAfter else { return }
        let now = ContinuousClock.now
        let overdue: [Pending] = shared.withLock { shared in
            var due: [Pending] = []
            for (key, pending) in shared.pending
            where now - pending.lastSent >= after && pending.attempts < options.maxRetransmissions {
                var updated = pending
                updated.lastSent = now
                updated.attempts += 1
                updated.frame.header.flags.insert(.retransmission)
                shared.pending[key] = updated
                due.append(updated)
            }
            return due
        }
        for pending in overdue {
            guard let key = keys[pending.frame.header.meterID] else { continue }
            if send(pending.frame, key: key, client: client) { report.retransmissions += 1 }
        }
    }

    /// Handles an ack downlink (on the MQTT network thread): verify it with the meter's key, settle the frame.
    private func receiveDownlink(_ payload: UnsafeRawBufferPointer) {
        guard let frame = try? NativeDecoder.decode(payload, key: { keys[$0] }), case .ack(let ack) = frame.body else {
            return
        }
        shared.withLock { shared in
            if shared.pending.removeValue(forKey: AckKey(meter: frame.header.meterID, counter: ack.ackedFrameCounter))
                != nil
            {
                shared.acked += 1
                shared.lastAck = .now
            }
        }
    }

    /// Publishes one frame of each failure kind; none of them may be stored as a reading.
    /// The run's faults, once: malformed frames, the implausible readings and the leak scenarios.
    private func injectFaults(
        _ meters: inout [SimulatedMeter],
        runStart: Int64,
        client: MosquittoClient,
        report: inout SimulatorReport
    ) throws {
        report.faultsInjected = publishFaults(meters: meters, client: client)
        report.implausibleReadings = publishImplausible(
            &meters,
            now: Int64(Date().timeIntervalSince1970),
            runStart: runStart,
            client: client
        )
        try publishLeakScenarios(&meters, client: client, report: &report)
    }

    private func publishFaults(meters: [SimulatedMeter], client: MosquittoClient) -> Int {
        guard meters.count >= 2 else { return 0 }
        let meter = meters[0]
        let reading = NativeFrame(
            meterID: meter.id,
            frameCounter: 1,
            meterTime: UInt32(meter.lastAdvance),
            flags: [],
            body: self.reading(meter, at: meter.lastAdvance)
        )
        let wrongKey = AES128Key(AES128.Block(word0: 1, word1: 2, word2: 3, word3: 4))
        let unknownID: UInt64 = 999_999_999
        var faults: [(String, [UInt8])] = []
        if var bytes = try? NativeEncoder.encode(reading, key: meter.key) {
            bytes[30] ^= 0x55
            faults.append((topics.uplinkTopic(.native, address: String(meter.id)), bytes))  // bad_crc
        }
        if let bytes = try? NativeEncoder.encode(reading, key: wrongKey) {
            faults.append((topics.uplinkTopic(.native, address: String(meter.id)), bytes))  // bad_mac
        }
        var stranger = reading
        stranger.header.meterID = unknownID
        if let bytes = try? NativeEncoder.encode(stranger, key: meter.key) {
            faults.append((topics.uplinkTopic(.native, address: String(unknownID)), bytes))  // unknown_meter
        }
        // Too short to be a frame: truncated.
        faults.append((topics.uplinkTopic(.native, address: String(meter.id)), Array("not a frame".utf8)))
        if let bytes = try? NativeEncoder.encode(reading, key: meter.key) {
            faults.append((topics.uplinkTopic(.native, address: String(meters[1].id)), bytes))  // topic_mismatch
        }
        // A broken frame on another protocol's topic.
        faults.append((topics.uplinkTopic(.cjt188, address: "78330011223344"), [0xFE, 0xFE, 0x68, 0x30]))
        var sent = 0
        for (topic, bytes) in faults where (try? client.publish(topic: topic, payload: bytes)) != nil {
            sent += 1
        }
        return sent
    }
}
