// Compact frames (EN 13757-3, OMS Vol. 2): CI 79 (no TPL header), 7B (short header), 73 (long header). The
// application data is the format signature (2 bytes LE), the full-frame CRC (2 bytes LE) and the records' values
// only; the DIF/VIF chain comes from an earlier full frame of the same meter (firmware-protocols/wmbus-oms.md).

/// What a compact frame carried in front of its values.
public struct MBusCompactFormat: Sendable, Hashable {
    /// The format signature: CRC-16/EN-13757 of the full frame's DIF/VIF chain (``MBusFormatSignature``).
    public var signature: UInt16
    /// The full-frame CRC: CRC-16/EN-13757 of the full frame's records (DIF/VIF chains and values, no fillers).
    public var fullFrameCRC: UInt16

    /// Creates the compact header value.
    /// - Parameters:
    ///   - signature: The format signature.
    ///   - fullFrameCRC: The full-frame CRC.
    public init(signature: UInt16, fullFrameCRC: UInt16) {
        self.signature = signature
        self.fullFrameCRC = fullFrameCRC
    }

    /// The signature as four uppercase hex digits, most significant first, e.g. `82DD` (allocates).
    public var signatureHex: String { Hex.encode([UInt8(signature >> 8), UInt8(truncatingIfNeeded: signature)]) }
}

extension MBusDecoder {
    /// Looks up a meter's record layout by format signature; `nil` when the layout is not known.
    public typealias LayoutLookup = (MBusAddress, UInt16) -> MBusRecordLayout?

    /// Whether a TPL CI starts a compact frame: `79` (no header), `7B` (short header), `73` (long header).
    static func isCompact(ci: UInt8) -> Bool {
        ci == 0x79 || ci == 0x7B || ci == 0x73
    }

