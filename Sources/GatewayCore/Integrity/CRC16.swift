/// A table-driven, non-reflected CRC-16 with a configurable polynomial, initial value and output XOR.
///
/// Covers the CRCs the gateway's protocols use: CRC-16/CCITT-FALSE (native frames) and CRC-16/EN-13757
/// (wireless and wired M-Bus blocks). Computing never allocates; the 512-byte table is built once per preset.
public struct CRC16: Sendable {
    /// The generator polynomial without its x^16 term.
    public let polynomial: UInt16
    /// The register's value before the first byte.
    public let initialValue: UInt16
    /// The value XORed into the register to produce the checksum.
    public let xorOut: UInt16
    private let table: InlineArray<256, UInt16>

    /// Builds the lookup table for a non-reflected CRC-16.
    ///
    /// - Parameters:
    ///   - polynomial: The generator polynomial, e.g. `0x1021`.
    ///   - initialValue: The register's starting value.
    ///   - xorOut: The final XOR.
    public init(polynomial: UInt16, initialValue: UInt16, xorOut: UInt16) {
        self.polynomial = polynomial
        self.initialValue = initialValue
        self.xorOut = xorOut
        var table = InlineArray<256, UInt16>(repeating: 0)
        for index in 0..<256 {
            var crc = UInt16(index) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ polynomial : crc << 1
            }
            table[index] = crc
        }
        self.table = table
    }

    /// CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR (check 0x29B1).
    public static let ccittFalse = CRC16(polynomial: 0x1021, initialValue: 0xFFFF, xorOut: 0)

    /// CRC-16/EN-13757: polynomial 0x3D65, initial 0, no reflection, final XOR 0xFFFF (check 0xC2B7).
    public static let en13757 = CRC16(polynomial: 0x3D65, initialValue: 0, xorOut: 0xFFFF)

    /// The checksum of a byte range.
    ///
    /// - Parameter bytes: The covered bytes.
    /// - Returns: The CRC after the final XOR.
    public func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        update(initialValue, with: bytes) ^ xorOut
    }

    /// Advances a raw CRC register over more bytes, for checksums computed in pieces.
    ///
    /// Start from ``initialValue`` and XOR the result with ``xorOut`` after the last piece.
    ///
    /// - Parameters:
    ///   - register: The register after the previous pieces.
    ///   - bytes: The next bytes.
    /// - Returns: The register after `bytes`.
    public func update(_ register: UInt16, with bytes: UnsafeRawBufferPointer) -> UInt16 {
        var crc = register
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }
}

/// CRC-16/CCITT-FALSE, the integrity check of native protocol frames.
public enum CRC16CCITT {
    /// The checksum of a byte range (polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR).
    ///
    /// - Parameter bytes: The covered bytes.
    /// - Returns: The CRC.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        CRC16.ccittFalse.checksum(bytes)
    }
}
