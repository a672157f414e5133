import GatewayCore
import Testing

@Suite struct CJT188PropertyTests {
    /// Every valid frame of the vectors plus every downlink.
    static func validFrames() throws -> [[UInt8]] {
        try CJT188VectorFile.validVectors.map { try bytes($0.hex) }
            + CJT188VectorFile.downlinkVectors.map { try bytes($0.hex) }
    }

    /// The offset of the start byte 68 (the preamble length).
    static func start(of frame: [UInt8]) -> Int { frame.firstIndex { $0 != 0xFE } ?? frame.count }

    @Test func everyTruncationIsACleanError() throws {
        var vendorCount = 0
        for frame in try Self.validFrames() {
            for length in 0..<frame.count {
                let code = cjt188ErrorCode(Array(frame.prefix(length)))
                #expect(code == "truncated" || code == "vendor_frame", "length \(length) gave \(code ?? "a frame")")
                if code == "vendor_frame" { vendorCount += 1 }
            }
        }
        // A prefix is a vendor frame only by a checksum coincidence.
        #expect(vendorCount < 5)
    }

    @Test func trailingBytesAreRejected() throws {
        for frame in try Self.validFrames() {
            for extra: [UInt8] in [[0x00], [0x16], [0x0D, 0x0A], [0xFE, 0xFE, 0xFE]] {
                let code = cjt188ErrorCode(frame + extra)
                #expect(code == "bad_length" || code == "vendor_frame", "\(extra) gave \(code ?? "a frame")")
            }
        }
    }

    @Test func everySingleByteCorruptionIsRejectedOrDecodesDifferently() throws {
        for frame in try Self.validFrames() {
            let original = try decodeCJT188(frame)
            let start = Self.start(of: frame)
            let lengthOffset = start + 10
            let checksumOffset = frame.count - 2
            for index in frame.indices {
                for value in 0...255 where UInt8(value) != frame[index] {
                    var corrupted = frame
                    corrupted[index] = UInt8(value)
                    do {
                        let decoded = try decodeCJT188(corrupted)
                        #expect(decoded != original, "byte \(index) = \(value) decoded to the same frame")
                        // Only the preamble can change without the checksum noticing.
                        #expect(index < start, "byte \(index) = \(value) was accepted")
                    } catch {
                        let code = error.code.description
                        if index > start && index < checksumOffset && index != lengthOffset {
                            #expect(code == "bad_checksum", "byte \(index) = \(value) gave \(code)")
                        } else if index == checksumOffset {
                            #expect(code == "bad_checksum")
                        } else if index == frame.count - 1 {
                            #expect(code == "bad_frame")
                        }
                    }
                }
            }
        }
    }

    @Test func resealedByteEditsNeverCrashAndStayConsistent() throws {
        var accepted = 0
        var rejected = 0
        for frame in try Self.validFrames() {
            for index in Self.start(of: frame)..<(frame.count - 2) {
                for value in [0x00, 0x01, 0x09, 0x0A, 0x10, 0x16, 0x2C, 0x55, 0x68, 0x80, 0x99, 0xAA, 0xFE, 0xFF] {
                    var edited = frame
                    edited[index] = UInt8(value)
                    edited.withUnsafeMutableBytes { _ = CJT188Encoder.seal($0) }
                    guard let frame = try? decodeCJT188(edited) else {
                        rejected += 1
                        continue
                    }
                    accepted += 1
                    _ = CJT188FrameDocument(frame)
                    if frame.currentVolume != nil || frame.settlementVolume != nil {
                        #expect(frame.isFromMeter && !frame.control.isAbnormal)
                    }
                    if let time = frame.meterTime {
                        #expect(time.isValid)
                    }
                }
            }
        }
        #expect(accepted > 0)
        #expect(rejected > 0)
    }

    @Test func nonBCDVolumeDigitsAreNeverCoerced() throws {
        // Every byte of both volumes of a 901F reply, every value with a nibble above 9.
        let frame = try bytes(
            try #require(CJT188VectorFile.validVectors.first { $0.name == "gas-901f-reply-little-endian" }).hex
        )
        let start = Self.start(of: frame)
        let volumeOffsets = Array((start + 14)..<(start + 18)) + Array((start + 19)..<(start + 23))
        for offset in volumeOffsets {
            for value in 0...255 where value >> 4 > 9 || value & 0x0F > 9 {
                var edited = frame
                edited[offset] = UInt8(value)
                edited.withUnsafeMutableBytes { _ = CJT188Encoder.seal($0) }
                #expect(cjt188ErrorCode(edited) == "field_out_of_range", "offset \(offset) value \(value)")
            }
        }
    }

