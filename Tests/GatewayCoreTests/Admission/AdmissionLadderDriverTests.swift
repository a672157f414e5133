import GatewayCore
import GatewayTestSupport
import Testing

/// Frames only a driver reads (wmbus-driver-vectors.json) climb the ladder: refused with a clear reason while their
/// driver is not enabled, stored like any reading once it is.
@Suite struct AdmissionLadderDriverTests {
    /// `apator08-public-0303`: wmbusmeters' apator08 test telegram, APT-004444DD-3-03, 871.571 m³.
    static let apatorFrame =
        "73441486DD4444000303A0B9E527004C4034B31CED0106FF01D093270065F022009661230054D02300EC49240018B424005F012500936D2500FFD525000E3D26001EAC26000B2027000300000000371D0B2000000000000024000000000000280000000000002C0033150C010D2F000000000000"
    /// `apator08-to-meter`: the same layout with C = 53 (to the meter), APT-00000001-3-03.
    static let toMeter = "0E531486010000000303A0B9E52700"

    static func ladder(_ drivers: MBusDriverSet) -> AdmissionLadder {
        var ladder = AdmissionLadderTests.ladder
        ladder.mbusDrivers = drivers
        return ladder
    }

    static let registry = AdmissionLadderTests.registry(
        wmbus: [(7, "APT-004444DD-3-03", nil), (8, "APT-00000001-3-03", nil)]
    )

    @Test func quarantinesWhileTheDriverIsNotEnabled() throws {
        var batch = SinkBatch()
        let admission = AdmissionLadderTests.admit(
            AdmissionLadderTests.bytes(Self.apatorFrame),
            topic: "gm/v1/up/wmbus/004444DD",
            registry: Self.registry,
            ladder: Self.ladder(.documented),
            into: &batch
        )
        #expect(admission.verdict == .quarantined(QuarantineReason(FrameDecodingError.Code.unsupportedFrame)))
        let row = try #require(batch.quarantine.first)
        #expect(row.detail.contains("driver is not enabled"))
        #expect(row.meterAddress == "APT-004444DD-3-03", "the header is kept for the quarantine row")
        #expect(batch.readings.isEmpty)
    }

    @Test func storesTheReadingOnceEnabled() throws {
        var batch = SinkBatch()
        let admission = AdmissionLadderTests.admit(
            AdmissionLadderTests.bytes(Self.apatorFrame),
            topic: "gm/v1/up/wmbus/004444DD",
            registry: Self.registry,
            ladder: Self.ladder(.all),
            into: &batch
        )
        guard case .admitted = admission.verdict else {
            Issue.record("not admitted: \(admission.verdict) \(batch.quarantine.first?.detail ?? "")")
            return
        }
        let reading = try #require(batch.readings.first)
        #expect(batch.readings.count == 1)
        #expect(reading.meterID == 7)
        #expect(reading.volumeMillilitres == 871_571_000)
        #expect(reading.source == .wmbus && reading.kind == .periodic && reading.basis == .unspecified)
        #expect(reading.statusBits == MBusFrame.clockInvalidStatusBit | MBusFrame.inferredScaleStatusBit)
        #expect(reading.protection == .plain)
    }

    @Test func refusesAFrameToTheMeter() {
        var batch = SinkBatch()
        let admission = AdmissionLadderTests.admit(
            AdmissionLadderTests.bytes(Self.toMeter),
            topic: "gm/v1/up/wmbus/00000001",
            registry: Self.registry,
            ladder: Self.ladder(.all),
            into: &batch
        )
        #expect(admission.verdict == .quarantined(.wrongDirection))
        #expect(batch.readings.isEmpty)
    }
}
