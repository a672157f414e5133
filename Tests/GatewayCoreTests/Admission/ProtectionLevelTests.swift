import GatewayCore
import Testing

/// Protection levels row by row, the per-meter minimum and the attacks on OMS mode 5 (a forged status byte, a
/// forged ciphertext, a downgrade), without a broker or a database.
@Suite struct ProtectionLevelTests {
    typealias Ladder = AdmissionLadderTests

    /// wmbus-vectors.json `oms-gas-mode5`: ELS-12345678-51-03, mode 5, 28504.27 m³, 2 encrypted blocks.
    static let mode5 =
        "2E4493157856341233037A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D6D69EBF3"
    static let mode5Key = "0102030405060708090A0B0C0D0E0F11"
    /// The index of the TPL status byte in a CI-7A frame without CRCs (L C M M A A A A A A CI ACC STS).
    static let statusIndex = 12
    /// Where mode 5's ciphertext starts (after the 5-byte short header).
    static let cipherStart = 15
    static let topic = "gm/v1/up/wmbus/12345678"

    static func registry(key: String?, minimum: ProtectionLevel? = nil) -> MeterRegistry {
        var registry = Ladder.registry(wmbus: [])
        _ = registry.replace(
            .wmbus,
            with: [.init(id: 3, address: "ELS-12345678-51-03", aesKey: key.map(Ladder.bytes), minProtection: minimum)],
            topics: Ladder.topics
        )
        return registry
    }

    /// A plain (mode 0) frame of ELS-12345678-51-03: status `status`, volume 1234.56 m³, no clock.
    static func plainFrame(status: UInt8 = 0, access: UInt8 = 0x21) -> [UInt8] {
        let body: [UInt8] =
            [0x44, 0x93, 0x15, 0x78, 0x56, 0x34, 0x12, 0x33, 0x03, 0x7A, access, status, 0x00, 0x00]
            + [0x0C, 0x14, 0x56, 0x34, 0x12, 0x00]
        return [UInt8(body.count)] + body
    }

    static func admit(_ frame: [UInt8], registry: MeterRegistry) -> (AdmissionLadder.Admission, SinkBatch) {
        Ladder.admit(frame, topic: topic, registry: registry)
    }

    // MARK: The levels

    @Test func levelsOrderFromPlainToAuthenticatedAndKeepTheirWords() {
        #expect(ProtectionLevel.plain < .encrypted && ProtectionLevel.encrypted < .authenticated)
        #expect(ProtectionLevel.allCases.map(\.code) == ["plain", "encrypted", "authenticated"])
        #expect(ProtectionLevel.allCases.allSatisfy { ProtectionLevel(code: $0.code) == $0 })
        #expect(ProtectionLevel(code: "Authenticated") == nil && ProtectionLevel(code: "") == nil)
        // What each protocol can reach, and the default minimum (encrypted with a key, never above the reachable).
        #expect(ProtectionLevel.reachable(by: .native, hasKey: true) == .authenticated)
        #expect(ProtectionLevel.reachable(by: .cjt188, hasKey: true) == .plain)
        #expect(ProtectionLevel.reachable(by: .wmbus, hasKey: true) == .authenticated)
        #expect(ProtectionLevel.reachable(by: .mbus, hasKey: true) == .encrypted)
        #expect(ProtectionLevel.reachable(by: .wmbus, hasKey: false) == .plain)
        #expect(ProtectionLevel.defaultMinimum(for: .wmbus, hasKey: true) == .encrypted)
        #expect(ProtectionLevel.defaultMinimum(for: .wmbus, hasKey: false) == .plain)
        #expect(ProtectionLevel.defaultMinimum(for: .cjt188, hasKey: true) == .plain)
        #expect(ProtectionLevel.defaultMinimum(for: .native, hasKey: true) == .encrypted)
    }

    // MARK: Rows by protocol

