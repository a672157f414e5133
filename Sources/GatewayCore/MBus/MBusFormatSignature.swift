// The record layout of a full frame (its DIF/VIF chain) and the format signature that names it in compact frames
// (EN 13757-3 compact frames, OMS Vol. 2; see firmware-protocols/wmbus-oms.md "Compact frames").

/// The DIF/VIF chain of a full frame's records, without their values: what a compact frame (CI `79`, `7B`, `73`)
/// leaves out and names by its format signature.
///
/// The layout holds every record's DIF, DIFEs, VIF (with its `FB`/`FD` extension code or plain-text unit) and VIFEs,
/// in order, with no `2F` fillers; a record's LVAR length byte belongs to its value, not to the layout. The format
/// signature is CRC-16/EN-13757 over these bytes (``MBusFormatSignature/compute(_:)``).
///
/// Layouts are built from decoded full frames (``MBusFrame/recordLayout``) or loaded from storage
/// (``init(bytes:)`` checks the chain), and handed to the decoder through its `layout` closure.
public struct MBusRecordLayout: Sendable, Hashable {
    /// The most records a layout may describe (a wireless frame holds at most 255 bytes).
    public static let maximumByteCount = 255

    /// The DIF/VIF chain bytes.
    public let bytes: [UInt8]
    /// The format signature of ``bytes``.
    public let signature: UInt16
    /// The number of records the chain describes.
    public let recordCount: Int

    /// Checks and wraps a stored DIF/VIF chain.
    ///
    /// - Parameter bytes: The chain: one or more complete record headers, no fillers, no manufacturer-data DIF
    ///   (`0F`/`1F`), no special-function DIF.
    /// - Returns: `nil` when the bytes are not such a chain or exceed ``maximumByteCount``.
    public init?(bytes: [UInt8]) {
        guard !bytes.isEmpty, bytes.count <= Self.maximumByteCount else { return nil }
        var count = 0
        var position = 0
        while position < bytes.count {
            guard (try? MBusDecoder.readLayoutHeader(bytes, at: &position)) != nil else { return nil }
            count += 1
        }
        self.bytes = bytes
        self.recordCount = count
        self.signature = bytes.withUnsafeBytes { MBusFormatSignature.compute($0) }
    }

    /// The chain as uppercase hex (allocates).
    public var hex: String { Hex.encode(bytes) }
}

/// The EN 13757-3 / OMS format signature: CRC-16/EN-13757 (polynomial `3D65`, initial 0, final XOR `FFFF`) over a
/// full frame's DIF/VIF chain, sent little-endian right after the compact frame's TPL header.
///
/// Checked on a public pair (Kamstrup, `lvogt/wireless-mbus-parser` `test/parser.spec.ts`): the full frame's chain
/// `02F9FF15 0406 04EEFF07 …` gives `82DD`, the compact frame carries `DD 82`; the full-frame CRC over the full
/// frame's records (DIF/VIF and values, no fillers) gives `8392`, the compact frame carries `92 83`.
public enum MBusFormatSignature {
    /// The signature of a DIF/VIF chain.
    ///
    /// - Parameter chain: The layout bytes.
    /// - Returns: The CRC-16/EN-13757 of `chain`.
    public static func compute(_ chain: UnsafeRawBufferPointer) -> UInt16 {
        CRC16.en13757.checksum(chain)
    }
}

extension MBusFrame {
    /// The format signature of a full data frame's records, computed in place (never allocates), or `nil` when
    /// the frame has no layout a compact frame could name: not a data frame, a compact frame itself, no records,
    /// more records than the frame keeps, manufacturer data (`0F`/`1F`) after the records, or records a driver read
    /// (they have no DIF/VIF chain).
    public var formatSignature: UInt16? {
        guard hasRecordLayout else { return nil }
        var crc = CRC16.en13757.initialValue
        bytes.span.withUnsafeBytes { raw in
            for index in 0..<recordCount {
                let range = records[index].headerRange
                crc = CRC16.en13757.update(crc, with: UnsafeRawBufferPointer(rebasing: raw[range]))
            }
        }
        return crc ^ CRC16.en13757.xorOut
    }

    /// The full frame's record layout (allocates), or `nil` as for ``formatSignature``.
    public var recordLayout: MBusRecordLayout? {
        guard hasRecordLayout else { return nil }
        var chain: [UInt8] = []
        for index in 0..<recordCount {
            chain.append(contentsOf: self.bytes(in: records[index].headerRange))
        }
        return MBusRecordLayout(bytes: chain)
    }

    /// Whether `layout` is exactly this full frame's DIF/VIF chain (compares in place, never allocates).
    ///
    /// - Parameter layout: A stored layout.
    /// - Returns: `true` when the chains are byte for byte the same.
    public func hasRecordLayout(_ layout: MBusRecordLayout) -> Bool {
        guard hasRecordLayout else { return false }
        var offset = 0
        for index in 0..<recordCount {
            for position in records[index].headerRange {
                guard offset < layout.bytes.count, layout.bytes[offset] == bytes[position] else { return false }
                offset += 1
            }
        }
        return offset == layout.bytes.count
    }

    private var hasRecordLayout: Bool {
        kind == .data && compact == nil && driver == nil && recordCount > 0 && droppedRecordCount == 0
            && manufacturerDataRange == nil
    }
}
