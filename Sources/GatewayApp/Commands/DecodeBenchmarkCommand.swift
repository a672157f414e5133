import ArgumentParser
import Foundation
import GatewayBenchmarks

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
            // A case that fails to decode would time the error path: refuse to report it.
            guard benchmark.decodesEveryFrame else {
                throw ValidationError("benchmark case '\(benchmark.name)' does not decode; fix the case")
            }
            let result = benchmark.measure(for: .milliseconds(Int(seconds * 1000)))
            let name = benchmark.name.padding(toLength: 38, withPad: " ", startingAt: 0)
            let rate = String(format: "%.0f", result.framesPerSecond).leftPadded(to: 17)
            print("\(name) \(rate)   \(String(format: "%8.0f", 1e9 / result.framesPerSecond))")
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
