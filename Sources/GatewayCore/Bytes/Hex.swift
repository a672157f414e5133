/// Hexadecimal text to bytes and back, for command lines, test vectors and configuration (not the hot path).
public enum Hex {
    /// Parses hexadecimal text into bytes.
    ///
    /// Digits may be upper or lower case. Whitespace (space, tab, CR, LF) may appear between bytes, never
    /// inside one.
    ///
    /// - Parameter text: The hexadecimal text, e.g. `"47 4D 01"` or `"474d01"`.
    /// - Returns: The bytes, or `nil` for an odd number of digits, a stray character or whitespace inside a byte.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 2)
        var high: UInt8? = nil
        for character in text.utf8 {
            switch character {
            case 0x20, 0x09, 0x0A, 0x0D:
                guard high == nil else { return nil }
                continue
            default:
                guard let nibble = nibbleValue(character) else { return nil }
                if let first = high {
                    bytes.append(first << 4 | nibble)
                    high = nil
                } else {
                    high = nibble
                }
            }
        }
        guard high == nil else { return nil }
        return bytes
    }

    /// Formats bytes as upper-case hexadecimal without separators.
    ///
    /// - Parameter bytes: The bytes to format.
    /// - Returns: Two digits per byte, e.g. `"474D01"`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text = ""
        for byte in bytes {
            text.unicodeScalars.append(digits[Int(byte >> 4)])
            text.unicodeScalars.append(digits[Int(byte & 0x0F)])
        }
        return text
    }

    /// Formats a 64-bit value as its eight bytes, most significant first (a MAC as it stands on the wire).
    ///
    /// - Parameter value: The value.
    /// - Returns: Sixteen digits, e.g. `"7CF0C178881B87D1"`.
    public static func encode(bigEndian value: UInt64) -> String {
        encode((0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) })
    }

    private static let digits: [Unicode.Scalar] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F",
    ]

    private static func nibbleValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
