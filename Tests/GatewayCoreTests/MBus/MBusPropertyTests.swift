import GatewayCore
import Testing

/// Malformed-input properties over every valid vector: truncation and corruption give a clean error or a different
/// valid decode, never a crash; a CRC- or checksum-protected frame rejects every single-bit change.
@Suite struct MBusPropertyTests {
    static let knownCodes = Set(FrameDecodingError.Code.allCodes.map(\.description))

    /// A decoded frame as the tests compare it: its JSON document covers every decoded field; the plaintext also
    /// covers records beyond the 32 kept.
    struct Decoded: Equatable {
        var document: MBusFrameDocument
        var plaintext: [UInt8]
    }

    /// Decodes and, on success, returns what was decoded.
    private func outcome(_ bytes: [UInt8], _ vector: MBusValidVector) -> (code: String?, decoded: Decoded?) {
        do {
            let frame = try decodeMBus(
                bytes,
                wired: vector.isWired,
                keyHex: vector.key,
                allowAlreadyDecrypted: vector.allowAlreadyDecrypted,
                format: mbusFormat(vector.decodeFormat),
                layouts: vector.layouts
            )
            return (nil, Decoded(document: MBusFrameDocument(frame), plaintext: frame.bytes(in: 0..<frame.byteCount)))
        } catch {
            return (error.code.description, nil)
        }
    }

    @Test(arguments: MBusVectorFile.validVectors)
    func everyTruncationIsACleanErrorOrADifferentDecode(_ vector: MBusValidVector) throws {
        let frame = vector.bytes
        let original = try #require(outcome(frame, vector).decoded)
        for length in 0..<frame.count {
            let prefix = Array(frame.prefix(length))
            let result = outcome(prefix, vector)
            if let code = result.code {
                #expect(Self.knownCodes.contains(code))
                // Without DLL CRCs or with an explicit format, every cut is caught by the length fields.
                if vector.frameFormat != "format_a" {
                    #expect(code == "truncated", "length \(length): \(code)")
                }
            } else {
                #expect(result.decoded != original, "length \(length) decoded to the same content")
            }
        }
    }

    @Test(arguments: MBusVectorFile.validVectors)
    func everySingleByteCorruptionIsACleanErrorOrADifferentDecode(_ vector: MBusValidVector) throws {
        let frame = vector.bytes
        let original = try #require(outcome(frame, vector).decoded)
        var accepted = 0
        for index in frame.indices {
            var values: [UInt8] = (0..<8).map { frame[index] ^ UInt8(1 << $0) }
            values += [0x00, 0x2F, 0x7A, 0x72, 0x8C, 0x90, 0xFF, frame[index] &+ 1]
            for value in values where value != frame[index] {
                var corrupted = frame
                corrupted[index] = value
                let result = outcome(corrupted, vector)
                if let code = result.code {
                    #expect(Self.knownCodes.contains(code))
                } else {
                    accepted += 1
                    #expect(result.decoded != original, "byte \(index) = \(value) decoded to the same content")
                }
                // Integrity-protected framings reject every single-bit change outside L.
                let isBitFlip = (value ^ frame[index]).nonzeroBitCount == 1
                if isBitFlip && index > 0 && (vector.frameFormat == "format_a" || vector.isWired) {
                    #expect(result.code != nil, "bit flip at \(index) accepted")
                }
            }
        }
        _ = accepted
    }

    @Test(arguments: MBusVectorFile.validVectors)
    func resealedCorruptionNeverCrashes(_ vector: MBusValidVector) throws {
        // With CRCs / checksum recomputed, edits reach the CI, header, security and record checks.
        guard vector.frameFormat == "format_a" || vector.isWired else { return }
        let frame = vector.bytes
        let original = try #require(outcome(frame, vector).decoded)
        for index in frame.indices {
            for value: UInt8 in [0x00, 0x0F, 0x2F, 0x7F, 0x80, 0xFF, frame[index] ^ 0x01, frame[index] ^ 0x80] {
                var edited = frame
                edited[index] = value
                resealMBus(&edited, wired: vector.isWired)
                guard edited != frame else { continue }
                let result = outcome(edited, vector)
                if let code = result.code {
                    #expect(Self.knownCodes.contains(code))
                } else {
                    #expect(result.decoded != original, "resealed edit at \(index) decoded to the same content")
                }
            }
        }
    }

