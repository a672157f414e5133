import GatewayCore

/// One decode benchmark case: a name, the frames, and the decode step (which must not allocate).
///
/// `meter-gateway bench-decode` runs every case of ``cases()``: each decodes the same small set of valid frames in a
/// tight loop for a fixed time and reports frames per second per core. Build with `-c release`; a debug build
/// measures the debugger-friendly code instead.
public struct DecodeBenchmark {
    /// What one measurement found.
    public struct Result: Sendable {
        /// Frames decoded.
        public var frames: Int
        /// Frames decoded per second on the one core that ran the loop.
        public var framesPerSecond: Double
    }

    /// The case's name as printed.
    public var name: String
    /// The frames decoded in turn, each valid for ``decode``.
    public var frames: [[UInt8]]
    /// Decodes one frame; returns a non-zero value that depends on the decoded content (0 means the decode failed),
    /// so the work cannot be skipped.
    public var decode: (UnsafeRawBufferPointer) -> Int

    /// A case.
    /// - Parameters:
    ///   - name: The case's name as printed.
    ///   - frames: The frames decoded in turn.
    ///   - decode: Decodes one frame; returns a non-zero value that depends on the decoded content, 0 on failure.
    public init(name: String, frames: [[UInt8]], decode: @escaping (UnsafeRawBufferPointer) -> Int) {
        self.name = name
        self.frames = frames
        self.decode = decode
    }

    /// Whether every frame decodes. A case that fails would time the error path, so it must not be reported.
    public var decodesEveryFrame: Bool {
        frames.allSatisfy { frame in frame.withUnsafeBytes { decode($0) } != 0 }
    }

    /// Decodes the frames in a tight loop (64 times each per round) until `duration` has passed.
    /// - Parameter duration: How long to run.
    /// - Returns: The frames decoded and the rate.
    public func measure(for duration: Duration) -> Result {
        let clock = ContinuousClock()
        var checksum = 0
        var count = 0
        let start = clock.now
        let deadline = start + duration
        while clock.now < deadline {
            for frame in frames {
                for _ in 0..<64 {
                    checksum &+= frame.withUnsafeBytes { decode($0) }
                }
                count += 64
            }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if checksum == 42 { print("", terminator: "") }  // keeps `checksum` observable
        return Result(frames: count, framesPerSecond: Double(count) / seconds)
    }

    /// Every case the command runs.
    /// - Returns: The native, CJ/T 188 and M-Bus cases, in that order.
    public static func cases() -> [DecodeBenchmark] {
        nativeCases() + cjt188Cases() + mbusCases()
    }

    /// CJ/T 188: the public 901F read-data reply (gas/water layout, two volumes, clock, status).
    private static func cjt188Cases() -> [DecodeBenchmark] {
        let reply = Hex.decode("FEFEFE6810120000000000008116901F00100010002C100010002C0000000000000000FF6716") ?? []
        return [
            DecodeBenchmark(name: "cjt188 901F read-data reply", frames: [reply]) { bytes in
                guard let frame = try? CJT188Decoder.decode(bytes) else { return 0 }
                return Int(truncatingIfNeeded: frame.currentVolume?.millilitres ?? 0)
            }
        ]
    }

    /// OMS gas meters (OMS Vol. 2 Annex N): security profile A (AES-CBC, mode 5) and profile B (ELL + AFL CMAC +
    /// mode 7 with key derivation), and the plain wired long frame.
    private static func mbusCases() -> [DecodeBenchmark] {
        let mode5 =
            Hex.decode("2E4493157856341233037A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D6D69EBF3")
            ?? []
        let mode7 =
            Hex.decode(
                "434493157856341233038C2075900F002C25B30A000021924D4F2FB66E017A75002007109058475F4BC91DF878B80A1B0F98B629024AAC727942BFC549233C0140829B93"
            ) ?? []
        let wired = Hex.decode("6820206808FD7278563412931533032A0000000C1427048502046D32371F1502FD1700008916") ?? []
        let key5 = AES128Key(hex: "0102030405060708090A0B0C0D0E0F11")
        let key7 = AES128Key(hex: "000102030405060708090A0B0C0D0E0F")
        func wireless(_ key: AES128Key?) -> (UnsafeRawBufferPointer) -> Int {
            { bytes in
                guard
                    let frame = try? MBusDecoder.decodeWireless(bytes, key: { _ in key }, allowAlreadyDecrypted: false)
                else { return 0 }
                return frame.recordCount
            }
        }
        return [
            DecodeBenchmark(name: "wmbus OMS mode 5 (AES-CBC)", frames: [mode5], decode: wireless(key5)),
            DecodeBenchmark(name: "wmbus OMS mode 7 (ELL, CMAC, KDF)", frames: [mode7], decode: wireless(key7)),
            DecodeBenchmark(name: "mbus wired long frame (plain)", frames: [wired]) { bytes in
                guard let frame = try? MBusDecoder.decodeWired(bytes, key: { _ in nil }, allowAlreadyDecrypted: false)
                else { return 0 }
                return frame.recordCount
            },
        ]
    }

    static let benchmarkKey = AES128Key(
        AES128.Block(word0: 0x2B7E_1516, word1: 0x28AE_D2A6, word2: 0xABF7_1588, word3: 0x09CF_4F3C)
    )

    /// Native v1: a periodic reading and a 48-point daily report, MAC verified, records appended to a reused batch.
    private static func nativeCases() -> [DecodeBenchmark] {
        let register = NativeFrame.Register(raw: 12_345_678, exponent: -3, digits: 8)
        let reading = NativeFrame(
            meterID: 1_000_001,
            frameCounter: 7,
            meterTime: 1_795_420_800,
            flags: .ackRequested,
            body: .reading(
                NativeFrame.Reading(
                    register: register,
                    flowMillilitresPerHour: 500_000,
                    valve: .open,
                    batteryMillivolts: 3600,
                    temperatureCentiCelsius: 2150,
                    signalDBm: -85,
                    status: []
                )
            )
        )
        let daily = NativeFrame(
            meterID: 1_000_001,
            frameCounter: 8,
            meterTime: 1_795_420_800,
            flags: .ackRequested,
            body: .dailyReport(
                NativeFrame.DailyReport(
                    intervalStart: 1_795_305_600,
                    intervalMinutes: 30,
                    startRegister: register,
                    points: (0..<48).map { UInt32($0 * 7) },
                    frozenTotals: [NativeFrame.FrozenTotal(time: 1_795_305_600, raw: 12_345_678)]
                )
            )
        )
        let key = benchmarkKey
        let readingBytes = (try? NativeEncoder.encode(reading, key: key)) ?? []
        let dailyBytes = (try? NativeEncoder.encode(daily, key: key)) ?? []
        final class Scratch {
            var batch = SinkBatch()
            init() { batch.reserveCapacity(frames: 4) }
        }
        let scratch = Scratch()
        let decodeAndMap: (UnsafeRawBufferPointer) -> Int = { bytes in
            guard let frame = try? NativeDecoder.decode(bytes, key: { _ in key }) else { return 0 }
            scratch.batch.removeAll()
            frame.appendRecords(
                to: &scratch.batch,
                meterID: 1,
                receivedAt: Timestamp(secondsSinceEpoch: 0),
                policy: .serviceCommitments
            )
            return scratch.batch.readings.count &+ scratch.batch.intervals.count
        }
        return [
            DecodeBenchmark(name: "native reading (CMAC, records)", frames: [readingBytes], decode: decodeAndMap),
            DecodeBenchmark(name: "native daily report 48 points", frames: [dailyBytes], decode: decodeAndMap),
        ]
    }
}
