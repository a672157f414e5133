import GatewayCore
import Testing

/// Issue 12, points 1 and 2: a trailing format-A block CRC ends the record list (only outside protected content),
/// and manufacturer-specific TPL security modes are looked up in a table.
@Suite struct MBusTolerantFramingTests {
    /// The CRC-16/EN 13757 (big-endian) of the final format-A block of a frame without CRCs.
    static func finalBlockCRC(_ frame: [UInt8]) -> [UInt8] {
        let dataCount = frame.count - 10
        let start = 10 + (dataCount - 1) / 16 * 16
        let crc = frame.withUnsafeBytes { CRC16.en13757.checksum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        return [UInt8(truncatingIfNeeded: crc >> 8), UInt8(truncatingIfNeeded: crc)]
    }

    /// The frame plus its final block's CRC, L counting it.
    static func withTrailingCRC(_ frame: [UInt8]) -> [UInt8] {
        var out = frame + finalBlockCRC(frame)
        out[0] &+= 2
        return out
    }

    /// Whether two bytes after a complete record list can be read without an error (a `2F` filler pair, manufacturer
    /// data `0F`/`1F`, or a record without data), so no element fails and no trailer is recognised.
    static func readsAsElements(_ trailer: [UInt8]) -> Bool {
        let dif = trailer[0]
        if dif == 0x0F || dif == 0x1F { return true }
        if dif == 0x2F { return trailer[1] == 0x2F || trailer[1] == 0x0F || trailer[1] == 0x1F }
        let isDataless = dif & 0x0F == 0x0 || dif & 0x0F == 0x8
        return isDataless && dif & 0x80 == 0 && trailer[1] & 0x80 == 0 && trailer[1] != 0x7C
    }

    /// wmbusmeters `src/driver_unismart.cc`: an AMX gas meter, mode 5 with key 00…00, five encrypted blocks, then
    /// the CRC of the final format-A block (`52 08`); wmbusmeters prints total_m3 917.
    static let unismart =
        "6044B8059430040001037A1D005085E2B670BCF1A5C87E0C1A51DA18924EF984613DA2A9CD39D8F4C7208326C76D42DBEADF80D57419"
        + "2B71BD7C4F56A7F1513151768A9DB804883B28CB085CA2D0F7438C361CB9E2734712ED9BFBB2A14EF55208"

    @Test func realTelegramWithTrailingCRCDecodesAndSaysSo() throws {
        let bytes = try #require(Hex.decode(Self.unismart))
        let frame = try decodeMBus(
            bytes,
            wired: false,
            keyHex: "00000000000000000000000000000000",
            allowAlreadyDecrypted: false
        )
        let trailer = try #require(frame.trailingBytes)
        #expect(trailer.kind == .blockCRC && trailer.count == 2)
        #expect(trailer.range == (frame.byteCount - 2)..<frame.byteCount)
        #expect(Hex.encode(frame.bytes(in: trailer.range)) == "5208")
        let volume = try #require(frame.recordArray.first { $0.quantity == .volume && $0.storage == 0 })
        #expect(volume.value.exactDecimal(exponent: Int(volume.exponent))?.description.hasPrefix("917") == true)
        #expect(frame.security.contentProtection == .encrypted)
        let text = try DocumentJSON.text(MBusFrameDocument(frame))
        #expect(text.contains(#""trailing_bytes":{"count":2,"hex":"5208","recognised_as":"block_crc"}"#))
        // Without the trailer the same telegram is a complete frame with the same records.
        var stripped = Array(bytes.dropLast(2))
        stripped[0] -= 2
        let plain = try decodeMBus(
            stripped,
            wired: false,
            keyHex: "00000000000000000000000000000000",
            allowAlreadyDecrypted: false
        )
        #expect(plain.trailingBytes == nil)
        #expect(plain.recordArray == frame.recordArray)
    }

    @Test func aFrameWithoutTrailerHasNoTrailingBytesInItsDocument() throws {
        let vector = try #require(MBusVectorFile.validVectors.first { $0.name == "gas-vm-vb-plain" })
        let frame = try vector.decode()
        #expect(frame.trailingBytes == nil)
        #expect(try !DocumentJSON.text(MBusFrameDocument(frame)).contains("trailing_bytes"))
    }

    /// Every valid wireless vector without CRCs, given its final block's CRC: records unchanged; recognised whenever
    /// nothing protects the end of the frame; refused when a MAC or the ELL covers it.
    @Test(arguments: MBusVectorFile.validVectors)
    func appendedBlockCRCNeverChangesTheRecords(_ vector: MBusValidVector) throws {
        guard !vector.isWired, vector.frameFormat == "no_crc", vector.decodeFormat == nil,
            vector.bytes.count + 2 <= 256
        else { return }
        let original = try vector.decode()
        // Vectors that already end with a trailer, and manufacturer schemes whose checksum covers the content.
        guard original.trailingBytes == nil, original.security.mode < 13 else { return }
        let longer = Self.withTrailingCRC(vector.bytes)
        let trailer = Array(longer.suffix(2))
        let result = Result { () throws(FrameDecodingError) -> MBusFrame in
            try decodeMBus(
                longer,
                wired: false,
                keyHex: vector.key,
                allowAlreadyDecrypted: vector.allowAlreadyDecrypted,
                layouts: vector.layouts
            )
        }
        let coversTheEnd = original.authentication?.mac != nil || original.security.ell != .none
        switch result {
        case .success(let frame):
            #expect(!coversTheEnd, "\(vector.name): a trailer accepted inside MAC- or ELL-covered content")
            #expect(frame.recordArray == original.recordArray, "\(vector.name): records changed")
            if original.kind == .data && original.manufacturerDataRange == nil && !Self.readsAsElements(trailer) {
                #expect(frame.trailingBytes?.kind == .blockCRC, "\(vector.name): trailer not recognised")
            }
            if let trailing = frame.trailingBytes {
                #expect(trailing.range == (frame.byteCount - 2)..<frame.byteCount)
                #expect(frame.recordArray.allSatisfy { $0.dataRange.upperBound <= trailing.range.lowerBound })
            }
        case .failure(let error):
            // Compact frames are never tolerant: bytes after their values are `bad_length` (wmbus-oms.md §6.5).
            let expectedToFail =
                coversTheEnd || original.kind != .data || original.manufacturerDataRange != nil
                || original.compact != nil
            #expect(expectedToFail, "\(vector.name): refused as \(error.code)")
        }
    }

    /// A fuzzer find: the trailer's first byte happened to be `2F` but was read as the last byte of the record before
    /// it, and the element failing at the trailer's second byte was taken as "after a filler"; the record then
    /// overlapped the trailer. Only a `2F` actually read as a filler lets the element start one byte in.
    @Test func aTrailerWhoseFirstByteIsRecordDataIsNotTolerated() throws {
        let frame = try #require(
            Hex.decode(
                "5544E61E010024203C037A100000000C943A001709000C933E842784064C14563412008C10140001000002FD74871302FD17"
                    + "040001FD71C30065B4080269640004221027000004263E020A2000002C01046D32B72415"
            )
        )
        let longer = Self.withTrailingCRC(frame)
        #expect(longer[longer.count - 2] == 0x2F, "the vector's trailer must start with 2F to test this")
        // The last record's data takes the trailer's 2F; the byte after it is not an element, so the frame fails as
        // it would without the tolerance.
        #expect(mbusErrorCode(longer, wired: false, keyHex: nil, allowAlreadyDecrypted: true) == "unsupported_frame")
    }

