import GatewayCore
import Testing

/// Compact frames (CI 79/7B/73): the format signature on public data, reassembly against a known layout, and the
/// errors (the golden and malformed vectors of `wmbus-vectors.json` cover each CI and each rejection).
@Suite struct MBusCompactFrameTests {
    @Test func vectorFileHasAPublicPair() {
        #expect(!MBusVectorFile.compactPairs.isEmpty)
    }

    @Test(arguments: MBusVectorFile.compactPairs)
    func fullFrameGivesThePublishedSignatureAndLayout(_ pair: MBusCompactPair) throws {
        let full = try decode(pair.fullHex, allow: pair.allowAlreadyDecrypted)
        #expect(full.compact == nil)
        let signature = try #require(full.formatSignature)
        #expect(String(signature, radix: 16, uppercase: true).leftPadded(4) == pair.signature)
        let layout = try #require(full.recordLayout)
        #expect(layout.hex == pair.chain)
        #expect(layout.signature == signature)
        #expect(layout.recordCount == pair.recordCount)
        #expect(full.hasRecordLayout(layout))
        #expect(full.meter.registryAddress == pair.meter)
    }

    @Test(arguments: MBusVectorFile.compactPairs)
    func compactFrameDecodesToTheFullFramesRecords(_ pair: MBusCompactPair) throws {
        let full = try decode(pair.fullHex, allow: pair.allowAlreadyDecrypted)
        let layout = try #require(full.recordLayout)
        var asked: [(MBusAddress, UInt16)] = []
        let compact = try decode(pair.compactHex, allow: pair.allowAlreadyDecrypted) { meter, signature in
            asked.append((meter, signature))
            return signature == layout.signature ? layout : nil
        }
        #expect(asked.count == 1)
        #expect(asked.first?.0 == full.meter)
        #expect(compact.compact?.signatureHex == pair.signature)
        let crc = String(compact.compact?.fullFrameCRC ?? 0, radix: 16, uppercase: true).leftPadded(4)
        #expect(crc == pair.fullFrameCrc)
        #expect(compact.transport.ci == 0x79)
        #expect(compact.formatSignature == nil, "a compact frame has no layout of its own to remember")
        try #require(compact.recordCount == full.recordCount)
        #expect(compact.recordCount == pair.recordCount)
        for (got, want) in zip(compact.recordArray, full.recordArray) {
            #expect(compact.bytes(in: got.headerRange) == full.bytes(in: want.headerRange))
            #expect(compact.bytes(in: got.dataRange) == full.bytes(in: want.dataRange))
            #expect(got.quantity == want.quantity)
            #expect(got.value == want.value)
            #expect(got.storage == want.storage && got.tariff == want.tariff && got.subunit == want.subunit)
            #expect(got.isProtected == want.isProtected)
        }
        #expect(compact.meterTime == full.meterTime)
    }

    @Test(arguments: MBusVectorFile.compactPairs)
    func compactFrameWithoutItsLayoutIsUnknownFormat(_ pair: MBusCompactPair) throws {
        #expect(code(pair.compactHex, allow: pair.allowAlreadyDecrypted) { _, _ in nil } == "unknown_format")
        // A layout handed back under another signature is not used.
        let other = try #require(MBusRecordLayout(bytes: [0x0C, 0x13]))
        #expect(code(pair.compactHex, allow: pair.allowAlreadyDecrypted) { _, _ in other } == "unknown_format")
    }

    @Test(arguments: MBusVectorFile.compactPairs)
    func aLayoutWithTheSameSignatureButOtherRecordsFailsTheFullFrameCRC(_ pair: MBusCompactPair) throws {
        let full = try decode(pair.fullHex, allow: pair.allowAlreadyDecrypted)
        let real = try #require(full.recordLayout)
        // Replace the last record's VIB by a 2-character plain-text unit (same DIF, so the same value length) and
        // choose the two characters so the chain's CRC equals the real signature: a forged layout the signature
        // cannot tell apart. The full-frame CRC must refuse it rather than give values a wrong meaning. (A change
        // confined to the first record header would pass both CRCs: their registers agree after it.)
        let last = try #require(full.recordArray.last).headerRange.count
        let prefix = Array(real.bytes[..<(real.bytes.count - last)])
        let dif = real.bytes[real.bytes.count - last]
        var forged: MBusRecordLayout?
        search: for high in 0..<256 {
            for low in 0..<256 {
                let chain = prefix + [dif, 0x7C, 0x02, UInt8(high), UInt8(low)]
                if let layout = MBusRecordLayout(bytes: chain), layout.signature == real.signature {
                    forged = layout
                    break search
                }
            }
        }
        let layout = try #require(forged)
        #expect(layout.bytes != real.bytes)
        #expect(code(pair.compactHex, allow: pair.allowAlreadyDecrypted) { _, _ in layout } == "bad_crc")
    }

