// Allocation gate for the decode hot path (STYLE.md §7.6).
//
// `HotPathProbe N` runs N frames up the admission ladder — the live path: topic routing, decoding, MAC
// verification, registry lookup, the collector assignment check, frame identity and record building — cycling through valid native frames of every
// uplink type into one reused `SinkBatch`; and N frames with a bad CRC straight through the native decoder
// (typed-throw rejection; quarantining a frame copies its bytes by design). Run it under valgrind with two values
// of N: "total heap usage: X allocs" must be the same for both, which proves native admission allocates nothing
// per frame. `HotPathProbe N all` adds a CJ/T 188 reading and a wireless and a wired M-Bus frame to the cycle: in
// a debug build those frames still allocate (1.7 times per frame on average over the three, in their decoders and
// record building: the native frames around them stay flat), which this mode reports rather than hides.
//
//     valgrind --tool=memcheck ./.build/debug/HotPathProbe 1000
//     valgrind --tool=memcheck ./.build/debug/HotPathProbe 100000

import GatewayCore

/// Builds the frames once, before the measured loop.
func makeFrames(key: AES128Key) -> [[UInt8]] {
    let meterTime: UInt32 = 1_795_420_800
    let register = NativeFrame.Register(raw: 1_234_567, exponent: -3, digits: 8)
    let frames: [NativeFrame] = [
        NativeFrame(
            meterID: 1_000_001,
            frameCounter: 7,
            meterTime: meterTime,
            flags: .ackRequested,
            body: .reading(
                NativeFrame.Reading(
                    register: register,
                    flowMillilitresPerHour: 500_000,
                    valve: .open,
                    batteryMillivolts: 3600,
                    temperatureCentiCelsius: 2150,
                    signalDBm: -85,
                    status: [.batteryLow]
                )
            )
        ),
        NativeFrame(
            meterID: 1_000_001,
            frameCounter: 8,
            meterTime: meterTime,
            flags: .ackRequested,
            body: .dailyReport(
                NativeFrame.DailyReport(
                    intervalStart: 1_795_305_600,
                    intervalMinutes: 30,
                    startRegister: register,
                    points: (0..<48).map { UInt32($0 * 17) },
                    frozenTotals: (0..<7).map {
                        NativeFrame.FrozenTotal(time: 1_795_305_600 - UInt32($0) * 86_400, raw: 1_200_000)
                    }
                )
            )
        ),
        NativeFrame(
            meterID: 1_000_001,
            frameCounter: 9,
            meterTime: meterTime,
            flags: .ackRequested,
            body: .alarm(
                NativeFrame.Alarm(
                    code: 0x0001,
                    isRaised: true,
                    valve: .closed,
                    register: register,
                    flowMillilitresPerHour: 0,
                    detail: 2500
                )
            )
        ),
        NativeFrame(
            meterID: 1_000_001,
            frameCounter: 10,
            meterTime: 0,
            body: .commandResult(
                NativeFrame.CommandResult(
                    commandFrameCounter: 5,
                    commandType: .valveCommand,
                    outcome: .executed,
                    valve: .closed
                )
            )
        ),
        NativeFrame(
            meterID: 2_000_002,
            frameCounter: 1,
            meterTime: meterTime,
            body: .alarm(
                NativeFrame.Alarm(
                    code: 0x4321,
                    isRaised: true,
                    valve: .open,
                    register: register,
                    flowMillilitresPerHour: nil,
                    detail: 0
                )
            )
        ),
    ]
    var encoded: [[UInt8]] = []
    for frame in frames {
        guard let bytes = try? NativeEncoder.encode(frame, key: key) else {
            print("HotPathProbe: a sample frame does not encode")
            return []
        }
        encoded.append(bytes)
    }
    // A frame with a broken CRC exercises the rejection path.
    var corrupted = encoded[0]
    corrupted[30] ^= 0x01
    encoded.append(corrupted)
    return encoded
}

