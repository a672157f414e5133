import Foundation
import GatewayCore
import GatewayFleet

/// The frames of a phase's CJ/T 188 and wireless M-Bus meters: ordinary readings, alarms, clock-less redeliveries
/// and the hostile burst (with native frames that reuse stored counters: the replay attack; and the security
/// attacks on OMS mode 5: a forged ciphertext, a forged status byte, downgrades).
struct FaultTraffic {
    let fleet: FaultFleet
    let topics: TopicScheme
    /// The campaign's start in Unix seconds; meter clocks count from a day (CJ/T 188) or two (M-Bus) before it.
    let now: Int64

    /// CJ/T 188 clocks run in China Standard Time and M-Bus clocks in CET, as the example configuration says.
    static let cjtOffsetSeconds: Int64 = 480 * 60
    static let mbusOffsetSeconds: Int64 = 60 * 60

    /// The `sequence`th frame of CJ/T 188 meter `index`.
    func cjtFrame(_ index: Int, sequence: Int) -> OutgoingFrame? {
        let label = fleet.cjtLabel(index)
        let isAlarm = index == FaultFleet.cjtAlarmMeter && sequence % 3 == 2
        let clock =
            FaultFleet.hasClock(index)
            ? LocalTime(epochSeconds: now - 86_400 + Int64(sequence), offsetSeconds: Self.cjtOffsetSeconds) : nil
        guard
            let bytes = FaultFrames.cjt188(
                label: label,
                hundredths: 100_000 + UInt64(sequence) * 7 + UInt64(index),
                clock: clock,
                status: isAlarm ? 0x0004 : 0,
                sequence: UInt8(truncatingIfNeeded: sequence)
            )
        else { return nil }
        return OutgoingFrame(
            frame: entry(
                kind: isAlarm ? "alarm" : "reading",
                topic: topics.uplinkTopic(.cjt188, address: label),
                bytes: bytes,
                meter: ("cjt188", label),
                expect: "stored",
                alarm: isAlarm ? AlarmCondition.batteryLow.rawValue : nil
            ),
            payload: bytes
        )
    }

    /// The `sequence`th frame of wireless M-Bus meter `index`.
    func wmbusFrame(_ index: Int, sequence: Int) -> OutgoingFrame? {
        let number = fleet.wmbusNumber(index)
        let isAlarm = index == FaultFleet.wmbusAlarmMeter && sequence % 3 == 2
        // M-Bus type F clocks have minutes only: one minute per frame keeps every clocked frame its own identity.
        let clock =
            FaultFleet.hasClock(index)
            ? LocalTime(epochSeconds: now - 2 * 86_400 + Int64(sequence) * 60, offsetSeconds: Self.mbusOffsetSeconds)
            : nil
        guard
            let bytes = FaultFrames.wmbus(
                number: number,
                hundredths: 200_000 + UInt64(sequence) * 11 + UInt64(index),
                clock: clock,
                access: UInt8(truncatingIfNeeded: sequence),
                status: isAlarm ? 0x04 : 0
            )
        else { return nil }
        return OutgoingFrame(
            frame: entry(
                kind: isAlarm ? "alarm" : "reading",
                topic: topics.uplinkTopic(.wmbus, address: number),
                bytes: bytes,
                meter: ("wmbus", fleet.wmbusRegistryAddress(index)),
                expect: "stored",
                alarm: isAlarm ? AlarmCondition.batteryLow.rawValue : nil
            ),
            payload: bytes
        )
    }

    /// `count` ordinary frames, round-robin over the phase's CJ/T 188 and wireless M-Bus meters.
    func ordinary(count: Int) -> [OutgoingFrame] {
        let meters = fleet.cjtCount + fleet.wmbusCount
        guard meters > 0 else { return [] }
        return (0..<count).compactMap { position in
            let meter = position % meters
            let sequence = position / meters
            return meter < fleet.cjtCount
                ? cjtFrame(meter, sequence: sequence) : wmbusFrame(meter - fleet.cjtCount, sequence: sequence)
        }
    }

