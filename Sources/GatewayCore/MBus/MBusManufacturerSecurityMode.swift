/// The manufacturer-specific TPL security modes the gateway knows, looked up by manufacturer and mode number.
///
/// EN 13757-7 leaves CFG security modes 16–31 (and 13, 15) to manufacturers. A mode in this table has a documented
/// meaning for that manufacturer; every other mode the decoder does not implement stays `unsupported_security_mode`
/// with the readable header kept. Each entry names its source; nothing is listed on a guess.
///
/// | manufacturers | frames | modes | scheme | the gateway |
/// |---|---|---|---|---|
/// | `DME` `EWT` `HYD` `SAP` `SPL` (Diehl) | C `44`/`46`, CI `7A` | 16–31 | ``Scheme/diehlRealData`` | refuses a live frame; the decode tool takes test data whose checksum matches as already decrypted |
/// | `BMT` (B METERS) | CI `7A` | 16 | ``Scheme/bMetersObfuscated`` | refuses |
///
/// No source shows a manufacturer mode that means "plaintext": the Diehl modes 24 and 29 seen over readable records
/// in public test data are the real-data scheme with its content already decoded (the CFG high byte is the checksum
/// of that content), so a live frame with them carries obfuscated bytes and must not be read as records.
public struct MBusManufacturerSecurityMode: Sendable, Hashable {
    /// A manufacturer's scheme behind a manufacturer-specific security mode.
    public enum Scheme: String, Sendable, Hashable, CaseIterable {
        /// Diehl "real data": CFG bit 12 set on a short-header SND_NR/SND_IR frame; the content after the TPL header
        /// is obfuscated with a 32-bit LFSR keyed by a per-meter or default key, and the other CFG bits of the high
        /// byte (mask `EF`) hold the low bits of the sum of the plain content bytes. Not implemented; the checksum
        /// lets the decode tool recognise already decoded test data.
        /// Source: wmbusmeters `src/manufacturer_specificities.cc` (`detectDiehlFrameInterpretation`,
        /// `decodeDiehlLfsr`, check `CHECKSUM_AND_0XEF`) and the IZAR RS telegrams of `drivers/src/hydrus.xmq`.
        case diehlRealData = "diehl_real_data"
        /// B METERS (RFM-TX1, Hydrodigit radio): constant CFG `1006` (mode 16) with the register values obfuscated
        /// at fixed offsets. Not implemented.
        /// Source: wmbusmeters `src/driver_rfmtx1.cc`, issue wmbusmeters/wmbusmeters#101.
        case bMetersObfuscated = "bmeters_obfuscated"

        /// The fixed error message naming the scheme (never payload bytes).
        var refusal: StaticString {
            switch self {
            case .diehlRealData:
                "TPL security mode 16-31 of a Diehl meter: Diehl real-data (LFSR) content is not supported"
            case .bMetersObfuscated: "TPL security mode 16 of a B METERS meter: obfuscated content is not supported"
            }
        }
    }

    /// The manufacturer code as on the wire (``MBusAddress/manufacturerCode``).
    public var manufacturerCode: UInt16
    /// The security modes (CFG bits 12–8) the entry covers.
    public var modes: ClosedRange<UInt8>
    /// The TPL CI the entry applies to.
    public var transportCI: UInt8
    /// The C fields the entry applies to, or `nil` for any.
    public var controls: [UInt8]?
    /// What the mode means.
    public var scheme: Scheme

    /// The three manufacturer letters, e.g. `HYD`.
    public var manufacturer: String {
        MBusAddress(manufacturerCode: manufacturerCode, id: 0, version: 0, deviceType: 0).manufacturer
    }

    /// The table, in lookup order.
    public static let table: [MBusManufacturerSecurityMode] = {
        // Diehl Metering and its former names: DME 0x11A5, EWT 0x16F4, HYD 0x2324, SAP 0x4C30, SPL 0x4E0C.
        let diehl: [UInt16] = [0x11A5, 0x16F4, 0x2324, 0x4C30, 0x4E0C]
        var table = diehl.map {
            MBusManufacturerSecurityMode(
                manufacturerCode: $0,
                modes: 16...31,
                transportCI: 0x7A,
                controls: [0x44, 0x46],
                scheme: .diehlRealData
            )
        }
        // B METERS: BMT 0x09B4.
        table.append(
            MBusManufacturerSecurityMode(
                manufacturerCode: 0x09B4,
                modes: 16...16,
                transportCI: 0x7A,
                controls: nil,
                scheme: .bMetersObfuscated
            )
        )
        return table
    }()

    /// The scheme of a manufacturer-specific security mode, or `nil` when the table does not know it.
    ///
    /// Allocation-free: it walks the static table.
    /// - Parameters:
    ///   - manufacturerCode: The meter's manufacturer code.
    ///   - mode: The TPL security mode.
    ///   - transportCI: The TPL CI.
    ///   - control: The link-layer C field.
    /// - Returns: The scheme, or `nil`.
    public static func scheme(
        manufacturerCode: UInt16,
        mode: UInt8,
        transportCI: UInt8,
        control: UInt8
    ) -> Scheme? {
        for entry in table
        where entry.manufacturerCode == manufacturerCode && entry.modes.contains(mode)
            && entry.transportCI == transportCI
        {
            if let controls = entry.controls, !controls.contains(control) { continue }
            return entry.scheme
        }
        return nil
    }

    /// Whether already decoded Diehl real-data content matches the checksum its CFG carries: the sum of the
    /// content bytes, modulo 256, equals the CFG high byte in every bit but bit 4 (CFG bit 12, the real-data flag).
    ///
    /// - Parameters:
    ///   - configuration: The CFG word.
    ///   - sum: The sum of the content bytes after the TPL header, modulo 256.
    /// - Returns: Whether they match.
    static func diehlChecksumMatches(configuration: UInt16, sum: UInt8) -> Bool {
        (UInt8(truncatingIfNeeded: configuration >> 8) & 0xEF) == (sum & 0xEF)
    }
}
