/// Packed binary-coded decimal: two digits per byte, high nibble first. The one BCD decoder the CJ/T 188 fields and
/// clock, the CJ/T 188 address and the M-Bus type A records share.
enum BCD {
    /// Whether both nibbles are 0…9.
    @inline(__always)
    static func isValid(_ byte: UInt8) -> Bool { byte >> 4 <= 9 && byte & 0x0F <= 9 }

    /// The two-digit value 0…99, or `nil` if a nibble is above 9.
    @inline(__always)
    static func value(_ byte: UInt8) -> UInt8? { isValid(byte) ? (byte >> 4) * 10 + (byte & 0x0F) : nil }

    /// The BCD byte of a value 0…99.
    @inline(__always)
    static func byte(_ value: Int) -> UInt8 { UInt8(value / 10 % 10) << 4 | UInt8(value % 10) }

    /// The value of `count` BCD bytes, least significant byte first, or `nil` if a nibble is above 9.
    static func littleEndian(_ p: UnsafeRawBufferPointer, at offset: Int, count: Int) -> UInt32? {
        var total: UInt32 = 0
        for index in stride(from: count - 1, through: 0, by: -1) {
            guard let value = value(p[offset + index]) else { return nil }
            total = total &* 100 &+ UInt32(value)
        }
        return total
    }

    /// The signed value of the BCD bytes in `range`, least significant byte first (EN 13757-3 type A), or `nil`
    /// when `range` is empty, a digit is A–F or the value is beyond `Int64`.
    ///
    /// - Parameters:
    ///   - bytes: The frame bytes.
    ///   - range: The field's bytes.
    ///   - signNibbleAllowed: Whether a top nibble `F` (in the most significant byte) means negative.
    ///   - negative: Whether the value is negative regardless of a sign nibble.
    static func signedLittleEndian(
        _ bytes: InlineArray<256, UInt8>,
        _ range: Range<Int>,
        signNibbleAllowed: Bool,
        negative: Bool
    ) -> Int64? {
        guard !range.isEmpty else { return nil }
        var value: Int64 = 0
        var isNegative = negative
        // Most significant byte first; the loop avoids `reversed()`, which allocates in unoptimized builds.
        var index = range.upperBound
        while index > range.lowerBound {
            index -= 1
            let byte = bytes[index]
            let high = byte >> 4
            let low = byte & 0x0F
            if index == range.upperBound - 1 && signNibbleAllowed && high == 0xF {
                isNegative = true
            } else {
                guard high <= 9, let next = appendDigit(value, high) else { return nil }
                value = next
            }
            guard low <= 9, let next = appendDigit(value, low) else { return nil }
            value = next
        }
        return isNegative ? -value : value
    }

    /// `value × 10 + digit`, or `nil` on overflow.
    @inline(__always)
    static func appendDigit(_ value: Int64, _ digit: UInt8) -> Int64? {
        let (product, overflow) = value.multipliedReportingOverflow(by: 10)
        guard !overflow else { return nil }
        let (sum, carry) = product.addingReportingOverflow(Int64(digit))
        return carry ? nil : sum
    }
}