    @Test(arguments: MBusVectorFile.validVectors)
    func trailingBytesAreRejected(_ vector: MBusValidVector) {
        guard vector.frameFormat != "no_crc" else { return }
        // A no-CRC frame plus bytes is read as format A; the others must give bad_length.
        for extra in 1...3 {
            let longer = vector.bytes + [UInt8](repeating: 0x2F, count: extra)
            #expect(
                mbusErrorCode(
                    longer,
                    wired: vector.isWired,
                    keyHex: vector.key,
                    allowAlreadyDecrypted: vector.allowAlreadyDecrypted,
                    format: mbusFormat(vector.decodeFormat)
                ) == "bad_length"
            )
        }
    }

    @Test(arguments: MBusVectorFile.validVectors)
    func keyIsLookedUpOnlyWhenNeededAndByTheMeterIdentity(_ vector: MBusValidVector) throws {
        guard let keyHex = vector.key, let key = AES128Key(hex: keyHex) else { return }
        var asked: [MBusAddress] = []
        let known = mbusLayoutLookup(vector.layouts)
        let frame = try vector.bytes.withUnsafeBytes { raw in
            try Result { () throws(FrameDecodingError) -> MBusFrame in
                if vector.isWired {
                    return try MBusDecoder.decodeWired(
                        raw,
                        key: {
                            asked.append($0)
                            return key
                        },
                        allowAlreadyDecrypted: false,
                        layout: { meter, signature in known[meter.registryKey]?.first { $0.signature == signature } }
                    )
                }
                return try MBusDecoder.decodeWireless(
                    raw,
                    key: {
                        asked.append($0)
                        return key
                    },
                    allowAlreadyDecrypted: false,
                    frameFormat: mbusFormat(vector.decodeFormat),
                    layout: { meter, signature in known[meter.registryKey]?.first { $0.signature == signature } }
                )
            }.get()
        }
        #expect(asked.count == Set(asked).count, "each identity is asked once")
        if frame.security.tpl == .decrypted {
            #expect(asked.contains(frame.meter), "TPL decryption uses the meter identity (TPL long header or DLL)")
        }
        if frame.security.ell == .decrypted, let ell = frame.extendedLink {
            #expect(asked.first == (ell.address ?? frame.link.address))
        }
        if frame.security.tpl == .none && frame.security.ell == .none {
            #expect(asked.isEmpty)
        }
    }

    @Test func unencryptedFramesDecodeTheSameWithAndWithoutAKey() throws {
        for vector in MBusVectorFile.validVectors where vector.key == nil && !vector.allowAlreadyDecrypted {
            let plain = try decodeMBus(
                vector.bytes,
                wired: vector.isWired,
                keyHex: nil,
                allowAlreadyDecrypted: false,
                format: mbusFormat(vector.decodeFormat),
                layouts: vector.layouts
            )
            let keyed = try decodeMBus(
                vector.bytes,
                wired: vector.isWired,
                keyHex: "000102030405060708090A0B0C0D0E0F",
                allowAlreadyDecrypted: false,
                format: mbusFormat(vector.decodeFormat),
                layouts: vector.layouts
            )
            #expect(MBusFrameDocument(plain) == MBusFrameDocument(keyed), "\(vector.name)")
        }
    }

    @Test func formatBIsNotGuessed() throws {
        // A format-B frame has length L + 1, so automatic detection reads it as a frame without CRCs; its CRC bytes
        // then become content and the decode fails or differs. Format B must be declared.
        for vector in MBusVectorFile.validVectors where vector.frameFormat == "format_b" {
            let declared = MBusFrameDocument(try vector.decode())
            let automatic = try? decodeMBus(
                vector.bytes,
                wired: false,
                keyHex: vector.key,
                allowAlreadyDecrypted: false
            )
            #expect(automatic.map(MBusFrameDocument.init) != declared, "\(vector.name)")
            #expect(automatic?.link.format != .formatB)
        }
    }
}

