import GatewayCore
import Testing

/// Whose key an ELL (CI `8D`/`8F`, AES-CTR) was opened with, against the meter the frame is filed under (the TPL
/// long header's address when present). The ELL key is looked up by the DLL address (`8D`) or the ELL address
/// (`8F`); a radio adapter may legitimately have another address than the meter behind it (EN 13757-4, OMS), but
/// then its ELL is the adapter's protection, not the meter's. Without a broker or a database.
@Suite struct ExtendedLinkKeyTests {
    typealias Ladder = AdmissionLadderTests

    /// Meter A: ELS-11111111-51-03 as on the wire (M, ID, version, type), with its own key.
    static let meterA: [UInt8] = [0x93, 0x15, 0x11, 0x11, 0x11, 0x11, 0x33, 0x03]
    static let addressA = "ELS-11111111-51-03"
    static let keyA = "A0A1A2A3A4A5A6A7A8A9AAABACADAEAF"
    /// Meter B: ELS-22222222-51-03, with another key.
    static let meterB: [UInt8] = [0x93, 0x15, 0x22, 0x22, 0x22, 0x22, 0x33, 0x03]
    static let addressB = "ELS-22222222-51-03"
    static let keyB = "B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF"
    static let topicA = "gm/v1/up/wmbus/11111111"
    static let topicB = "gm/v1/up/wmbus/22222222"
    /// A retrofit radio adapter (DME, device type 37 "radio converter") with a key of its own.
    static let adapter: [UInt8] = [0xA5, 0x11, 0x33, 0x33, 0x33, 0x33, 0x01, 0x37]
    static let adapterAddress = "DME-33333333-1-37"
    static let adapterKey = "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF"
    /// Volume 1234.56 m³ (`0C 14`, 8 BCD digits of 0.01 m³).
    static let volumeRecord: [UInt8] = [0x0C, 0x14, 0x56, 0x34, 0x12, 0x00]

    static func key(_ hex: String) -> AES128Key {
        AES128Key(hex: hex) ?? AES128Key(AES128.Block.zero)
    }

    /// A TPL long header (CI `72`) naming `meter` (M, ID, version, type as on the wire), mode 0.
    static func longHeader(_ meter: [UInt8], status: UInt8 = 0, configuration: [UInt8] = [0x00, 0x00]) -> [UInt8] {
        [0x72] + meter[2..<6] + meter[0..<2] + meter[6..<8] + [0x21, status] + configuration
    }

    /// A TPL long header naming `meter` with mode 5 (AES-CBC under the meter's key, IV = M A ACC×8), then `records`.
    static func mode5(_ meter: [UInt8], status: UInt8 = 0, records: [UInt8], key: AES128Key) -> [UInt8] {
        var content: [UInt8] = [0x2F, 0x2F] + records
        while content.count % AES128.blockSize != 0 { content.append(0x2F) }
        let blocks = content.count / AES128.blockSize
        var iv = AES128.Block.zero
        for index in 0..<8 { iv[byte: index] = meter[index] }
        for index in 8..<16 { iv[byte: index] = 0x21 }
        content.withUnsafeMutableBytes { _ = AES128.encryptCBC($0, iv: iv, with: key) }
        return longHeader(meter, status: status, configuration: [UInt8(blocks << 4), 0x05]) + content
    }

