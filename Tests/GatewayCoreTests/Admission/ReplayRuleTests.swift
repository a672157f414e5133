import GatewayCore
import GatewayTestSupport
import Testing

/// The replay rule without a database: the verdict from the mark, the counter and what the frame log holds.
@Suite struct ReplayRuleTests {
    static let mark = CounterMark(highWater: 100, forgottenThrough: 40)

    @Test(
        arguments: [
            // counter, mark, stored fingerprint, verdict
            (101, Optional(mark), Int64?.none, ReplayRule.Verdict.fresh),
            (5, nil, nil, .fresh),
            (0, CounterMark(highWater: -1), nil, .fresh),
            (100, mark, 7, .duplicate),
            (30, mark, 7, .duplicate),
            (100, mark, 8, .replayed),
            (60, mark, 8, .replayed),
            (40, mark, nil, .replayed),
            (3, mark, nil, .replayed),
            (41, mark, nil, .lateDelivery),
            (100, mark, nil, .lateDelivery),
        ] as [(UInt32, CounterMark?, Int64?, ReplayRule.Verdict)]
    )
    func judgesFromMarkCounterAndLog(
        counter: UInt32,
        mark: CounterMark?,
        stored: Int64?,
        verdict: ReplayRule.Verdict
    ) {
        #expect(ReplayRule.judge(counter: counter, mark: mark, storedFingerprint: stored, fingerprint: 7) == verdict)
    }

    @Test func theHighestCounterIsAMarkNotAWindow() {
        // No wrap: the top counter is above every mark below it, and nothing above it exists.
        let top = CounterMark(highWater: Int64(UInt32.max))
        #expect(ReplayRule.judge(counter: 0, mark: top, storedFingerprint: nil, fingerprint: 1) == .lateDelivery)
        let forgotten = CounterMark(highWater: Int64(UInt32.max), forgottenThrough: Int64(UInt32.max) - 1)
        #expect(ReplayRule.judge(counter: 0, mark: forgotten, storedFingerprint: nil, fingerprint: 1) == .replayed)
        #expect(ReplayRule.judge(counter: .max, mark: forgotten, storedFingerprint: 1, fingerprint: 1) == .duplicate)
    }

    @Test func aRetransmissionHasTheFingerprintOfItsOriginal() throws {
        let original = AdmissionLadderTests.nativeFrame(counter: 9)
        let key = try #require(AdmissionLadderTests.nativeAESKey)
        var frame = try original.withUnsafeBytes { try NativeDecoder.decode($0, key: { _ in key }) }
        frame.header.flags.insert(.retransmission)
        let retransmission = try NativeEncoder.encode(frame, key: key)
        #expect(retransmission != original)
        let content = { (bytes: [UInt8]) in bytes.withUnsafeBytes { FrameFingerprint.ofNativeContent($0) } }
        #expect(content(retransmission) == content(original))
        // Other content (the next counter) is another fingerprint.
        #expect(content(AdmissionLadderTests.nativeFrame(counter: 10)) != content(original))
    }

    @Test func aNativeFrameCarriesItsAuthenticatedCounter() {
        let (admission, batch) = AdmissionLadderTests.admit(
            AdmissionLadderTests.nativeFrame(counter: 42),
            topic: "gm/v1/up/native/1000001"
        )
        #expect(admission.verdict == .admitted(.counter(42)))
        #expect(batch.gates.first?.counter == ReplayCounter(authenticated: .nativeFrame, value: 42))
    }

    @Test func framesWithoutAnAuthenticatedCounterCarryNone() {
        // A CJ/T 188 frame has no counter, and a tampered native frame is quarantined before any gate exists.
        let (_, cjt) = AdmissionLadderTests.admit(
            AdmissionLadderTests.bytes(AdmissionLadderTests.cjtReading),
            topic: "gm/v1/up/cjt188/78330011223344"
        )
        #expect(cjt.gates.count == 1 && cjt.gates[0].counter == nil)
        var forged = AdmissionLadderTests.nativeFrame(counter: 4_000_000_000)
        forged[forged.count - 4] ^= 0x01  // a MAC byte (the CRC, over it, fails first)
        let (admission, batch) = AdmissionLadderTests.admit(forged, topic: "gm/v1/up/native/1000001")
        #expect(batch.gates.isEmpty)
        if case .quarantined = admission.verdict {} else { Issue.record("a forged frame was admitted") }
    }
}
