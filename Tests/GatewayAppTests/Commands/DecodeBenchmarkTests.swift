import GatewayBenchmarks
import Testing

/// `bench-decode` must time the decoders' success path: every case's frames decode, and a measurement counts them.
@Suite struct DecodeBenchmarkTests {
    @Test func everyCaseDecodesItsFramesAndMeasures() {
        let cases = DecodeBenchmark.cases()
        #expect(cases.count == 6)
        for benchmark in cases {
            #expect(benchmark.decodesEveryFrame, "\(benchmark.name) does not decode")
            let result = benchmark.measure(for: .milliseconds(5))
            #expect(result.frames > 0 && result.framesPerSecond > 0, "\(benchmark.name)")
        }
    }

    @Test func aCaseThatCannotDecodeIsRecognised() {
        let broken = DecodeBenchmark(name: "broken", frames: [[0x00]]) { _ in 0 }
        #expect(!broken.decodesEveryFrame)
    }
}