    @Test func randomInputsNeverCrash() {
        var generator = SplitMix64(seed: 0xC1_7188)
        for _ in 0..<20_000 {
            let count = Int(generator.next() % 72)
            var input = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let preamble = Int(generator.next() % 4)
            if count > preamble {
                for index in 0..<preamble { input[index] = 0xFE }
                input[preamble] = 0x68
            }
            if count > preamble + 10, generator.next() % 2 == 0 {
                input[preamble + 10] = UInt8(truncatingIfNeeded: max(0, count - preamble - 13))
            }
            if generator.next() % 2 == 0 {
                input.withUnsafeMutableBytes { _ = CJT188Encoder.seal($0) }
            }
            if let frame = try? decodeCJT188(input) {
                _ = CJT188FrameDocument(frame)
            }
        }
    }

    @Test func encoderRoundTripsEveryRequest() throws {
        let requests: [CJT188Encoder.Request] = [.readData, .readAddress, .valveControl(.open), .valveControl(.close)]
        let types: [CJT188MeterType] = [.gas, .coldWater, .heat, CJT188MeterType(rawValue: 0x39), .wildcard]
        let addresses: [CJT188Address] = [
            try #require(CJT188Address(label: "78330011223344")), .broadcast, CJT188Address(rawValue: 0x5A),
        ]
        for request in requests {
            for type in types {
                for address in addresses {
                    for order in CJT188DIOrder.allCases {
                        for preamble in 0...CJT188Encoder.maximumPreambleLength {
                            let sequence = UInt8(truncatingIfNeeded: preamble * 37 + 1)
                            let encoded = try CJT188Encoder.encode(
                                request,
                                meterType: type,
                                address: address,
                                sequence: sequence,
                                diOrder: order,
                                preambleLength: preamble
                            )
                            let frame = try decodeCJT188(encoded)
                            #expect(frame.meterType == type)
                            #expect(frame.address == address)
                            #expect(frame.sequence == sequence)
                            #expect(frame.diOrder == order)
                            #expect(frame.preambleLength == preamble)
                            #expect(!frame.isFromMeter)
                            switch request {
                            case .readData:
                                #expect(frame.dataIdentifier == .meterData && frame.body == .request)
                                #expect(frame.function == .readData)
                            case .readAddress:
                                #expect(frame.dataIdentifier == .address && frame.body == .request)
                                #expect(frame.function == .readAddress)
                            case .valveControl(let command):
                                #expect(frame.dataIdentifier == .valveControl && frame.body == .valveCommand(command))
                                #expect(frame.function == .writeData)
                            }
                        }
                    }
                }
            }
        }
    }