    @Test func layoutRejectsChainsThatAreNotRecordHeaders() {
        #expect(MBusRecordLayout(bytes: []) == nil)
        #expect(MBusRecordLayout(bytes: [0x2F]) == nil, "a filler is no record header")
        #expect(MBusRecordLayout(bytes: [0x0F]) == nil, "manufacturer data is not a layout")
        #expect(MBusRecordLayout(bytes: [0x0C]) == nil, "a DIF without VIF")
        #expect(MBusRecordLayout(bytes: [0x8C]) == nil, "a DIFE announced and missing")
        #expect(MBusRecordLayout(bytes: [0x0C, 0x93]) == nil, "a VIFE announced and missing")
        #expect(MBusRecordLayout(bytes: [0x02, 0xFD]) == nil, "an FD extension code missing")
        #expect(MBusRecordLayout(bytes: [0x0D, 0x7C, 0x03, 0x41]) == nil, "a plain-text unit cut off")
        #expect(MBusRecordLayout(bytes: Array(repeating: 0x01, count: 256)) == nil, "longer than a frame")
        let layout = MBusRecordLayout(bytes: [0x0C, 0x14, 0x04, 0x6D, 0x02, 0xFD, 0x17])
        #expect(layout?.recordCount == 3)
        #expect(layout?.hex == "0C14046D02FD17")
    }

    @Test func signatureIsCRC16EN13757OfTheChain() {
        // The layout an early wmbusmeters multical21 driver hard-coded (02FF20 0413 4413); the CRC value is the
        // independent Python implementation's (crc16_en13757 in gen_wmbus_vectors.py).
        let chain: [UInt8] = [0x02, 0xFF, 0x20, 0x04, 0x13, 0x44, 0x13]
        #expect(chain.withUnsafeBytes { MBusFormatSignature.compute($0) } == 0xDD34)
        #expect(MBusRecordLayout(bytes: chain)?.signature == chain.withUnsafeBytes { CRC16.en13757.checksum($0) })
    }

    @Test func fullFrameWithManufacturerDataHasNoLayout() throws {
        // CI 78, one volume record, then 0F manufacturer data.
        let body: [UInt8] = [0x78, 0x0C, 0x14, 0x27, 0x04, 0x85, 0x02, 0x0F, 0x01, 0x02]
        let frame = try decode(wirelessHex(body), allow: false)
        #expect(frame.manufacturerDataRange != nil)
        #expect(frame.formatSignature == nil)
        #expect(frame.recordLayout == nil)
    }

    // MARK: Helpers

    private func decode(
        _ hex: String,
        allow: Bool,
        layout: MBusDecoder.LayoutLookup = { _, _ in nil }
    ) throws -> MBusFrame {
        let bytes = try #require(Hex.decode(hex))
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(FrameDecodingError) -> MBusFrame in
                try MBusDecoder.decodeWireless(raw, key: { _ in nil }, allowAlreadyDecrypted: allow, layout: layout)
            }
        }
        return try result.get()
    }

    private func code(_ hex: String, allow: Bool, layout: MBusDecoder.LayoutLookup) -> String? {
        do {
            _ = try decode(hex, allow: allow, layout: layout)
            return nil
        } catch let error as FrameDecodingError {
            return error.code.description
        } catch {
            return "\(error)"
        }
    }

    private func wirelessHex(_ body: [UInt8]) -> String {
        let header: [UInt8] = [0x44, 0xA5, 0x11, 0x01, 0x00, 0x24, 0x20, 0x3C, 0x03]
        return Hex.encode([UInt8(header.count + body.count)] + header + body)
    }
}