    @Test func nativeRowsAreAuthenticatedAndCJT188RowsArePlain() {
        let (native, nativeBatch) = Ladder.admit(Ladder.nativeFrame(), topic: "gm/v1/up/native/1000001")
        #expect(native.gateIndex != nil && !nativeBatch.readings.isEmpty)
        #expect(nativeBatch.readings.allSatisfy { $0.protection == .authenticated })
        let (cjt, cjtBatch) = Ladder.admit(Ladder.bytes(Ladder.cjtReading), topic: "gm/v1/up/cjt188/78330011223344")
        #expect(cjt.gateIndex != nil && !cjtBatch.readings.isEmpty && !cjtBatch.alarms.isEmpty)
        #expect(cjtBatch.readings.allSatisfy { $0.protection == .plain })
        #expect(cjtBatch.alarms.allSatisfy { $0.protection == .plain })
    }

    @Test func mode7RowsAreAuthenticatedAndItsStatusByteIsUnderTheMAC() {
        let registry = Self.registry(key: Ladder.omsKey, minimum: .authenticated)
        let frame = Ladder.bytes(Ladder.omsMode7)
        let (admission, batch) = Self.admit(frame, registry: registry)
        #expect(admission.gateIndex != nil)
        #expect(batch.readings.map(\.protection) == [.authenticated])
        // The mode-7 MAC covers the TPL header: a changed status byte (after the AFL, at CI + 2) fails the MAC.
        var forged = frame
        let ci = forged.firstIndex(of: 0x7A) ?? 0
        forged[ci + 2] ^= 0x1C
        #expect(Self.admit(forged, registry: registry).0.verdict == .quarantined(QuarantineReason(.badMAC)))
    }

    @Test func mode5ReadingsAreEncryptedOnly() {
        let (admission, batch) = Self.admit(Ladder.bytes(Self.mode5), registry: Self.registry(key: Self.mode5Key))
        #expect(admission.gateIndex != nil)
        #expect(batch.readings.map(\.volumeMillilitres) == [28_504_270_000])
        #expect(batch.readings.map(\.protection) == [.encrypted])
        #expect(batch.alarms.isEmpty)
    }

    @Test func recordsAfterTheEncryptedBlocksArePlain() throws {
        // wmbus-vectors.json `mode5-partial-encryption`: a second volume and the FD 17 flags follow the two
        // encrypted blocks.
        let bytes = Ladder.bytes(
            "294493157856341233037A4300100559FDAE1CC3B3079682E38A66F30FB8BE02FD1700000C1400000001"
        )
        let key = try #require(AES128Key(bytes: Ladder.bytes(Ladder.omsKey)))
        let frame = try bytes.withUnsafeBytes {
            try MBusDecoder.decodeWireless($0, key: { _ in key }, allowAlreadyDecrypted: false)
        }
        let levels = (0..<frame.recordCount).map { frame.protection(of: frame.records[$0]) }
        #expect(levels.first == .encrypted && levels.last == .plain && levels.contains(.plain))
        #expect(frame.security.contentProtection == .encrypted && frame.security.headerProtection == .plain)
        let keyed = Self.admit(bytes, registry: Self.registry(key: Ladder.omsKey)).1
        #expect(keyed.readings.map(\.protection) == [.encrypted] && keyed.alarms.isEmpty)
    }

    // MARK: Attacks on mode 5