    @Test func encoderRejectsWhatTheDecoderWouldReject() throws {
        let address = try #require(CJT188Address(label: "78330011223344"))
        #expect(throws: FrameEncodingError.self) {
            try CJT188Encoder.encode(
                .readData,
                meterType: .gas,
                address: address,
                sequence: 0,
                diOrder: .bigEndian,
                preambleLength: 5
            )
        }
        do {
            _ = try CJT188Encoder.encode(
                .readData,
                meterType: CJT188MeterType(rawValue: 0x55),
                address: address,
                sequence: 0,
                diOrder: .bigEndian
            )
            Issue.record("a meter type outside CJ/T 188 was encoded")
        } catch {
            #expect(error.code == .invalidFrame)
            #expect(error.decodingError?.code == .vendorFrame)
        }
        var small = [UInt8](repeating: 0, count: 15)
        do {
            _ = try small.withUnsafeMutableBytes { raw in
                try CJT188Encoder.encode(
                    .valveControl(.close),
                    meterType: .gas,
                    address: address,
                    sequence: 0,
                    diOrder: .bigEndian,
                    preambleLength: 0,
                    into: raw
                )
            }
            Issue.record("a 17-byte frame fit a 15-byte buffer")
        } catch let error as FrameEncodingError {
            #expect(error.code == .bufferTooSmall)
        }
    }

    @Test func sealRecomputesOnlyTheChecksum() throws {
        let frame = try bytes("FEFEFEFE68104433221100337801031F90008016")
        var edited = frame
        edited[edited.count - 2] = 0
        #expect(edited.withUnsafeMutableBytes { CJT188Encoder.seal($0) })
        #expect(edited == frame)
        var short = [UInt8](repeating: 0xFE, count: 5)
        #expect(!short.withUnsafeMutableBytes { CJT188Encoder.seal($0) })
        short = [0x00, 0x68]
        #expect(!short.withUnsafeMutableBytes { CJT188Encoder.seal($0) })
    }

    @Test func noKnownDataIdentifierCollidesWithASwap() {
        var known = 0
        for raw in 0...0xFFFF {
            let identifier = CJT188DataIdentifier(rawValue: UInt16(raw))
            guard identifier.isKnown else { continue }
            known += 1
            let swapped = CJT188DataIdentifier(rawValue: UInt16(raw).byteSwapped)
            #expect(!swapped.isKnown, "\(identifier.hex) collides with its swap")
            let (high, low) = identifier.wireBytes(.bigEndian)
            #expect(CJT188DataIdentifier.match(high, low).map { $0.0 == identifier && $0.1 == .bigEndian } == true)
            #expect(CJT188DataIdentifier.match(low, high).map { $0.0 == identifier && $0.1 == .littleEndian } == true)
        }
        #expect(known == 3 + 4 + 12 + 1 + 10 + 7)
    }

    @Test func volumeUnitsConvertExactly() {
        // raw 12345678 (2 decimals) in each volume unit, in millilitres.
        let expected: [(UInt8, Int64, String)] = [
            (0x29, 123_456_780, "123.45678"), (0x2A, 1_234_567_800, "1234.5678"), (0x2B, 12_345_678_000, "12345.678"),
            (0x2C, 123_456_780_000, "123456.78"), (0x2D, 1_234_567_800_000, "1234567.8"),
            (0x2E, 12_345_678_000_000, "12345678"),
        ]
        for (code, millilitres, text) in expected {
            let quantity = CJT188Quantity(raw: 12_345_678, decimals: 2, unit: CJT188Unit(rawValue: code))
            #expect(quantity.millilitres == millilitres)
            #expect(cjt188Text(quantity) == text)
            #expect(quantity.unit.displaySymbol == "m3")
        }
        let largest = CJT188Quantity(raw: 99_999_999, decimals: 2, unit: CJT188Unit(rawValue: 0x2E))
        #expect(largest.millilitres == 99_999_999_000_000)
        #expect(CJT188Quantity(raw: 1, decimals: 2, unit: CJT188Unit(rawValue: 0x05)).millilitres == nil)
        #expect(CJT188Unit(rawValue: 0x00).kind == nil && CJT188Unit(rawValue: 0x2F).kind == nil)
    }

    @Test func addressLabelsRoundTrip() throws {
        let address = try #require(CJT188Address(label: "78330011223344"))
        #expect(address.wireHex == "44332211003378")
        #expect(address.label == "78330011223344")
        #expect(address.number == 78_330_011_223_344)
        #expect(CJT188Address(label: "7833001122334") == nil)
        #expect(CJT188Address(label: "7833001122334A") == nil)
        #expect(CJT188Address.broadcast.isBroadcast && !CJT188Address.broadcast.isBCD)
        #expect(CJT188Address(rawValue: 0x5A).nonBCDMask == 0x01)
        #expect(CJT188Address(rawValue: 0x5A).number == nil)
    }

    @Test func statusProfilesMapTheValve() {
        let sdqr = CJT188StatusProfile(valveClosedMask: 0x40, valveAbnormalMask: 0xC0, batteryLowMask: 0x20)
        #expect(sdqr.valve(CJT188Status(st1: 0x40, st2: 0)) == .closed)
        #expect(sdqr.valve(CJT188Status(st1: 0xC0, st2: 0)) == .fault)
        #expect(sdqr.valve(CJT188Status(st1: 0x80, st2: 0)) == .open)
        #expect(sdqr.isBatteryLow(CJT188Status(st1: 0x20, st2: 0)))
        #expect(CJT188Status(st1: 0x03, st2: 0).valve == .fault)
        #expect(CJT188Status(st1: 0x01, st2: 0).valve == .closed)
        #expect(CJT188Status(st1: 0x00, st2: 0xFF).valve == .open)
        #expect(CJT188Status(st1: 0x00, st2: 0xFF).rawValue == 0xFF00)
        #expect(CJT188Status.bitNames.count == 16)
    }
}
