import GatewayCore
import Testing

/// Compact M-Bus frames on the admission ladder: an unknown layout is `unknown_format` with the meter and signature
/// named, an admitted full frame records its layout once, and a known layout admits the compact frame. Frames are
/// `wmbus-vectors.json` vectors of GWF-20240002-60-03 (mode 0).
@Suite struct CompactFrameAdmissionTests {
    /// `compact-layout-full-frame`: CI 7A, Vm 917.00 m³ at 2024-03-01 06:00; layout signature F3D0.
    static let fullFrame = "2844E61E020024203C037A040000000C943A001709000DFD11C35634122F02FD170000046D00060133"
    /// `compact-ci79-plain-later`: CI 79, Vm 918.00 m³ at 07:00.
    static let compact79 = "1C44E61E020024203C0379D0F38F4600180900C3563412000000070133"
    static let chain = "0C943A0DFD1102FD17046D"
    static let topic = "gm/v1/up/wmbus/20240002"

    static func registry(layouts: [(Int64, String, Int64)] = []) -> MeterRegistry {
        var registry = AdmissionLadderTests.registry(wmbus: [(7, "GWF-20240002-60-03", nil)])
        for (meterID, chain, seen) in layouts {
            if let layout = Hex.decode(chain).flatMap({ MBusRecordLayout(bytes: $0) }) {
                registry.formats.remember(layout, meterID: meterID, lastSeen: Timestamp(secondsSinceEpoch: seen))
            }
        }
        return registry
    }

    @Test func compactFrameWithoutALayoutIsUnknownFormatNamingMeterAndSignature() throws {
        let (admission, batch) = AdmissionLadderTests.admit(
            AdmissionLadderTests.bytes(Self.compact79),
            topic: Self.topic,
            registry: Self.registry()
        )
        #expect(admission.verdict == .quarantined(QuarantineReason(rawValue: "unknown_format")))
        let row = try #require(batch.quarantine.first)
        #expect(row.reason == "unknown_format")
        #expect(row.meterAddress == "GWF-20240002-60-03")
        #expect(row.detail.contains("GWF-20240002-60-03") && row.detail.contains("F3D0"), "\(row.detail)")
        #expect(row.payload == AdmissionLadderTests.bytes(Self.compact79), "the bytes are kept for a replay")
        #expect(batch.readings.isEmpty && batch.formatLayouts.isEmpty)
    }

    @Test func compactFrameOfAnUnregisteredMeterIsUnknownMeter() {
        var registry = AdmissionLadderTests.registry()
        registry.formats = Self.registry(layouts: [(7, Self.chain, 0)]).formats
        let (admission, _) = AdmissionLadderTests.admit(
            AdmissionLadderTests.bytes(Self.compact79),
            topic: Self.topic,
            registry: registry
        )
        #expect(admission.verdict == .quarantined(.unknownMeter))
    }

    @Test func aLayoutOfAnotherMeterIsNotUsed() {
        let (admission, _) = AdmissionLadderTests.admit(
            AdmissionLadderTests.bytes(Self.compact79),
            topic: Self.topic,
            registry: Self.registry(layouts: [(3, Self.chain, 0)])
        )
        #expect(admission.verdict == .quarantined(QuarantineReason(.unknownFormat)))
    }

    @Test func admittedFullFrameRecordsItsLayoutOncePerBatch() throws {
        var batch = SinkBatch()
        let registry = Self.registry()
        for second in [100, 101] as [Int64] {
            let admission = AdmissionLadderTests.admit(
                AdmissionLadderTests.bytes(Self.fullFrame),
                topic: Self.topic,
                at: 1_800_000_000 + second,
                registry: registry,
                into: &batch
            )
            guard case .admitted = admission.verdict else {
                Issue.record("expected admission, got \(admission.verdict)")
                return
            }
        }
        try #require(batch.formatLayouts.count == 1)
        let row = batch.formatLayouts[0]
        #expect(row.meterID == 7)
        #expect(row.signature == 0xF3D0)
        #expect(Hex.encode(row.chain) == Self.chain)
        #expect(row.seenAt == Timestamp(secondsSinceEpoch: 1_800_000_101), "the later sighting")
    }

