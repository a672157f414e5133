/// Guesses the protocol of a frame from its bytes, for collector topics that mix protocols.
///
/// Only the framing is looked at (no checksum), in this order:
/// 1. `47 4D` ("GM"): native.
/// 2. `68 L L 68 … 16` with the length matching L: wired M-Bus long frame.
/// 3. `FE` wake-up bytes, or `68 … 16` whose first byte is not a wireless length (L + 1 ≠ size): CJ/T 188. Vendor
///    push frames that only look like CJ/T 188 land here too, and its decoder tells them apart (`vendor_frame`).
/// 4. Anything else: wireless M-Bus, whose first byte is the length L.
///
/// The guess only chooses a decoder; the decoder checks everything, so a wrong guess fails closed (the frame is
/// quarantined with that decoder's reason, raw bytes kept). The one ambiguous shape is a wireless format-A frame
/// with L = `68` whose last CRC byte happens to be `16`: it is tried as CJ/T 188.
public enum FrameSniffer {
    /// The protocol whose decoder should see `bytes`.
    /// - Parameter bytes: One frame.
    /// - Returns: The protocol to try.
    public static func guess(_ bytes: UnsafeRawBufferPointer) -> FrameProtocol {
        let count = bytes.count
        if count >= 2, bytes[0] == 0x47, bytes[1] == 0x4D { return .native }
        if count >= 6, bytes[0] == 0x68, bytes[3] == 0x68, bytes[1] == bytes[2], count == Int(bytes[1]) + 6,
            bytes[count - 1] == 0x16
        {
            return .mbus
        }
        if count >= 2, bytes[0] == 0xFE { return .cjt188 }
        if count >= 13, bytes[0] == 0x68, bytes[count - 1] == 0x16, count != 0x68 + 1 { return .cjt188 }
        return .wmbus
    }
}