    /// A wireless frame without CRCs: `L 44 <dll> <ELL> PayloadCRC <transport>`, everything from the PayloadCRC on
    /// encrypted with AES-128-CTR under `key` (ENC = 1). The ELL is `8D` (its key and IV are the DLL address's) or,
    /// with `ellAddress`, `8F` (the ELL address's).
    static func ellFrame(dll: [UInt8], ellAddress: [UInt8]? = nil, transport: [UInt8], key: AES128Key) -> [UInt8] {
        let communicationControl: UInt8 = 0x20
        let session: [UInt8] = [0x10, 0x00, 0x00, 0x20]  // ENC (bits 31–29) = 1
        let header: [UInt8] =
            if let ellAddress {
                [0x8F, communicationControl, 0x21] + ellAddress + session
            } else {
                [0x8D, communicationControl, 0x21] + session
            }
        let crc = transport.withUnsafeBytes { CRC16.en13757.checksum($0) }
        var payload = [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8)] + transport
        let identity = ellAddress ?? dll
        // Counter block: M(2) A(6) (CC AND EF) SN(4) FN(2) = 0 BC = 0.
        let counterBytes = identity + [communicationControl & 0xEF] + session + [0x00, 0x00, 0x00]
        var counter = AES128.Block(bytes: counterBytes) ?? .zero
        payload.withUnsafeMutableBytes { AES128.applyCTR($0, counter: &counter, with: key) }
        let body = [0x44] + dll + header + payload
        return [UInt8(body.count)] + body
    }

    /// The forged frame of the finding: an ELL opened with A's key around a long header naming B (mode 0).
    static func forged(ellAddress: Bool, status: UInt8 = 0) -> [UInt8] {
        ellFrame(
            dll: meterA,
            ellAddress: ellAddress ? meterA : nil,
            transport: longHeader(meterB, status: status) + volumeRecord,
            key: key(keyA)
        )
    }

    static func registry(
        keyB: String? = ExtendedLinkKeyTests.keyB,
        minimumB: ProtectionLevel? = nil,
        withAdapter: Bool = false
    ) -> MeterRegistry {
        var registry = Ladder.registry(wmbus: [])
        var meters: [MeterRegistry.Meter] = [
            .init(id: 11, address: addressA, aesKey: Ladder.bytes(keyA)),
            .init(id: 12, address: addressB, aesKey: keyB.map(Ladder.bytes), minProtection: minimumB),
        ]
        if withAdapter { meters.append(.init(id: 13, address: adapterAddress, aesKey: Ladder.bytes(adapterKey))) }
        _ = registry.replace(.wmbus, with: meters, topics: Ladder.topics)
        return registry
    }

    /// Decodes with the registered keys: A's, B's and the adapter's, by identity.
    static func decode(_ frame: [UInt8]) throws -> MBusFrame {
        let keys: [MBusAddress: AES128Key] = [
            MBusAddress(registryAddress: addressA)!: key(keyA),
            MBusAddress(registryAddress: addressB)!: key(keyB),
            MBusAddress(registryAddress: adapterAddress)!: key(adapterKey),
        ]
        return try frame.withUnsafeBytes {
            try MBusDecoder.decodeWireless($0, key: { keys[$0] }, allowAlreadyDecrypted: false)
        }
    }

    // MARK: Another meter's ELL key

    @Test(arguments: [false, true])
    func anELLOpenedWithAnotherMetersKeyIsNotCreditedToTheMeterItNames(ellAddress: Bool) throws {
        let frame = try Self.decode(Self.forged(ellAddress: ellAddress))
        #expect(frame.meter.registryAddress == Self.addressB)
        #expect(frame.security.ell == .decrypted && frame.security.isELLKeyForeign)
        #expect(frame.security.contentProtection == .plain && frame.security.headerProtection == .plain)
        #expect(frame.security.keySource == nil)
        #expect(frame.recordArray.allSatisfy { !$0.isProtected && frame.protection(of: $0) == .plain })
    }

    @Test(arguments: [false, true])
    func aForgedLongHeaderInsideAnotherMetersELLIsQuarantined(ellAddress: Bool) {
        let forged = Self.forged(ellAddress: ellAddress, status: 0x04)
        // B has a key, so its default minimum is `encrypted`: B's key protected nothing of this frame.
        let (admission, batch) = Ladder.admit(forged, topic: Self.topicB, registry: Self.registry())
        #expect(admission.verdict == .quarantined(.unencryptedFrame))
        #expect(batch.readings.isEmpty && batch.alarms.isEmpty && batch.gates.isEmpty)
        #expect(batch.quarantine.first?.meterAddress == Self.addressB)
        #expect(batch.quarantine.first?.detail.contains(Self.addressA) == true)
        // A meter that requires authentication refuses it as before.
        let strict = Ladder.admit(forged, topic: Self.topicB, registry: Self.registry(minimumB: .authenticated))
        #expect(strict.0.verdict == .quarantined(.insufficientSecurity) && strict.1.readings.isEmpty)
    }

    @Test func aMeterWithoutAKeyGetsTheFrameOnlyAsPlain() {
        // B has no key (minimum `plain`): a mode-0 frame naming it is accepted anyway, so the wrapped one is too,
        // but as what it is: plain, with no key source.
        let (admission, batch) = Ladder.admit(
            Self.forged(ellAddress: false),
            topic: Self.topicB,
            registry: Self.registry(keyB: nil)
        )
        #expect(admission.gateIndex != nil)
        #expect(batch.readings.map(\.volumeMillilitres) == [1_234_560_000])
        #expect(batch.readings.map(\.protection) == [.plain])
        #expect(batch.readings.allSatisfy { $0.keySource == nil })
    }

    // MARK: The meter's own ELL key

    static let ownELLFrames: [(name: String, frame: [UInt8])] = [
        (
            "8D, short header",
            ellFrame(dll: meterA, transport: [0x7A, 0x21, 0x00, 0x00, 0x00] + volumeRecord, key: key(keyA))
        ),
        (
            "8D, long header naming the DLL address",
            ellFrame(dll: meterA, transport: longHeader(meterA) + volumeRecord, key: key(keyA))
        ),
        (
            "8F, ELL and long header naming the same meter",
            ellFrame(dll: meterB, ellAddress: meterA, transport: longHeader(meterA) + volumeRecord, key: key(keyA))
        ),
    ]

    @Test(arguments: ownELLFrames.indices)
    func anELLOpenedWithTheMetersOwnKeyIsEncryptedAsBefore(_ index: Int) throws {
        let frame = Self.ownELLFrames[index].frame
        let decoded = try Self.decode(frame)
        #expect(decoded.meter.registryAddress == Self.addressA)
        #expect(!decoded.security.isELLKeyForeign)
        #expect(decoded.security.contentProtection == .encrypted && decoded.security.keySource == .meter)
        let (admission, batch) = Ladder.admit(frame, topic: Self.topicA, registry: Self.registry())
        #expect(admission.gateIndex != nil, "\(Self.ownELLFrames[index].name)")
        #expect(batch.readings.map(\.volumeMillilitres) == [1_234_560_000])
        #expect(batch.readings.map(\.protection) == [.encrypted])
        #expect(batch.readings.allSatisfy { $0.keySource == .meter })
    }

    // MARK: A radio adapter

    @Test func anAdaptersELLAroundTheMetersOwnMode5CountsOnlyTheMode5() throws {
        // The adapter (DLL address) encrypts the ELL with its key; the meter behind it (long header) encrypts its
        // records with mode 5 under its own key. The records are the meter's `encrypted`; the status byte, which
        // only the adapter's ELL covered, is `plain` (its alarm is still stored and raised).
        let frame = Self.ellFrame(
            dll: Self.adapter,
            transport: Self.mode5(Self.meterB, status: 0x04, records: Self.volumeRecord, key: Self.key(Self.keyB)),
            key: Self.key(Self.adapterKey)
        )
        let decoded = try Self.decode(frame)
        #expect(decoded.meter.registryAddress == Self.addressB)
        #expect(decoded.security.isELLKeyForeign && decoded.security.tpl == .decrypted)
        #expect(decoded.security.contentProtection == .encrypted && decoded.security.headerProtection == .plain)
        let (admission, batch) = Ladder.admit(frame, topic: Self.topicB, registry: Self.registry(withAdapter: true))
        #expect(admission.gateIndex != nil)
        #expect(batch.readings.map(\.volumeMillilitres) == [1_234_560_000])
        #expect(batch.readings.map(\.protection) == [.encrypted])
        #expect(batch.readings.allSatisfy { $0.keySource == .meter })
        #expect(batch.alarms.map(\.rawCode) == [MBusFrame.AlarmCode.powerLow])
        #expect(batch.alarms.allSatisfy { $0.protection == .plain && $0.keySource == nil })
    }
}
