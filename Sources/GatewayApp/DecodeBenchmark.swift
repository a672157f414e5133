import ArgumentParser
import Foundation
import GatewayCore

/// `meter-gateway bench-decode`: decode throughput per protocol on one core, from frames built in memory.
///
/// Each case decodes the same small set of valid frames in a tight loop for a fixed time and reports frames per
/// second per core. Build with `-c release`; a debug build measures the debugger-friendly code instead.
struct DecodeBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-decode",
        abstract: "Measure decode throughput (frames/s per core) for each protocol.",
        discussion: "Run a release build: swift build -c release && .build/release/meter-gateway bench-decode"
    )

    @Option(name: .long, help: "Seconds to run each case.")
    var seconds = 2.0

    func run() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        print("case                                   frames/s per core   ns/frame")
        for benchmark in DecodeBenchmark.cases() {
            let result = benchmark.measure(for: .milliseconds(Int(seconds * 1000)))
            let name = benchmark.name.padding(toLength: 38, withPad: " ", startingAt: 0)
            let rate = String(format: "%.0f", result.framesPerSecond).leftPadded(to: 17)
            print("\(name) \(rate)   \(String(format: "%8.0f", 1e9 / result.framesPerSecond))")
        }
    }
}

/// One decode benchmark case: a name, the frames, and the decode step (which must not allocate).
struct DecodeBenchmark {
    struct Result {
        var frames: Int
        var framesPerSecond: Double
    }

    var name: String
    var frames: [[UInt8]]
    /// Decodes one frame; returns a value that depends on the decoded content, so the work cannot be skipped.
    var decode: (UnsafeRawBufferPointer) -> Int

    func measure(for duration: Duration) -> Result {
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
    static func cases() -> [DecodeBenchmark] {
        nativeCases()
    }

    private static let benchmarkKey = AES128Key(
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

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
