/// Builds secured wireless M-Bus frames the way a meter does, for the simulators, the fault campaign and tests.
/// The gateway itself only decodes M-Bus.
public enum MBusEncoder {
    /// Encrypts a plain wireless frame (no DLL CRCs, CI `7A` short TPL header) with OMS security profile A (mode 5):
    /// the content after the header gets the `2F 2F` prefix, is padded with `2F` fillers to whole 16-byte blocks,
    /// and is encrypted with AES-128-CBC under IV = M(2) A(6) ACC×8; the CFG field is set to mode 5 with the block
    /// count, and L is updated. The TPL header (access number, status byte, CFG) stays plain, as mode 5 leaves it.
    ///
    /// - Parameters:
    ///   - frame: `L C M(2) A(6) 7A ACC STS CFG(2) records…`, without CRCs and without the `2F 2F` prefix.
    ///   - key: The meter's AES-128 key.
    /// - Returns: The mode-5 frame, or `nil` when `frame` is not a short-header frame of a consistent length or the
    ///   content needs more than 15 blocks.
    public static func encryptMode5(_ frame: [UInt8], key: AES128Key) -> [UInt8]? {
        let contentStart = 15
        guard frame.count >= contentStart, frame[10] == 0x7A, Int(frame[0]) == frame.count - 1 else { return nil }
        var content: [UInt8] = [0x2F, 0x2F] + frame[contentStart...]
        while content.count % AES128.blockSize != 0 { content.append(0x2F) }
        let blocks = content.count / AES128.blockSize
        guard blocks <= 15, contentStart + content.count - 1 <= 255 else { return nil }
        var iv = AES128.Block.zero
        for index in 0..<8 { iv[byte: index] = frame[2 + index] }
        for index in 8..<16 { iv[byte: index] = frame[11] }
        content.withUnsafeMutableBytes { _ = AES128.encryptCBC($0, iv: iv, with: key) }
        var result = Array(frame[..<contentStart])
        result[13] = (result[13] & 0x0F) | UInt8(blocks << 4)
        result[14] = (result[14] & 0xE0) | 0x05
        result += content
        result[0] = UInt8(result.count - 1)
        return result
    }
}
