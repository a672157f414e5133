import GatewayCore
import Testing

/// Manufacturer default keys (`[meters.default_keys]`): which key the ladder gives the decoder, and what a frame
/// opened with a default key is stored as. Frames: wmbus-vectors.json `default_key_vectors`, Apator gas meter
/// APA-00012345-5-03 encrypted with the all-zero key.
@Suite struct DefaultKeyTests {
    typealias Ladder = AdmissionLadderTests

    static let address = "APA-00012345-5-03"
    static let topic = "gm/v1/up/wmbus/00012345"
    static let zeroKey = "00000000000000000000000000000000"
    static let wrongKey = "FFEEDDCCBBAA99887766554433221100"
    /// `default-key-mode5`: mode 5, 28504.27 m³.
    static let mode5 =
        "2E4401064523010005037A3100200586448EA7445C600D6ACADE84B6C2EBADC45E4E44BB6DBC560A976064ED63937C"
    /// `default-key-mode7`: ELL 8C + AFL MAC + TPL mode 7 (KDF), MCR 4711.
    static let mode7 =
        "434401064523010005038C2032900F002C2567120000406BF50C8ED5BE097A320020071060A8E3B6DA9FF4BD32FD250F70B321957D0F"
        + "B9F35BE46768335A5DAAAAF89506"
    /// `default-key-ell`: ELL AES-CTR.
    static let ell = "244401064523010005038D203330120020244EA2776788951B031AF5DF35B41FD460378E45"

    static func key(_ hex: String) -> AES128Key {
        AES128Key(hex: hex) ?? AES128Key(AES128.Block.zero)
    }

    static func defaults(_ keys: [String], manufacturer: String = "APA") -> MBusDefaultKeys {
        var set = MBusDefaultKeys()
        let accepted = set.set(keys.map(key), forManufacturer: manufacturer)
        #expect(accepted)
        return set
    }

    static func ladder(_ defaults: MBusDefaultKeys) -> AdmissionLadder {
        var ladder = Ladder.ladder
        ladder.defaultKeys = defaults
        return ladder
    }

    /// A registry with the Apator meter (id 7), with or without a key of its own, or without it at all.
    static func registry(ownKey: String?, registered: Bool = true, minimum: ProtectionLevel? = nil) -> MeterRegistry {
        var registry = Ladder.registry(wmbus: [])
        let meters: [MeterRegistry.Meter] =
            registered
            ? [.init(id: 7, address: address, aesKey: ownKey.map(Ladder.bytes), minProtection: minimum)] : []
        _ = registry.replace(.wmbus, with: meters, topics: Ladder.topics)
        return registry
    }

    static func admit(
        _ hex: String,
        defaults: MBusDefaultKeys,
        registry: MeterRegistry
    ) -> (AdmissionLadder.Admission, SinkBatch) {
        var batch = SinkBatch()
        let admission = Ladder.admit(
            Ladder.bytes(hex),
            topic: topic,
            registry: registry,
            ladder: ladder(defaults),
            into: &batch
        )
        return (admission, batch)
    }

    // MARK: The key choice

    @Test func ownKeyWinsDefaultsOnlyWithoutOneAndNeverForAnUnregisteredMeter() throws {
        let defaults = Self.defaults([Self.wrongKey, Self.zeroKey])
        let apator = try #require(MBusAddress(registryAddress: Self.address))
        let own = Self.registry(ownKey: Self.wrongKey).mbusTable(.wmbus)
        #expect(defaults.keyring(for: apator, in: own).source == .meter)
        #expect(defaults.keyring(for: apator, in: own).count == 1)
        let keyless = Self.registry(ownKey: nil).mbusTable(.wmbus)
        #expect(defaults.keyring(for: apator, in: keyless).source == .manufacturerDefault)
        #expect(defaults.keyring(for: apator, in: keyless).count == 2)
        let none = Self.registry(ownKey: nil, registered: false).mbusTable(.wmbus)
        #expect(defaults.keyring(for: apator, in: none).isEmpty)
        // Another manufacturer's keyless meter gets nothing from APA's defaults.
        var other = Self.registry(ownKey: nil)
        _ = other.replace(.wmbus, with: [.init(id: 8, address: "ELS-12345678-51-03", aesKey: nil)], topics: Ladder.topics)
        let elster = try #require(MBusAddress(registryAddress: "ELS-12345678-51-03"))
        #expect(defaults.keyring(for: elster, in: other.mbusTable(.wmbus)).isEmpty)
        #expect(MBusDefaultKeys().keyring(for: apator, in: keyless).isEmpty)
    }

    @Test func defaultKeyListsAreBounded() {
        var set = MBusDefaultKeys()
        #expect(set.isEmpty)
        let zero = Self.key(Self.zeroKey)
        let refused = [
            set.set([], forManufacturer: "APA"),
            set.set(Array(repeating: zero, count: MBusKeyring.capacity + 1), forManufacturer: "APA"),
            set.set([zero], forManufacturer: "apa"),
            set.set([zero], forManufacturer: "APAT"),
        ]
        #expect(refused == [false, false, false, false])
        #expect(set.isEmpty)
        let accepted = set.set(Array(repeating: zero, count: MBusKeyring.capacity), forManufacturer: "APA")
        #expect(accepted)
        #expect(set.manufacturerCodes == [MBusAddress(registryAddress: Self.address)?.manufacturerCode ?? 0])
    }

