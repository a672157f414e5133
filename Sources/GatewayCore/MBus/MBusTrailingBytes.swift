/// Bytes after the last record that the decoder recognised and left out of the record list instead of failing the
/// frame (`firmware-protocols/wmbus-oms.md` §6.1a).
///
/// The only kind is a trailing format-A block CRC: a receiver that strips the DLL CRCs but the last one and counts
/// it in L. It is recognised only outside the protected part and only when the two bytes are the CRC-16/EN 13757 of
/// the final format-A block as received, so nothing that could carry a value is skipped.
public struct MBusTrailingBytes: Sendable, Hashable {
    /// What the bytes were recognised as.
    public enum Kind: String, Sendable, Hashable {
        /// The CRC of the frame's final format-A block.
        case blockCRC = "block_crc"
    }

    /// Where the bytes lie in ``MBusFrame/bytes``.
    public var range: Range<Int>
    /// What they were recognised as.
    public var kind: Kind

    /// Creates a value.
    /// - Parameters:
    ///   - range: The bytes' range in ``MBusFrame/bytes``.
    ///   - kind: What they were recognised as.
    public init(range: Range<Int>, kind: Kind) {
        self.range = range
        self.kind = kind
    }

    /// The number of trailing bytes.
    public var count: Int { range.count }
}

extension MBusFrameDocument {
    /// `trailing_bytes`: how many bytes, their hex and what they were recognised as.
    struct TrailingBytes: Encodable, Sendable, Equatable {
        var count: Int
        var hex: String
        var recognisedAs: String

        init(_ trailing: MBusTrailingBytes, in frame: MBusFrame) {
            count = trailing.count
            hex = Hex.encode(frame.bytes(in: trailing.range))
            recognisedAs = trailing.kind.rawValue
        }

        enum CodingKeys: String, CodingKey {
            case count, hex
            case recognisedAs = "recognised_as"
        }
    }
}
