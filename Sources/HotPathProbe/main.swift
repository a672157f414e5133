// Allocation gate for the decode hot path (STYLE.md §7.6).
//
// `HotPathProbe N` decodes N frames, cycling through valid frames of every uplink type (MAC verified) plus a
// frame with a bad CRC and one from an unknown meter, and appends the records into one reused `SinkBatch`.
// Run it under valgrind with two values of N: "total heap usage: X allocs" must be the same for both, which
// proves decoding, verification, record building and typed-throw rejection allocate nothing per frame.
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
func run(count: Int) -> UInt64 {
    guard let key = AES128Key(hex: "2B7E151628AED2A6ABF7158809CF4F3C") else { return 0 }
    let frames = makeFrames(key: key)
    guard !frames.isEmpty else { return 0 }
    let registeredMeter: UInt64 = 1_000_001
    let receivedAt = Timestamp(secondsSinceEpoch: 1_795_420_805)
    let policy = TicketPolicy.serviceCommitments
    var batch = SinkBatch()
    batch.reserveCapacity(frames: 8)
    var checksum: UInt64 = 0
    var rejected: UInt64 = 0
    for index in 0..<count {
        frames[index % frames.count].withUnsafeBytes { raw in
            do throws(FrameDecodingError) {
                let frame = try NativeDecoder.decode(raw) { id in id == registeredMeter ? key : nil }
                frame.appendRecords(to: &batch, meterID: 42, receivedAt: receivedAt, policy: policy)
            } catch {
                rejected &+= 1
                checksum &+= UInt64(error.code == .badCRC ? 1 : 2)
            }
        }
        // Index loops: in debug builds `for … in` over large records allocates in the unspecialised iterator.
        for row in 0..<batch.readings.count {
            checksum &+= UInt64(truncatingIfNeeded: batch.readings[row].volumeMillilitres)
        }
        for row in 0..<batch.intervals.count {
            checksum &+= UInt64(truncatingIfNeeded: batch.intervals[row].endIndexMillilitres)
        }
        for row in 0..<batch.alarms.count {
            checksum &+= UInt64(truncatingIfNeeded: batch.alarms[row].rawCode)
        }
        checksum &+= UInt64(batch.frames.count)
        batch.removeAll()
    }
    return checksum &+ rejected << 48
}

let arguments = CommandLine.arguments
let count = arguments.count > 1 ? Int(arguments[1]) ?? 0 : 100_000
let checksum = run(count: count)
print("HotPathProbe: \(count) frames, checksum \(checksum)")