    /// Reassembles and reads a compact frame's records.
    ///
    /// `position` is the first byte after the TPL header (after the `2F 2F` verification bytes when the TPL content
    /// was decrypted). The values must lie wholly inside the protected part when there is one; only `2F` fillers
    /// may follow them. The reassembled records (chain and values interleaved) must match the full-frame CRC, then
    /// they replace the compact content in ``MBusFrame/bytes`` and are read like a full frame's.
    static func readCompactRecords(
        _ frame: inout MBusFrame,
        from start: Int,
        protectedEnd: Int,
        layout lookup: LayoutLookup
    ) throws(FrameDecodingError) {
        var position = start
        if frame.security.tpl != .none {
            // The decrypted TPL content starts with the 2F 2F the security check verified.
            position += 2
        }
        guard position + 4 <= frame.byteCount else {
            throw FrameDecodingError(.truncated, "compact frame: fewer bytes than the format signature and CRC")
        }
        let compact = MBusCompactFormat(
            signature: frame.bytes.u16le(position),
            fullFrameCRC: frame.bytes.u16le(position + 2)
        )
        frame.compact = compact
        position += 4
        guard let layout = lookup(frame.meter, compact.signature) else {
            throw FrameDecodingError(.unknownFormat, "compact frame: no full frame with this format signature is known")
        }
        guard layout.signature == compact.signature else {
            throw FrameDecodingError(.unknownFormat, "compact frame: the layout found does not have this signature")
        }
        var scratch = InlineArray<256, UInt8>(repeating: 0)
        var length = 0
        let valuesStart = position
        let end = frame.byteCount
        let chain = layout.bytes
        do {
            var cursor = 0
            while cursor < chain.count {
                let headerStart = cursor
                let dataField = try readLayoutHeader(chain, at: &cursor)
                let headerLength = cursor - headerStart
                var valueLength = fixedDataLength(dataField)
                if dataField == 0x0D {
                    guard position < end else {
                        throw FrameDecodingError(.truncated, "compact frame: an LVAR length byte is missing")
                    }
                    valueLength = try variableDataLength(frame.bytes[position]) + 1
                }
                guard position + valueLength <= end else {
                    throw FrameDecodingError(.truncated, "compact frame: fewer value bytes than the layout needs")
                }
                guard length + headerLength + valueLength <= 256 else {
                    throw FrameDecodingError(.badLength, "compact frame: the reassembled records exceed 256 bytes")
                }
                for index in 0..<headerLength {
                    scratch[length + index] = chain[headerStart + index]
                }
                length += headerLength
                for index in 0..<valueLength {
                    scratch[length + index] = frame.bytes[position + index]
                }
                length += valueLength
                position += valueLength
            }
        }
        let valuesEnd = position
        while position < end {
            guard frame.bytes[position] == 0x2F else {
                throw FrameDecodingError(.badLength, "compact frame: bytes after the values the layout describes")
            }
            position += 1
        }
        let isProtected = protectedEnd > valuesStart
        if isProtected && valuesEnd > protectedEnd {
            throw FrameDecodingError(.badFrame, "compact frame: the values run past the end of the encrypted part")
        }
        let crc = scratch.span.withUnsafeBytes { raw in
            CRC16.en13757.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<length]))
        }
        guard crc == compact.fullFrameCRC else {
            throw FrameDecodingError(.badCRC, "compact frame: the reassembled records do not match the full-frame CRC")
        }
        guard start + length <= 256 else {
            throw FrameDecodingError(.badLength, "compact frame: the reassembled frame exceeds 256 bytes")
        }
        for index in 0..<length {
            frame.bytes[start + index] = scratch[index]
        }
        frame.byteCount = start + length
        try readRecords(&frame, from: start, protectedEnd: isProtected ? frame.byteCount : 0)
    }

    /// Reads one record header (DIF, DIFEs, VIF with its extension code or plain-text unit, VIFEs) of a layout.
    ///
    /// - Returns: The DIF's data field (low nibble).
    /// - Throws: ``FrameDecodingError`` `badFrame` for a filler, manufacturer-data or special-function DIF, or a
    ///   chain that ends inside a header.
    static func readLayoutHeader(
        _ chain: [UInt8],
        at position: inout Int
    ) throws(FrameDecodingError) -> UInt8 {
        let dif = chain[position]
        position += 1
        guard dif & 0x0F != 0x0F else {
            throw FrameDecodingError(.badFrame, "compact layout: a special-function DIF is not a record header")
        }
        var extends = dif & 0x80 != 0
        var count = 0
        while extends {
            guard position < chain.count, count < maximumExtensionCount else {
                throw FrameDecodingError(.badFrame, "compact layout: a DIFE chain is cut off or too long")
            }
            extends = chain[position] & 0x80 != 0
            position += 1
            count += 1
        }
        guard position < chain.count else {
            throw FrameDecodingError(.badFrame, "compact layout: a VIF is missing")
        }
        let vif = chain[position]
        position += 1
        extends = vif & 0x80 != 0
        switch vif {
        case 0xFB, 0xFD:
            guard position < chain.count else {
                throw FrameDecodingError(.badFrame, "compact layout: a VIF extension code is missing")
            }
            extends = chain[position] & 0x80 != 0
            position += 1
        case 0x7C, 0xFC:
            guard position < chain.count else {
                throw FrameDecodingError(.badFrame, "compact layout: a plain-text unit length is missing")
            }
            let textLength = Int(chain[position])
            position += 1 + textLength
            guard position <= chain.count else {
                throw FrameDecodingError(.badFrame, "compact layout: a plain-text unit is cut off")
            }
        default:
            break
        }
        count = 0
        while extends {
            guard position < chain.count, count < maximumExtensionCount else {
                throw FrameDecodingError(.badFrame, "compact layout: a VIFE chain is cut off or too long")
            }
            extends = chain[position] & 0x80 != 0
            position += 1
            count += 1
        }
        return dif & 0x0F
    }

    /// The value length of a fixed-size DIF data field (0 for `D`, whose length comes from its LVAR byte).
    static func fixedDataLength(_ dataField: UInt8) -> Int {
        switch dataField {
        case 0x1, 0x9: 1
        case 0x2, 0xA: 2
        case 0x3, 0xB: 3
        case 0x4, 0x5, 0xC: 4
        case 0x6, 0xE: 6
        case 0x7: 8
        default: 0
        }
    }

    /// The number of value bytes an LVAR byte announces (the LVAR byte itself not counted).
    static func variableDataLength(_ lvar: UInt8) throws(FrameDecodingError) -> Int {
        switch lvar {
        case 0x00...0xBF: Int(lvar)
        case 0xC0...0xCF: Int(lvar - 0xC0)
        case 0xD0...0xDF: Int(lvar - 0xD0)
        case 0xE0...0xEF: Int(lvar - 0xE0)
        default: throw FrameDecodingError(.unsupportedFrame, "record: LVAR F0-FF (length not supported)")
        }
    }
}