/// Runs the measured loop and returns a checksum over everything decoded.
/// Golden frames of the other protocols (firmware-protocols/*-vectors.json) with their topics.
/// Added to the cycle by `HotPathProbe N all`.
let otherProtocolFrames: [(topic: String, hex: String)] = [
    // cjt188 `gas-901f-status-alarms`
    ("gm/v1/up/cjt188/78330011223344", "FEFEFE68304433221100337881161F9000007766552C452301002C3101221105152007814D16"),
    // wmbus `status-alarm-bits` (no meter clock: known by its fingerprint)
    ("gm/v1/up/wmbus/12345678", "144493157856341233037A213300000C1427048502"),
    // mbus `wired-vm-vb`
    (
        "gm/v1/up/mbus/87654321",
        "6828286808017221436587E61E3C03090000000C943A001709000C933E84278406046D0F20013302FD1700000D16"
    ),
    // wmbus `default-key-mode7`: a keyless Apator meter opened with the second of its manufacturer's default keys
    (
        "gm/v1/up/wmbus/00012345",
        "434401064523010005038C2032900F002C2567120000406BF50C8ED5BE097A320020071060A8E3B6DA9FF4BD32FD250F70B321957D0F"
            + "B9F35BE46768335A5DAAAAF89506"
    ),
    // wmbus `apator08-public-0303` (wmbus-driver-vectors.json): read by the apator08 driver, enabled below
    (
        "gm/v1/up/wmbus/004444DD",
        "73441486DD4444000303A0B9E527004C4034B31CED0106FF01D093270065F022009661230054D02300EC49240018B424005F012500"
            + "936D2500FFD525000E3D26001EAC26000B2027000300000000371D0B2000000000000024000000000000280000000000002C0033"
            + "150C010D2F000000000000"
    ),
]

