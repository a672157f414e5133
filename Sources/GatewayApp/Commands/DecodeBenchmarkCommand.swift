import ArgumentParser
import Foundation
import GatewayBenchmarks
import GatewayCore
import GatewayHTTP

/// `meter-gateway bench-decode`: decode throughput per protocol on one core, from frames built in memory.
///
/// Each case decodes the same small set of valid frames in a tight loop for a fixed time and reports frames per
/// second per core. Build with `-c release`; a debug build measures the debugger-friendly code instead.
///
/// The `+json` cases decode the same frames and print them as `meter-gateway decode` does: `writer` is the decode
/// tool's path (``FrameJSONRenderer``), `Foundation` the document through `GatewayJSONEncoder` as the tool printed
/// it before (same text), measured in the same run for the ratio.
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
        print("case                                                        frames/s per core   ns/frame")
        let cases =
            DecodeBenchmark.cases() + DecodeBenchmark.writerJSONCases()
            + DecodeBenchmark.jsonCases(label: "Foundation", render: Self.foundationJSON)
        for benchmark in cases {
            // A case that fails to decode would time the error path: refuse to report it.
            guard benchmark.decodesEveryFrame else {
                throw ValidationError("benchmark case '\(benchmark.name)' does not decode; fix the case")
            }
            let result = benchmark.measure(for: .milliseconds(Int(seconds * 1000)))
            let name = benchmark.name.padding(toLength: 60, withPad: " ", startingAt: 0)
            let rate = String(format: "%.0f", result.framesPerSecond).leftPadded(to: 17)
            print("\(name) \(rate)   \(String(format: "%8.0f", 1e9 / result.framesPerSecond))")
        }
    }
}

extension DecodeBenchmarkCommand {
    /// The decode command's JSON as it was made before the writer: the document through `GatewayJSONEncoder`
    /// (Foundation's `JSONEncoder`). Returns the text's length, 0 when the frame does not decode.
    static func foundationJSON(_ protocolName: FrameProtocol, _ key: AES128Key?, _ raw: UnsafeRawBufferPointer) -> Int {
        let encoder = GatewayJSONEncoder()
        do throws(FrameDecodingError) {
            let text: String?
            switch protocolName {
            case .native:
                let frame =
                    if let key { try NativeDecoder.decode(raw) { _ in key } } else {
                        try NativeDecoder.decodeWithoutVerifyingMAC(raw)
                    }
                text = try? encoder.text(NativeFrameDocument(frame))
            case .cjt188:
                text = try? encoder.text(CJT188FrameDocument(try CJT188Decoder.decode(raw)))
            case .wmbus:
                let frame = try MBusDecoder.decodeWireless(
                    raw,
                    key: { _ in key },
                    allowAlreadyDecrypted: true,
                    layout: { _, _ in nil },
                    drivers: .all
                )
                text = try? encoder.text(MBusFrameDocument(frame))
            case .mbus:
                let frame = try MBusDecoder.decodeWired(
                    raw,
                    key: { _ in key },
                    allowAlreadyDecrypted: true,
                    layout: { _, _ in nil },
                    drivers: .all
                )
                text = try? encoder.text(MBusFrameDocument(frame))
            }
            return text?.utf8.count ?? 0
        } catch {
            return 0
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
