/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), used to detect torn or corrupt spool records.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { index -> UInt32 in
        var crc = UInt32(index)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
        return crc
    }

    /// Continues a checksum over `bytes`. Start with `0` and feed the result of the previous call.
    /// - Parameters:
    ///   - bytes: The bytes to add.
    ///   - crc: The checksum so far (`0` for a fresh checksum).
    /// - Returns: The checksum including `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var value = ~crc
        table.withUnsafeBufferPointer { table in
            for byte in bytes {
                value = table[Int((value ^ UInt32(byte)) & 0xFF)] ^ (value >> 8)
            }
        }
        return ~value
    }
}
