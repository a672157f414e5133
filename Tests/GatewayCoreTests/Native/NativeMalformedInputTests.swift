import GatewayCore
import Testing

@Suite struct NativeMalformedInputTests {
    static let keyHex = "2B7E151628AED2A6ABF7158809CF4F3C"

    /// Valid frames of every type, from the encoder and from the independent vectors.
    static func validFrames() throws -> [[UInt8]] {
        try SampleFrames.encoded() + NativeVectorFile.validVectors.map { try bytes($0.hex) }
    }

    @Test func everyTruncationIsACleanTruncatedError() throws {
        for frame in try Self.validFrames() {
            for length in 0..<frame.count {
                let prefix = Array(frame.prefix(length))
                #expect(nativeErrorCode(prefix, keyHex: Self.keyHex) == "truncated", "length \(length)")
                #expect(prefix.withUnsafeBytes { NativeDecoder.peekHeader($0) } == nil)
            }
        }
    }

    @Test func trailingBytesAreABadLength() throws {
        for frame in try Self.validFrames() {
            for extra in 1...3 {
                let longer = frame + [UInt8](repeating: 0, count: extra)
                #expect(nativeErrorCode(longer, keyHex: Self.keyHex) == "bad_length")
            }
        }
    }

    @Test func everySingleBitFlipIsRejected() throws {
        for frame in try Self.validFrames() {
            for index in frame.indices {
                for bit in 0..<8 {
                    var corrupted = frame
                    corrupted[index] ^= UInt8(1 << bit)
                    let code = nativeErrorCode(corrupted, keyHex: Self.keyHex)
                    #expect(code != nil, "flip of byte \(index) bit \(bit) was accepted")
                    if index >= 4 && index < 21 || index >= 23 {
                        #expect(code == "bad_crc", "byte \(index) bit \(bit)")
                    }
                }
            }
        }
    }

    @Test func resealedByteEditsNeverCrash() throws {
        // Boundary byte values at every header and payload position, with CRC and MAC made valid again, so the
        // edit reaches the type, length and range checks. (The fuzzer covers the other values.)
        let values: [UInt8] = [
            0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0F, 0x10, 0x3C, 0x7F, 0x80, 0x81, 0x82, 0x83, 0x84, 0xFE, 0xFF,
        ]
        let key = try #require(AES128Key(hex: Self.keyHex))
        var accepted = 0
        var rejected = 0
        for frame in try SampleFrames.encoded() {
            for index in 0..<(frame.count - 10) where index != 21 && index != 22 {
                for value in values + [frame[index] &+ 1, frame[index] &- 1] {
                    var edited = frame
                    edited[index] = value
                    edited.withUnsafeMutableBytes { _ = NativeEncoder.seal($0, key: key) }
                    if let frame = try? decodeNative(edited, keyHex: Self.keyHex) {
                        accepted += 1
                        var batch = SinkBatch()
                        frame.appendRecords(
                            to: &batch,
                            meterID: 1,
                            receivedAt: .init(secondsSinceEpoch: 1),
                            policy: .serviceCommitments
                        )
                        _ = NativeFrameDocument(frame)
                        #expect(try NativeEncoder.encode(frame, key: key) == edited)
                    } else {
                        rejected += 1
                    }
                }
            }
        }
        #expect(accepted > 0)
        #expect(rejected > 0)
    }

    @Test func randomInputsNeverCrash() {
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<20_000 {
            let count = Int(generator.next() % 80)
            var input = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if count >= 3, generator.next() % 2 == 0 {
                input[0] = 0x47
                input[1] = 0x4D
                input[2] = 0x01
            }
            if count >= 23 {
                let declared = UInt16(max(0, count - 33 + Int(generator.next() % 3) - 1))
                input[21] = UInt8(declared >> 8)
                input[22] = UInt8(declared & 0xFF)
            }
            _ = nativeErrorCode(input, keyHex: Self.keyHex)
            _ = try? decodeNativeUnverified(input)
            _ = input.withUnsafeBytes { NativeDecoder.peekHeader($0) }
        }
    }

    @Test func keyedDecodeStopsAtTheMACBeforeContentChecks() throws {
        // Found by the fuzzer: a CRC-valid parameter update with a wrong MAC and an inconsistent count.
        let frame = try bytes(
            "474D01830000000000000F4241000000016B03F280000B" + "4D0183000000000156C2886E7B000047EC6E0CDC79"
        )
        #expect(nativeErrorCode(frame, keyHex: Self.keyHex) == "bad_mac")
        #expect(throws: FrameDecodingError.self) { try decodeNativeUnverified(frame) }
        do {
            _ = try decodeNativeUnverified(frame)
        } catch {
            #expect(error.code == .badLength)
        }
    }

    @Test func meterIDZeroIsRejectedBeforeKeyLookup() throws {
        var frame = try SampleFrames.encoded()[0]
        for index in 5..<13 { frame[index] = 0 }
        frame.withUnsafeMutableBytes { _ = NativeEncoder.seal($0, key: nil) }
        var lookups = 0
        let code = frame.withUnsafeBytes { raw -> String? in
            do throws(FrameDecodingError) {
                _ = try NativeDecoder.decode(raw) { _ in
                    lookups += 1
                    return nil
                }
                return nil
            } catch {
                return error.code.description
            }
        }
        #expect(code == "field_out_of_range")
        #expect(lookups == 0)
    }

    @Test func keyIsLookedUpOnceForTheFramesMeter() throws {
        let frame = try SampleFrames.encoded()[0]
        let key = AES128Key(hex: Self.keyHex)
        var asked: [UInt64] = []
        _ = try frame.withUnsafeBytes { raw in
            try NativeDecoder.decode(raw) { id in
                asked.append(id)
                return key
            }
        }
        #expect(asked == [1_000_001])
    }

    @Test func errorCodesHaveTheirContractStrings() {
        #expect(
            FrameDecodingError.Code.allCodes.map(\.description) == [
                "truncated", "bad_frame", "unknown_version", "frame_too_large", "bad_length", "bad_crc",
                "unknown_meter", "bad_mac", "unknown_type", "field_out_of_range", "bad_checksum", "wrong_key",
                "unsupported_security_mode", "vendor_frame", "unsupported_frame", "already_decrypted", "unknown_format",
            ]
        )
        #expect(
            NativeDecoder.errorCodes.map(\.description) == [
                "truncated", "bad_frame", "unknown_version", "frame_too_large", "bad_length", "bad_crc",
                "unknown_meter", "bad_mac", "unknown_type", "field_out_of_range",
            ]
        )
    }

    @Test func errorRendersAsJSON() throws {
        let error = FrameDecodingError(.badCRC, "the \"CRC\" does not match\n")
        let text = try DocumentJSON.text(DecodeErrorDocument(error))
        #expect(text == #"{"error":{"code":"bad_crc","message":"the \"CRC\" does not match\n"}}"#)
    }
}

/// A small deterministic generator for reproducible random tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