    /// Clock-less redeliveries: every clock-less frame of `ordinary(count:)` `repeats` times in a row (as a meter
    /// retry or a QoS 1 redelivery would), and the last clock-less frame of each meter once more with the retain
    /// flag, so the broker sends it again whenever the gateway subscribes.
    func redeliveries(count: Int, repeats: (Int) -> Int) -> [OutgoingFrame] {
        var result: [OutgoingFrame] = []
        var lastByTopic: [String: OutgoingFrame] = [:]
        for frame in ordinary(count: count) {
            let isClockless = frame.frame.meterAddress.map { isClocklessMeter($0) } ?? false
            let times = isClockless ? max(1, repeats(result.count)) : 1
            result += Array(repeating: frame, count: times)
            if isClockless { lastByTopic[frame.frame.topic] = frame }
        }
        for topic in lastByTopic.keys.sorted() {
            guard var frame = lastByTopic[topic] else { continue }
            frame.retain = true
            result.append(frame)
        }
        return result
    }

    private func isClocklessMeter(_ address: String) -> Bool {
        for index in 0..<fleet.cjtCount where fleet.cjtLabel(index) == address { return !FaultFleet.hasClock(index) }
        for index in 0..<fleet.wmbusCount where fleet.wmbusRegistryAddress(index) == address {
            return !FaultFleet.hasClock(index)
        }
        return false
    }