@Suite struct MBusUnitTests {
    @Test(arguments: [
        ("ELS-12345678-51-03", UInt16(0x1593), UInt32(0x1234_5678), UInt8(51), UInt8(0x03)),
        ("DME-70012345-1-37", UInt16(0x11A5), UInt32(0x7001_2345), UInt8(1), UInt8(0x37)),
        ("AMX-00000001-255-FF", UInt16(0x05B8), UInt32(1), UInt8(255), UInt8(0xFF)),
    ])
    func registryAddressRoundTrips(text: String, code: UInt16, id: UInt32, version: UInt8, type: UInt8) throws {
        let address = MBusAddress(manufacturerCode: code, id: id, version: version, deviceType: type)
        #expect(address.registryAddress == text)
        #expect(MBusAddress(registryAddress: text) == address)
        #expect(address.description == text)
    }

    @Test(arguments: [
        "", "ELS-1234567-51-03", "els-12345678-51-03", "ELS-12345678-256-03", "ELS-12345678-51-3",
        "ELS-12345678-51-03-01", "E1S-12345678-51-03",
    ])
    func malformedRegistryAddressesAreRejected(_ text: String) {
        #expect(MBusAddress(registryAddress: text) == nil)
    }

    @Test func nonDecimalIdentificationIsShownNotCoerced() {
        let address = MBusAddress(manufacturerCode: 0x1593, id: 0x1234_56AF, version: 1, deviceType: 3)
        #expect(address.label == "123456AF")
        #expect(!address.hasDecimalID)
        #expect(MBusAddress(manufacturerCode: 0x1593, id: 0x1234_5678, version: 1, deviceType: 3).hasDecimalID)
    }

    @Test(arguments: [
        (MBusValue.integer(2_850_427), -2, "28504.27"),
        (.integer(0), -3, "0.000"),
        (.integer(-1), -3, "-0.001"),
        (.integer(5), 3, "5000"),
        (.integer(-40), -1, "-4.0"),
        (.integer(123), 0, "123"),
        (.real(1.5), 0, "1.5"),
        (.real(1.5), -3, "0.0015"),
        (.real(-0.25), 2, "-25"),
        (.real(1e-5), 0, "0.00001"),
        (.real(3e10), -6, "30000"),
    ])
    func exactDecimalKeepsTheResolution(value: MBusValue, exponent: Int, text: String) {
        #expect(value.exactDecimal(exponent: exponent)?.description == text)
    }

    @Test func statusBitsAreNamed() {
        #expect(MBusStatus(rawValue: 0x00).names.isEmpty)
        #expect(MBusStatus(rawValue: 0x01).names == ["busy"])
        #expect(MBusStatus(rawValue: 0x01).alarmNames.isEmpty)
        #expect(MBusStatus(rawValue: 0x02).alarmNames == ["application_error"])
        #expect(MBusStatus(rawValue: 0x04).alarmNames == ["power_low"])
        #expect(MBusStatus(rawValue: 0x08).alarmNames == ["permanent_error"])
        #expect(MBusStatus(rawValue: 0xE0).names == ["manufacturer_bit5", "manufacturer_bit6", "manufacturer_bit7"])
        #expect(MBusStatus(rawValue: 0xE0).alarmNames.isEmpty)
    }

    @Test func millilitresNeverOverflowOrRound() {
        var record = MBusRecord.empty
        record.quantity = .volume
        record.unit = .cubicMetre
        record.value = .integer(Int64.max / 10)
        record.exponent = 2
        #expect(record.millilitres == nil)
        record.value = .integer(1234)
        record.exponent = -9
        #expect(record.millilitres == nil)
        record.value = .integer(1000)
        #expect(record.millilitres == 1)
        record.value = .integer(-7)
        record.exponent = -6
        #expect(record.millilitres == -7)
    }

    @Test func deviceTypeNames() {
        #expect(MBusDeviceType.name(of: 0x03) == "gas")
        #expect(MBusDeviceType.name(of: 0x07) == "water")
        #expect(MBusDeviceType.name(of: 0x06) == "warm_water")
        #expect(MBusDeviceType.name(of: 0x04) == "heat")
        #expect(MBusDeviceType.name(of: 0x08) == "heat_cost_allocator")
        #expect(MBusDeviceType.name(of: 0x37) == "radio_converter")
        #expect(MBusDeviceType.name(of: 0x1C) == "gas_detector")
        #expect(MBusDeviceType.name(of: 0x21) == "valve")
        #expect(MBusDeviceType.name(of: 0x0E) == "bus_component")
        #expect(MBusDeviceType.name(of: 0x7F) == "unknown")
    }
}
