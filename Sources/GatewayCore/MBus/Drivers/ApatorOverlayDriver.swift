/// The `apator08` driver: Apator AT-WMBUS-08 radio overlays, manufacturer code `0x8614` (`APT` with bit 15 set,
/// wire bytes `14 86`), version/type `03/03` or `0F/0F`, CI `A0` with no TPL header
/// (`firmware-protocols/wmbus-drivers.md` §2).
///
/// Layout: bytes 0–3 after the CI are the total register, u32 little-endian, counting thirds of a litre; the
/// bytes after it (historic values, a clock) are not documented anywhere public and are not read. The scale is
/// **inferred** (wmbusmeters divides by 3, "time will tell"), not documented by Apator: the driver runs only when
/// enabled and its reading carries ``MBusFrame/inferredScaleStatusBit``. A third of a litre is not a whole number
/// of millilitres, so the value is rounded to the nearest millilitre (the error is below 0.34 ml; the public
/// decoder prints the same six decimals of m³).
enum ApatorOverlayDriver {
    /// The register bytes.
    static let registerLength = 4

    /// Manufacturer `0x8614`, version/type 03/03 or 0F/0F, CI `A0` (the identities of its row in
    /// ``MBusDriver/all``).
    static func isSelected(_ meter: MBusAddress, at location: MBusDriverLocation) -> Bool {
        guard case .manufacturerCI(0xA0) = location, meter.manufacturerCode == 0x8614 else { return false }
        switch (meter.version, meter.deviceType) {
        case (0x03, 0x03), (0x0F, 0x0F): return true
        default: return false
        }
    }

    static func decode(_ frame: inout MBusFrame, payload: Range<Int>, protectedEnd: Int) throws(FrameDecodingError) {
        guard payload.count >= registerLength else {
            throw FrameDecodingError(.truncated, "driver apator08: fewer than 4 bytes for the total register")
        }
        let start = payload.lowerBound
        let thirds = Int64(frame.bytes.u32le(start))
        // Nearest millilitre of thirds/3 litres: (thirds·1000 + 1) / 3 rounds the remainder 2/3 up and 1/3 down.
        let millilitres = (thirds * 1000 + 1) / 3
        let range = start..<(start + registerLength)
        try frame.appendDriverRecord(
            .driverVolume(
                millilitres: millilitres,
                dataRange: range,
                basis: .unspecified,
                isProtected: range.upperBound <= protectedEnd
            )
        )
    }
}
