// What real meters send beyond the standard: a trailing format-A block CRC after the records (tolerant framing,
// `firmware-protocols/wmbus-oms.md` §6.1a) and manufacturer-specific TPL security modes (§5.6).

extension MBusDecoder {
    // MARK: Trailing block CRC

    /// The trailing bytes that end the record list when the element at `elementStart` failed to parse: the CRC of
    /// the final format-A block as received, lying in the last two bytes, outside the protected part; else `nil`
    /// (the caller rethrows the element's error).
    ///
    /// Only for a wireless frame without CRCs (`received` has L + 1 bytes, and `frame.bytes[i]` is `received[10 + i]`)
    /// and without an AFL MAC or ELL encryption.
    /// The element must start at the first trailing byte, or at the second when the first is `2F` (read as a filler).
    /// The CRC is CRC-16/EN 13757, big-endian, over the received bytes from `10 + 16·k` up to the trailer, where the
    /// data after the 10-byte first block is cut into 16-byte blocks (EN 13757-4 format A).
    static func trailingBlockCRC(
        _ frame: MBusFrame,
        elementStart: Int,
        afterFiller: Bool,
        protectedEnd: Int,
        received: UnsafeRawBufferPointer?
    ) -> MBusTrailingBytes? {
        let end = frame.byteCount
        let start = end - 2
        guard let received, frame.medium == .wireless, frame.link.format == .noCRC else { return nil }
        // An AFL MAC (mode 7) and ELL encryption cover the frame to its end, even when taken as already decrypted.
        guard frame.authentication?.mac == nil, (frame.extendedLink?.encryption ?? 0) == 0 else { return nil }
        guard start >= protectedEnd, start >= 0, received.count == end + 10 else { return nil }
        // The failing element starts at the trailer, or one byte into it when its first byte was read as a `2F`
        // filler (not as the data of the record before it: a fuzzer found that case).
        guard elementStart == start || (elementStart == start + 1 && afterFiller) else { return nil }
        let crcOffset = received.count - 2
        let dataCount = crcOffset - 10
        guard dataCount >= 1 else { return nil }
        let blockStart = 10 + (dataCount - 1) / 16 * 16
        guard blockCRCMatches(received, blockStart..<crcOffset) else { return nil }
        return MBusTrailingBytes(range: start..<end, kind: .blockCRC)
    }

    // MARK: Manufacturer-specific security modes

    /// The manufacturer scheme of the frame's TPL security mode (``MBusManufacturerSecurityMode``), looked up only
    /// for modes 13 and above, by the DLL manufacturer, and only when the TPL follows the DLL directly (the schemes
    /// are described for the CI at frame offset 10, without ELL or AFL).
    static func manufacturerScheme(_ frame: MBusFrame) -> MBusManufacturerSecurityMode.Scheme? {
        let mode = frame.transport.securityMode
        guard mode >= 13, frame.extendedLink == nil, frame.authentication == nil, let link = frame.link.address
        else { return nil }
        return MBusManufacturerSecurityMode.scheme(
            manufacturerCode: link.manufacturerCode,
            mode: mode,
            transportCI: frame.transport.ci,
            control: frame.link.control
        )
    }

    /// Whether the DLL address is sent in Diehl order (M, version, type, ID), as Diehl real-data frames do.
    static func usesDiehlAddressOrder(_ frame: MBusFrame) -> Bool {
        frame.medium == .wireless && manufacturerScheme(frame) == .diehlRealData
    }

    /// Handles a TPL security mode other than 0, 5 and 7: a known manufacturer scheme is refused with its name,
    /// except Diehl real-data content that is already decoded (test data), taken as such only when the caller allows
    /// already-decrypted frames, no key (of the meter's own or a default) is known and the content matches the checksum in the CFG. Returns the
    /// end of the protected part (0: nothing is protected).
    static func readManufacturerSecurityMode(
        _ frame: inout MBusFrame,
        at position: Int,
        keys: inout KeyCache,
        keyring: (MBusAddress) -> MBusKeyring,
        allowAlreadyDecrypted: Bool
    ) throws(FrameDecodingError) -> Int {
        guard let scheme = manufacturerScheme(frame) else {
            throw FrameDecodingError(.unsupportedSecurityMode, "TPL security mode is not 0, 5 or 7")
        }
        guard scheme == .diehlRealData, allowAlreadyDecrypted, position < frame.byteCount else {
            throw FrameDecodingError(.unsupportedSecurityMode, scheme.refusal)
        }
        var sum: UInt8 = 0
        for index in position..<frame.byteCount {
            sum &+= frame.bytes[index]
        }
        guard
            MBusManufacturerSecurityMode.diehlChecksumMatches(
                configuration: frame.transport.configuration ?? 0,
                sum: sum
            ),
            keys.keyring(for: frame.meter, lookup: keyring).isEmpty
        else {
            throw FrameDecodingError(.unsupportedSecurityMode, scheme.refusal)
        }
        frame.security.tpl = .alreadyDecrypted
        frame.security.encryptedByteCount = frame.byteCount - position
        return 0
    }
}

extension MBusAddress {
    /// The address of a DLL sent in Diehl order (M, version, type, ID) that was read the standard way (M, ID,
    /// version, type): wmbusmeters `src/manufacturer_specificities.cc`, address transform `SWAPPING`.
    var inDiehlOrder: MBusAddress {
        MBusAddress(
            manufacturerCode: manufacturerCode,
            id: id >> 16 | UInt32(version) << 16 | UInt32(deviceType) << 24,
            version: UInt8(truncatingIfNeeded: id),
            deviceType: UInt8(truncatingIfNeeded: id >> 8)
        )
    }
}