    @Test func aWrongTrailerStillFails() throws {
        let vector = try #require(MBusVectorFile.validVectors.first { $0.name == "trailing-crc-plain" })
        var bytes = vector.bytes
        bytes[bytes.count - 1] ^= 0x01
        #expect(mbusErrorCode(bytes, wired: false, keyHex: nil, allowAlreadyDecrypted: false) != nil)
        // As format A (CRCs kept) the same bytes are not tolerant either.
        #expect(mbusErrorCode(bytes, wired: false, keyHex: nil, allowAlreadyDecrypted: false, format: .formatB) != nil)
    }

    // MARK: Manufacturer security modes

    @Test func tableNamesItsManufacturers() {
        let letters = Set(MBusManufacturerSecurityMode.table.map(\.manufacturer))
        #expect(letters == ["DME", "EWT", "HYD", "SAP", "SPL", "BMT"])
        for entry in MBusManufacturerSecurityMode.table {
            #expect(entry.modes.lowerBound >= 13 && entry.modes.upperBound <= 31, "\(entry.manufacturer)")
        }
    }

    @Test func lookupNeedsManufacturerModeCIAndControl() {
        let hyd: UInt16 = 0x2324
        let scheme = MBusManufacturerSecurityMode.lookup
        #expect(scheme(hyd, 29, 0x7A, 0x44) == .diehlRealData)
        #expect(scheme(hyd, 16, 0x7A, 0x46) == .diehlRealData)
        #expect(scheme(hyd, 24, 0x7A, 0x08) == nil)
        #expect(scheme(hyd, 29, 0x72, 0x44) == nil)
        #expect(scheme(hyd, 15, 0x7A, 0x44) == nil)
        #expect(scheme(0x1593, 29, 0x7A, 0x44) == nil)  // ELS
        #expect(scheme(0x09B4, 16, 0x7A, 0x44) == .bMetersObfuscated)
        #expect(scheme(0x09B4, 17, 0x7A, 0x44) == nil)
    }

    @Test func diehlRealDataIsRefusedLiveWithTheSchemeAndTheMeterInDiehlOrder() throws {
        let vector = try #require(MBusVectorFile.validVectors.first { $0.name == "diehl-real-data-hydrus-mode29" })
        do {
            _ = try decodeMBus(vector.bytes, wired: false, keyHex: nil, allowAlreadyDecrypted: false)
            Issue.record("a live Diehl real-data frame decoded")
        } catch {
            #expect(error.code == .unsupportedSecurityMode)
            #expect(error.message.contains("Diehl real-data"))
        }
        let header = try #require(vector.bytes.withUnsafeBytes { MBusDecoder.peekHeader($0, isWired: false) })
        #expect(header.meter?.registryAddress == "HYD-60897379-139-07")
        #expect(header.summary.contains("mode=29"))
    }
}

extension MBusManufacturerSecurityMode {
    static func lookup(_ code: UInt16, _ mode: UInt8, _ ci: UInt8, _ control: UInt8) -> Scheme? {
        scheme(manufacturerCode: code, mode: mode, transportCI: ci, control: control)
    }
}