func run(count: Int, allProtocols: Bool) -> UInt64 {
    guard let key = AES128Key(hex: "2B7E151628AED2A6ABF7158809CF4F3C") else { return 0 }
    let encoded = makeFrames(key: key)
    // The last two frames are refused (an unknown meter, a bad CRC): they go through the decoder alone, since
    // quarantining a frame copies its bytes by design.
    guard encoded.count > 2 else { return 0 }
    let refused = Array(encoded.suffix(2))
    let topics = TopicScheme(prefix: "gm/v1")
    // The last valid frame arrives through a collector the meter is assigned to: the assignment check (an interned
    // collector id probed with the topic's bytes) is part of the measured path.
    var frames: [(topic: [UInt8], bytes: [UInt8])] = encoded.dropLast(2).enumerated().map { index, bytes in
        (Array((index == 3 ? "gm/v1/up/collector/dtu-7" : "gm/v1/up/native/1000001").utf8), bytes)
    }
    for (topic, hex) in allProtocols ? otherProtocolFrames : [] {
        guard let bytes = Hex.decode(hex) else { return 0 }
        frames.append((Array(topic.utf8), bytes))
    }
    var registry = MeterRegistry()
    _ = registry.replace(
        .native,
        with: [.init(id: 42, address: "1000001", aesKey: Hex.decode("2B7E151628AED2A6ABF7158809CF4F3C"))],
        topics: topics
    )
    _ = registry.replace(.cjt188, with: [.init(id: 43, address: "78330011223344", aesKey: nil)], topics: topics)
    _ = registry.replace(
        .wmbus,
        with: [
            .init(id: 44, address: "ELS-12345678-51-03", aesKey: nil),
            .init(id: 46, address: "APA-00012345-5-03", aesKey: nil),
            .init(id: 47, address: "APT-004444DD-3-03", aesKey: nil),
        ],
        topics: topics
    )
    _ = registry.replace(.mbus, with: [.init(id: 45, address: "GWF-87654321-60-03", aesKey: nil)], topics: topics)
    registry.collectors = CollectorAssignments([(42, "dtu-1"), (42, "dtu-7"), (43, "dtu-7"), (44, "dtu-9")])
    var defaultKeys = MBusDefaultKeys()
    defaultKeys.set(
        [AES128Key(hex: "FFEEDDCCBBAA99887766554433221100"), AES128Key(hex: "00000000000000000000000000000000")]
            .compactMap { $0 },
        forManufacturer: "APA"
    )
    let ladder = AdmissionLadder(
        topics: topics,
        policy: .serviceCommitments,
        clocks: MeterClocks(cjt188: MeterClock(utcOffsetMinutes: 480), mbus: MeterClock(zone: centralEuropeanZone())),
        defaultKeys: defaultKeys,
        mbusDrivers: .all
    )
    let receivedAt = Timestamp(secondsSinceEpoch: 1_795_420_805)
    var batch = SinkBatch()
    batch.reserveCapacity(frames: 8)
    var checksum: UInt64 = 0
    var rejected: UInt64 = 0
    for index in 0..<count {
        let frame = frames[index % frames.count]
        let admission = frame.topic.withUnsafeBytes { topic in
            frame.bytes.withUnsafeBytes { payload in
                ladder.admit(topic: topic, payload: payload, receivedAt: receivedAt, registry: registry, into: &batch)
            }
        }
        if case .admitted(let identity) = admission.verdict { checksum &+= UInt64(bitPattern: identity.key) }
        refused[index % refused.count].withUnsafeBytes { raw in
            do throws(FrameDecodingError) {
                _ = try NativeDecoder.decode(raw) { id in id == 1_000_001 ? key : nil }
            } catch {
                rejected &+= 1
                checksum &+= UInt64(error.code == .badCRC ? 1 : 2)
            }
        }
        for row in 0..<batch.readings.count {
            checksum &+= UInt64(truncatingIfNeeded: batch.readings[row].volumeMillilitres)
        }
        for row in 0..<batch.intervals.count {
            checksum &+= UInt64(truncatingIfNeeded: batch.intervals[row].endIndexMillilitres)
        }
        for row in 0..<batch.alarms.count {
            checksum &+= UInt64(truncatingIfNeeded: batch.alarms[row].rawCode)
        }
        checksum &+= UInt64(batch.frames.count + batch.quarantine.count * 1_000)
        // As the pipeline does after a commit: layouts recorded for compact M-Bus frames are remembered once.
        if !batch.formatLayouts.isEmpty { registry.formats.remember(batch.formatLayouts) }
        batch.removeAll()
    }
    return checksum &+ rejected << 48
}

let arguments = CommandLine.arguments
let count = arguments.count > 1 ? Int(arguments[1]) ?? 0 : 100_000
let checksum = run(count: count, allProtocols: arguments.count > 2 && arguments[2] == "all")
print("HotPathProbe: \(count) frames, checksum \(checksum)")

/// Central European time with EU summer time 2000…2037 (from the last Sundays of March to those of October, 01:00
/// UTC): a named zone's transition table like the one `mbus_clock_time_zone = "Europe/Berlin"` builds, so that the
/// probe measures an M-Bus clock looked up in a table, not a fixed offset.
func centralEuropeanZone() -> TimeZoneRules {
    var transitions: [(at: Int64, offsetSeconds: Int64)] = []
    for year in 2000...2037 {
        for (month, offset) in [(3, Int64(7200)), (10, Int64(3600))] {
            let lastDay = CivilTime(year: year, month: month, day: 31, hour: 1).utcSeconds
            let weekday = (lastDay / 86_400 + 4) % 7  // 0 = Sunday: 1970-01-01 was a Thursday
            transitions.append((lastDay - weekday * 86_400, offset))
        }
    }
    return TimeZoneRules(identifier: "Europe/Berlin", initialOffsetSeconds: 3600, transitions: transitions)
}