    /// About `count` hostile deliveries: random bytes on every kind of topic, truncated and bit-flipped CJ/T 188
    /// frames, payloads over `maxPayloadBytes`, a frame naming another meter than its topic, a collector speaking for
    /// a meter not assigned to it (a valid frame on the rogue collector's topic: `collector_not_assigned`), replays
    /// of valid frames (half of them through the collector the meters are assigned to, which must store them), and
    /// one in twenty a security attack (``securityAttacks(count:maxRepeats:random:)``); each payload published
    /// 1…`maxRepeats` times.
    func hostile(count: Int, maxPayloadBytes: Int, maxRepeats: Int, random: inout SplitMix64) -> [OutgoingFrame] {
        var result: [OutgoingFrame] = []
        let cjtTopic = topics.uplinkTopic(.cjt188, address: fleet.cjtLabel(0))
        let collectorTopic = topics.prefix + "/up/collector/" + fleet.collector
        let rogueTopic = topics.prefix + "/up/collector/" + fleet.rogueCollector
        let randomTopics = [
            cjtTopic,
            topics.uplinkTopic(.wmbus, address: fleet.wmbusNumber(1)),
            topics.uplinkTopic(.native, address: String(FaultFleet.firstNativeMeterID(phase: fleet.phase))),
            topics.uplinkTopic(.mbus, address: "00000001"),
            collectorTopic,
            topics.prefix + "/up/bogus/1",
        ]
        var sequence = 10_000
        while result.count < count {
            sequence += 1
            let choice = Int.random(in: 0..<100, using: &random)
            var item: OutgoingFrame?
            switch choice {
            case 0..<30:
                let length = Int.random(in: 1...300, using: &random)
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
                let topic = randomTopics[Int.random(in: 0..<randomTopics.count, using: &random)]
                let expect = topic.hasSuffix("/bogus/1") ? "quarantine:unroutable_topic" : "quarantine:*"
                item = OutgoingFrame(
                    frame: entry(kind: "random", topic: topic, bytes: bytes, meter: nil, expect: expect, alarm: nil),
                    payload: bytes
                )
            case 30..<45:
                guard let valid = cjtFrame(0, sequence: sequence) else { break }
                let cut = Int.random(in: 1..<valid.payload.count, using: &random)
                let bytes = Array(valid.payload.prefix(cut))
                item = OutgoingFrame(
                    frame: entry(kind: "truncated", topic: cjtTopic, bytes: bytes, meter: nil, expect: "quarantine:*"),
                    payload: bytes
                )
            case 45..<55:
                let length = Int.random(in: (maxPayloadBytes + 1)...(maxPayloadBytes * 3), using: &random)
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
                let topic = randomTopics[Int.random(in: 0..<4, using: &random)]
                item = OutgoingFrame(
                    frame: entry(
                        kind: "oversize",
                        topic: topic,
                        bytes: bytes,
                        meter: nil,
                        expect: "quarantine:frame_too_large"
                    ),
                    payload: bytes
                )
            case 55..<75:
                guard var valid = cjtFrame(0, sequence: sequence) else { break }
                // Any bit from the type byte to the checksum: the byte sum no longer matches.
                let position = Int.random(in: 4..<(valid.payload.count - 1), using: &random)
                valid.payload[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
                item = OutgoingFrame(
                    frame: entry(
                        kind: "bitflip",
                        topic: cjtTopic,
                        bytes: valid.payload,
                        meter: nil,
                        expect: "quarantine:*"
                    ),
                    payload: valid.payload
                )
            case 75..<85:
                guard let valid = cjtFrame(2, sequence: sequence) else { break }
                item = OutgoingFrame(
                    frame: entry(
                        kind: "mismatch",
                        topic: topics.uplinkTopic(.cjt188, address: fleet.cjtLabel(0)),
                        bytes: valid.payload,
                        meter: nil,
                        expect: "quarantine:topic_mismatch"
                    ),
                    payload: valid.payload
                )
            case 85..<92:
                // A valid, never-sent frame of one of the phase's meters from a collector it is not assigned to.
                let meters = fleet.cjtCount + fleet.wmbusCount
                let meter = Int.random(in: 0..<meters, using: &random)
                let valid =
                    meter < fleet.cjtCount
                    ? cjtFrame(meter, sequence: sequence) : wmbusFrame(meter - fleet.cjtCount, sequence: sequence)
                guard let valid else { break }
                item = OutgoingFrame(
                    frame: entry(
                        kind: "unassigned_collector",
                        topic: rogueTopic,
                        bytes: valid.payload,
                        meter: nil,
                        expect: "quarantine:\(QuarantineReason.collectorNotAssigned.rawValue)"
                    ),
                    payload: valid.payload
                )
            default:
                let meters = fleet.cjtCount + fleet.wmbusCount
                let meter = Int.random(in: 0..<meters, using: &random)
                let replayed =
                    meter < fleet.cjtCount
                    ? cjtFrame(meter, sequence: sequence) : wmbusFrame(meter - fleet.cjtCount, sequence: sequence)
                guard var replay = replayed else { break }
                replay.frame.kind = "replay"
                if Bool.random(using: &random) { replay.frame.topic = collectorTopic }
                item = replay
            }
            guard let item else { continue }
            let times = Int.random(in: 1...max(1, maxRepeats), using: &random)
            result += Array(repeating: item, count: times)
        }
        result += securityAttacks(count: max(4, count / 20), maxRepeats: maxRepeats, random: &random)
        // Interleave the repeats with the rest, as a flood from many sources would arrive.
        result.shuffle(using: &random)
        return result
    }

    /// The attacks on the phase's keyed wireless M-Bus meters, in turn:
    /// * a forged mode-5 volume: a genuine frame of the mode-5 meter with a ciphertext byte of the first block
    ///   (the one holding `2F 2F` and the volume) changed: it no longer decrypts to `2F 2F`, so `wrong_key`;
    /// * a forged mode-5 status byte: a genuine frame whose plain TPL status byte was set to power low in flight:
    ///   stored, with its volume `encrypted` and its `battery_low` alarm `plain`, which still opens the meter's
    ///   ticket, marked unauthenticated (the checker verifies both);
    /// * downgrades: a mode-5 and a mode-0 frame of the meter whose minimum is `authenticated`:
    ///   `insufficient_security`.
    /// Each payload is published 1…`maxRepeats` times.
    func securityAttacks(count: Int, maxRepeats: Int, random: inout SplitMix64) -> [OutgoingFrame] {
        let modeFive = FaultFleet.modeFiveMeter
        let strict = FaultFleet.authenticatedMeter
        guard let modeFiveKey = AES128Key(bytes: fleet.securedKey(modeFive)),
            let strictKey = AES128Key(bytes: fleet.securedKey(strict))
        else { return [] }
        var result: [OutgoingFrame] = []
        for attack in 0..<count {
            let sequence = 50_000 + attack
            let which = attack % 4 < 2 ? modeFive : strict
            guard
                let plain = FaultFrames.wmbus(
                    number: fleet.securedNumber(which),
                    hundredths: 300_000 + UInt64(sequence),
                    clock: nil,
                    access: UInt8(truncatingIfNeeded: sequence),
                    status: 0
                ),
                var mode5 = MBusEncoder.encryptMode5(plain, key: which == modeFive ? modeFiveKey : strictKey)
            else { continue }
            let topic = topics.uplinkTopic(.wmbus, address: fleet.securedNumber(which))
            let sent: SentFrame
            switch attack % 4 {
            case 0:
                mode5[15 + Int.random(in: 0..<16, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                sent = entry(
                    kind: "forged_volume",
                    topic: topic,
                    bytes: mode5,
                    meter: nil,
                    expect: "quarantine:\(QuarantineReason(.wrongKey).rawValue)"
                )
            case 1:
                mode5[12] = 0x04  // the TPL status byte, outside mode 5's encryption: power low
                sent = entry(
                    kind: "forged_status",
                    topic: topic,
                    bytes: mode5,
                    meter: ("wmbus", fleet.securedRegistryAddress(which)),
                    expect: "stored",
                    alarm: AlarmCondition.batteryLow.rawValue
                )
            case 2:
                sent = entry(
                    kind: "downgrade",
                    topic: topic,
                    bytes: mode5,
                    meter: nil,
                    expect: "quarantine:\(QuarantineReason.insufficientSecurity.rawValue)"
                )
            default:
                mode5 = plain
                sent = entry(
                    kind: "downgrade",
                    topic: topic,
                    bytes: plain,
                    meter: nil,
                    expect: "quarantine:\(QuarantineReason.insufficientSecurity.rawValue)"
                )
            }
            let item = OutgoingFrame(frame: sent, payload: mode5)
            result += Array(repeating: item, count: Int.random(in: 1...max(1, maxRepeats), using: &random))
        }
        return result
    }

    /// The replay attack on counters: for each stored (meter, counter), a native reading with that counter and
    /// other content (another meter time and register), authenticated with the meter's key (the campaign's fleet
    /// keys derive from the simulator's public fleet secret). Each must be quarantined as `replayed`; none may be
    /// stored. Each is published 1…`maxRepeats` times.
    func counterReplays(
        of captured: [(meter: UInt64, counter: UInt32)],
        maxRepeats: Int,
        random: inout SplitMix64
    ) -> [OutgoingFrame] {
        let secret = SimulatorOptions().fleetSecret
        var result: [OutgoingFrame] = []
        for (meter, counter) in captured {
            let key = AES128Key(withUnsafeBytes(of: meter.bigEndian) { AESCMAC.authenticate($0, with: secret) })
            let frame = NativeFrame(
                meterID: meter,
                frameCounter: counter,
                meterTime: UInt32(truncatingIfNeeded: now - 30 * 86_400),
                flags: .ackRequested,
                body: .reading(
                    NativeFrame.Reading(
                        register: NativeFrame.Register(raw: 77_777, exponent: -3, digits: 5),
                        flowMillilitresPerHour: 0,
                        valve: .open,
                        batteryMillivolts: 3600,
                        temperatureCentiCelsius: 2000,
                        signalDBm: -80,
                        status: []
                    )
                )
            )
            guard let bytes = try? NativeEncoder.encode(frame, key: key) else { continue }
            let item = OutgoingFrame(
                frame: entry(
                    kind: "counter_replay",
                    topic: topics.uplinkTopic(.native, address: String(meter)),
                    bytes: bytes,
                    meter: nil,
                    expect: "quarantine:\(QuarantineReason.replayed.rawValue)",
                    fingerprint: bytes.withUnsafeBytes { FrameFingerprint.ofNativeContent($0) }
                ),
                payload: bytes
            )
            result += Array(repeating: item, count: Int.random(in: 1...max(1, maxRepeats), using: &random))
        }
        return result
    }

    private func entry(
        kind: String,
        topic: String,
        bytes: [UInt8],
        meter: (String, String)?,
        expect: String,
        alarm: String? = nil,
        fingerprint: Int64? = nil
    ) -> SentFrame {
        SentFrame(
            kind: kind,
            topic: topic,
            hex: Hex.encode(Array(bytes.prefix(64))),
            size: bytes.count,
            fingerprint: fingerprint ?? bytes.withUnsafeBytes { FrameFingerprint.of($0) },
            meterProtocol: meter?.0,
            meterAddress: meter?.1,
            expect: expect,
            alarm: alarm,
            deliveries: 0,
            confirmed: 0,
            retained: false,
            firstSentAt: 0,
            lastSentAt: 0
        )
    }
}