    @Test func aForgedMode5StatusByteGivesPlainAlarmsThatAreStillRaised() {
        var frame = Ladder.bytes(Self.mode5)
        frame[Self.statusIndex] = 0x1C  // power low, permanent error, temporary error
        let (admission, batch) = Self.admit(frame, registry: Self.registry(key: Self.mode5Key))
        // The status byte lies outside the encryption: the frame still decrypts and its volume is encrypted, the
        // alarms the byte made are plain, and none is suppressed.
        #expect(admission.gateIndex != nil)
        #expect(batch.readings.map(\.protection) == [.encrypted])
        #expect(
            batch.alarms.map(\.rawCode) == [
                MBusFrame.AlarmCode.powerLow, MBusFrame.AlarmCode.permanentError, MBusFrame.AlarmCode.temporaryError,
            ]
        )
        #expect(batch.alarms.allSatisfy { $0.protection == .plain })
        #expect(batch.alarms.contains { TicketPolicy.serviceCommitments.opensTicket($0.condition, isCleared: false) })
        // A meter that requires authentication stores none of it.
        let strict = Self.admit(frame, registry: Self.registry(key: Self.mode5Key, minimum: .authenticated))
        #expect(strict.0.verdict == .quarantined(.insufficientSecurity) && strict.1.alarms.isEmpty)
    }

    @Test func aForgedMode5CiphertextIsQuarantinedOrStoredOnlyAsEncrypted() {
        let original = Ladder.bytes(Self.mode5)
        let registry = Self.registry(key: Self.mode5Key)
        var random = SplitMix64(seed: 11)
        var quarantined = 0
        var admitted = 0
        for trial in 0..<2_000 {
            var frame = original
            // Change one ciphertext byte (the wireless frame has no CRC to fix up here; a format-A frame's block
            // CRC is recomputed by anyone, so it protects nothing either).
            let position = Self.cipherStart + trial % 32
            frame[position] ^= UInt8.random(in: 1...255, using: &random)
            let (admission, batch) = Self.admit(frame, registry: registry)
            switch admission.verdict {
            case .quarantined(let reason):
                quarantined += 1
                #expect(batch.readings.isEmpty && batch.alarms.isEmpty, "\(reason)")
            case .admitted:
                admitted += 1
                #expect(batch.readings.allSatisfy { $0.protection == .encrypted })
                #expect(batch.alarms.allSatisfy { $0.protection <= .encrypted })
            }
        }
        #expect(quarantined + admitted == 2_000)
        // Most forgeries fail 2F 2F or the record checks; what passes is never more than encrypted.
        #expect(quarantined > 1_800)
        // And a meter that requires authentication never stores one.
        var frame = original
        frame[Self.cipherStart + 20] ^= 0x01
        let strict = Self.admit(frame, registry: Self.registry(key: Self.mode5Key, minimum: .authenticated))
        if case .quarantined = strict.0.verdict {} else { Issue.record("a forged frame was admitted") }
        #expect(strict.1.readings.isEmpty)
    }

    @Test func aDowngradeIsNeverStored() throws {
        let key = try #require(AES128Key(bytes: Ladder.bytes(Self.mode5Key)))
        let mode5 = try #require(MBusEncoder.encryptMode5(Self.plainFrame(), key: key))
        let plain = Self.plainFrame()
        let strict = Self.registry(key: Self.mode5Key, minimum: .authenticated)
        // A meter that sends mode 7 (minimum authenticated) gets a mode-5 and a mode-0 frame: both refused.
        #expect(Self.admit(mode5, registry: strict).0.verdict == .quarantined(.insufficientSecurity))
        #expect(Self.admit(plain, registry: strict).0.verdict == .quarantined(.insufficientSecurity))
        // The default minimum with a key (encrypted) takes the mode-5 frame and keeps the old reason for mode 0.
        let keyed = Self.registry(key: Self.mode5Key)
        let (admitted, batch) = Self.admit(mode5, registry: keyed)
        #expect(admitted.gateIndex != nil && batch.readings.map(\.volumeMillilitres) == [1_234_560_000])
        #expect(Self.admit(plain, registry: keyed).0.verdict == .quarantined(.unencryptedFrame))
        // Without a key nothing better than plain is possible, and plain is what the rows say.
        let (open, openBatch) = Self.admit(plain, registry: Self.registry(key: nil))
        #expect(open.gateIndex != nil && openBatch.readings.map(\.protection) == [.plain])
    }

    @Test func aCJT188MeterGivenAMinimumAbovePlainStoresNothing() {
        var registry = Ladder.registry()
        _ = registry.replace(
            .cjt188,
            with: [.init(id: 2, address: "78330011223344", aesKey: nil, minProtection: .encrypted)],
            topics: Ladder.topics
        )
        let (admission, batch) = Ladder.admit(
            Ladder.bytes(Ladder.cjtReading),
            topic: "gm/v1/up/cjt188/78330011223344",
            registry: registry
        )
        #expect(admission.verdict == .quarantined(.insufficientSecurity) && batch.readings.isEmpty)
    }
}