    // MARK: Through the ladder

    @Test(arguments: [mode5, mode7, ell])
    func keylessMeterIsReadWithTheSecondDefaultKeyAndStoredPlain(_ frame: String) throws {
        let (admission, batch) = Self.admit(
            frame,
            defaults: Self.defaults([Self.wrongKey, Self.zeroKey]),
            registry: Self.registry(ownKey: nil)
        )
        #expect(admission.gateIndex != nil, "\(admission.verdict)")
        let reading = try #require(batch.readings.first)
        #expect(reading.meterID == 7 && reading.volumeMillilitres == 28_504_270_000)
        #expect(batch.readings.allSatisfy { $0.protection == .plain && $0.keySource == .manufacturerDefault })
        // A MAC made with a published key authenticates nothing: no counter for the replay rule either.
        #expect(batch.gates.allSatisfy { $0.counter == nil })
    }

    @Test(arguments: [(mode5, "unknown_meter"), (mode7, "unknown_meter"), (ell, "unknown_meter")])
    func withoutDefaultKeysTheKeylessMeterIsQuarantinedAsBefore(_ frame: String, _ reason: String) {
        let (admission, batch) = Self.admit(frame, defaults: MBusDefaultKeys(), registry: Self.registry(ownKey: nil))
        #expect(admission.verdict == .quarantined(QuarantineReason(rawValue: reason)))
        #expect(batch.readings.isEmpty)
    }

    @Test(arguments: [mode5, mode7, ell])
    func unregisteredMeterStaysUnknownWhateverTheDefaults(_ frame: String) {
        let (admission, _) = Self.admit(
            frame,
            defaults: Self.defaults([Self.zeroKey]),
            registry: Self.registry(ownKey: nil, registered: false)
        )
        #expect(admission.verdict == .quarantined(.unknownMeter))
    }

    @Test(arguments: [(mode5, "wrong_key"), (mode7, "bad_mac"), (ell, "wrong_key")])
    func aWrongOwnKeyNeverFallsBackToADefault(_ frame: String, _ reason: String) {
        let (admission, batch) = Self.admit(
            frame,
            defaults: Self.defaults([Self.zeroKey]),
            registry: Self.registry(ownKey: Self.wrongKey)
        )
        #expect(admission.verdict == .quarantined(QuarantineReason(rawValue: reason)))
        #expect(batch.readings.isEmpty)
    }

    @Test(arguments: [(mode5, "wrong_key"), (mode7, "bad_mac"), (ell, "wrong_key")])
    func noListedDefaultOpensTheFrame(_ frame: String, _ reason: String) {
        let (admission, _) = Self.admit(
            frame,
            defaults: Self.defaults([Self.wrongKey, "0102030405060708090A0B0C0D0E0F11"]),
            registry: Self.registry(ownKey: nil)
        )
        #expect(admission.verdict == .quarantined(QuarantineReason(rawValue: reason)))
    }

    @Test func theMetersOwnKeyEqualToThePublishedOneIsTheOperatorsChoiceAndCountsAsEncrypted() throws {
        // Registering the published key as the meter's own key is the explicit way to accept it as `encrypted`.
        let (admission, batch) = Self.admit(
            Self.mode5,
            defaults: MBusDefaultKeys(),
            registry: Self.registry(ownKey: Self.zeroKey)
        )
        #expect(admission.gateIndex != nil)
        #expect(batch.readings.map(\.protection) == [.encrypted])
        #expect(batch.readings.map(\.keySource) == [.meter])
    }

    @Test(arguments: [mode5, mode7])
    func aMinimumAbovePlainIsNotMetByADefaultKey(_ frame: String) {
        let (admission, batch) = Self.admit(
            frame,
            defaults: Self.defaults([Self.zeroKey]),
            registry: Self.registry(ownKey: nil, minimum: .encrypted)
        )
        #expect(admission.verdict == .quarantined(.unencryptedFrame))
        #expect(batch.readings.isEmpty)
    }

    // MARK: Rows

    @Test func aLevelAbovePlainAlwaysRecordsTheMetersOwnKey() {
        let reading = ReadingRecord(
            meterID: 1, readAt: Timestamp(secondsSinceEpoch: 0), receivedAt: Timestamp(secondsSinceEpoch: 0), kind: .periodic,
            volumeMillilitres: 1, registerModulusMillilitres: 0, flowMillilitresPerHour: nil, valve: .unknown,
            batteryMillivolts: nil, temperatureCentiCelsius: nil, signalDBm: nil, statusBits: 0, frameCounter: nil,
            source: .wmbus, protection: .encrypted, keySource: .manufacturerDefault
        )
        #expect(reading.keySource == .meter)
        let plain = IntervalRecord(
            meterID: 1, intervalStart: Timestamp(secondsSinceEpoch: 0), intervalMinutes: 60, volumeMillilitres: 1,
            endIndexMillilitres: 1, receivedAt: Timestamp(secondsSinceEpoch: 0)
        )
        #expect(plain.keySource == nil)
        #expect(KeySource.allCases.map(\.code) == ["meter", "default"])
        #expect(KeySource.allCases.allSatisfy { KeySource(code: $0.code) == $0 } && KeySource(code: "own") == nil)
    }
}