    @Test func aKnownLayoutIsRecordedAgainOnlyAfterADay() {
        let now: Int64 = 1_800_000_000
        let fresh = Self.registry(layouts: [(7, Self.chain, now - 3_600)])
        let (_, recent) = AdmissionLadderTests.admit(
            AdmissionLadderTests.bytes(Self.fullFrame),
            topic: Self.topic,
            at: now,
            registry: fresh
        )
        #expect(recent.formatLayouts.isEmpty)
        let stale = Self.registry(layouts: [(7, Self.chain, now - FormatLayoutBook.refreshSeconds - 1)])
        let (_, old) = AdmissionLadderTests.admit(
            AdmissionLadderTests.bytes(Self.fullFrame),
            topic: Self.topic,
            at: now,
            registry: stale
        )
        #expect(old.formatLayouts.count == 1)
    }

    @Test func compactFrameWithAKnownLayoutIsAdmittedWithItsReading() throws {
        var registry = Self.registry()
        // What the pipeline does: the full frame's layout, once its batch committed, decodes the compact frame.
        let (full, fullBatch) = AdmissionLadderTests.admit(
            AdmissionLadderTests.bytes(Self.fullFrame),
            topic: Self.topic,
            registry: registry
        )
        guard case .admitted = full.verdict else {
            Issue.record("expected admission, got \(full.verdict)")
            return
        }
        registry.formats.remember(fullBatch.formatLayouts)
        let (admission, batch) = AdmissionLadderTests.admit(
            AdmissionLadderTests.bytes(Self.compact79),
            topic: Self.topic,
            registry: registry
        )
        guard case .admitted = admission.verdict else {
            Issue.record("expected admission, got \(admission.verdict)")
            return
        }
        #expect(batch.readings.map(\.volumeMillilitres) == [918_000_000])
        #expect(batch.formatLayouts.isEmpty, "a compact frame teaches no layout")
    }

    @Test func bookKeepsAtMostFourLayoutsPerMeterTheMostRecentlySeen() throws {
        var book = FormatLayoutBook()
        let chains = ["0C13", "0C14", "0C15", "0C16", "0C17"]
        for (index, chain) in chains.enumerated() {
            let layout = try #require(Hex.decode(chain).flatMap { MBusRecordLayout(bytes: $0) })
            book.remember(layout, meterID: 1, lastSeen: Timestamp(secondsSinceEpoch: Int64(index)))
        }
        let other = try #require(MBusRecordLayout(bytes: [0x0C, 0x13]))
        book.remember(other, meterID: 2, lastSeen: Timestamp(secondsSinceEpoch: 0))
        #expect(book.count == FormatLayoutBook.layoutsPerMeter + 1)
        #expect(book.layout(meterID: 1, signature: other.signature) == nil, "the least recently seen went")
        #expect(book.layout(meterID: 2, signature: other.signature) == other)
        // Seeing the oldest again makes it the newest: refreshing never drops the layout just seen.
        let kept = try #require(MBusRecordLayout(bytes: [0x0C, 0x14]))
        book.remember(kept, meterID: 1, lastSeen: Timestamp(secondsSinceEpoch: 10))
        let fresh = try #require(MBusRecordLayout(bytes: [0x0C, 0x18]))
        book.remember(fresh, meterID: 1, lastSeen: Timestamp(secondsSinceEpoch: 11))
        #expect(book.entry(meterID: 1, signature: kept.signature)?.lastSeen == Timestamp(secondsSinceEpoch: 10))
        #expect(book.layout(meterID: 1, signature: fresh.signature) == fresh)
        #expect(book.count == FormatLayoutBook.layoutsPerMeter + 1)
    }
}
