// The link layers: wireless (EN 13757-4, formats A and B) and wired (EN 13757-2) framing with their CRCs and
// checksums, the C field, and the extended link layer (ELL) with its AES-CTR encryption.

extension MBusDecoder {
    // MARK: Link layer

    static func readWirelessLink(
        _ raw: UnsafeRawBufferPointer,
        format requested: MBusFrameFormat?
    ) throws(FrameDecodingError) -> MBusFrame {
        guard raw.count >= 1 else {
            throw FrameDecodingError(.truncated, "empty frame")
        }
        let length = Int(raw[0])
        guard length >= 10 else {
            throw FrameDecodingError(.badLength, "L field: below the 10 bytes of C, M, A and CI")
        }
        let format: MBusFrameFormat
        switch requested {
        case nil:
            if raw.count == length + 1 {
                format = .noCRC
            } else if raw.count < length + 1 {
                throw FrameDecodingError(.truncated, "fewer bytes than the L field declares")
            } else {
                format = .formatA
            }
        case .noCRC?, .formatA?, .formatB?:
            format = requested ?? .noCRC
        case .wiredLongFrame?:
            throw FrameDecodingError(.badFrame, "a wired long frame is not a wireless frame format")
        }
        guard raw.count >= 10 else {
            throw FrameDecodingError(.truncated, "fewer than the 10 bytes of the first block")
        }
        let address = MBusAddress(
            manufacturerCode: raw.u16le(2),
            id: raw.u32le(4),
            version: raw[8],
            deviceType: raw[9]
        )
        var frame = MBusFrame(
            medium: .wireless,
            link: MBusLinkLayer(format: format, length: raw[0], control: raw[1], address: address, primaryAddress: nil)
        )
        switch format {
        case .noCRC:
            guard raw.count >= length + 1 else {
                throw FrameDecodingError(.truncated, "fewer bytes than the L field declares")
            }
            guard raw.count == length + 1 else {
                throw FrameDecodingError(.badLength, "more bytes than the L field declares")
            }
            frame.append(raw, 10..<(length + 1))
        case .formatA:
            let dataCount = length - 9
            let blockCount = (dataCount + 15) / 16
            let expected = length + 1 + 2 + 2 * blockCount
            guard raw.count >= expected else {
                throw FrameDecodingError(.truncated, "format A: fewer bytes than L and the block CRCs need")
            }
            guard raw.count == expected else {
                throw FrameDecodingError(.badLength, "format A: more bytes than L and the block CRCs need")
            }
            guard blockCRCMatches(raw, 0..<10) else {
                throw FrameDecodingError(.badCRC, "format A: the CRC of block 1 does not match")
            }
            var offset = 12
            var remaining = dataCount
            while remaining > 0 {
                let size = min(16, remaining)
                guard blockCRCMatches(raw, offset..<(offset + size)) else {
                    throw FrameDecodingError(.badCRC, "format A: the CRC of a data block does not match")
                }
                frame.append(raw, offset..<(offset + size))
                offset += size + 2
                remaining -= size
            }
        case .formatB:
            let total = length + 1
            guard raw.count >= total else {
                throw FrameDecodingError(.truncated, "format B: fewer bytes than the L field declares")
            }
            guard raw.count == total else {
                throw FrameDecodingError(.badLength, "format B: more bytes than the L field declares")
            }
            guard total >= 13 else {
                throw FrameDecodingError(.badLength, "format B: L below block 1, a CI and the CRC")
            }
            let block2End = min(total, 128) - 2
            guard blockCRCMatches(raw, 0..<block2End) else {
                throw FrameDecodingError(.badCRC, "format B: the CRC of blocks 1 and 2 does not match")
            }
            frame.append(raw, 10..<block2End)
            if total > 128 {
                guard total >= 131 else {
                    throw FrameDecodingError(.badLength, "format B: block 3 holds no data before its CRC")
                }
                guard blockCRCMatches(raw, 128..<(total - 2)) else {
                    throw FrameDecodingError(.badCRC, "format B: the CRC of block 3 does not match")
                }
                frame.append(raw, 128..<(total - 2))
            }
        case .wiredLongFrame:
            throw FrameDecodingError(.badFrame, "a wired long frame is not a wireless frame format")
        }
        return frame
    }

    /// Whether the big-endian CRC-16/EN-13757 right after `range` matches the bytes in `range`.
    static func blockCRCMatches(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        let computed = CRC16.en13757.checksum(UnsafeRawBufferPointer(rebasing: raw[range]))
        let sent = raw.u16(range.upperBound)
        return computed == sent
    }

    static func readWiredLink(_ raw: UnsafeRawBufferPointer) throws(FrameDecodingError) -> MBusFrame {
        guard raw.count >= 1 else {
            throw FrameDecodingError(.truncated, "empty frame")
        }
        switch raw[0] {
        case 0xE5:
            guard raw.count == 1 else {
                throw FrameDecodingError(.badLength, "bytes after the single-character acknowledgement E5")
            }
            throw FrameDecodingError(.unsupportedFrame, "single-character acknowledgement E5 (no data)")
        case 0x10:
            guard raw.count >= 5 else {
                throw FrameDecodingError(.truncated, "short frame: fewer than 5 bytes")
            }
            guard raw.count == 5 else {
                throw FrameDecodingError(.badLength, "short frame: more than 5 bytes")
            }
            guard raw[4] == 0x16 else {
                throw FrameDecodingError(.badFrame, "short frame: the stop byte is not 16")
            }
            guard raw[1] &+ raw[2] == raw[3] else {
                throw FrameDecodingError(.badChecksum, "short frame: the checksum does not match")
            }
            throw FrameDecodingError(.unsupportedFrame, "short frame (a request without data)")
        case 0x68:
            guard raw.count >= 4 else {
                throw FrameDecodingError(.truncated, "long frame: fewer than the 4 header bytes")
            }
            guard raw[3] == 0x68 else {
                throw FrameDecodingError(.badFrame, "long frame: the second start byte is not 68")
            }
            guard raw[1] == raw[2] else {
                throw FrameDecodingError(.badLength, "long frame: the two L fields differ")
            }
            let length = Int(raw[1])
            guard length >= 3 else {
                throw FrameDecodingError(.badLength, "long frame: L below C, A and CI")
            }
            guard raw.count >= length + 6 else {
                throw FrameDecodingError(.truncated, "long frame: fewer bytes than the L field declares")
            }
            guard raw.count == length + 6 else {
                throw FrameDecodingError(.badLength, "long frame: more bytes than the L field declares")
            }
            guard raw[length + 5] == 0x16 else {
                throw FrameDecodingError(.badFrame, "long frame: the stop byte is not 16")
            }
            var sum: UInt8 = 0
            for index in 4..<(4 + length) {
                sum &+= raw[index]
            }
            guard sum == raw[4 + length] else {
                throw FrameDecodingError(.badChecksum, "long frame: the checksum does not match")
            }
            var frame = MBusFrame(
                medium: .wired,
                link: MBusLinkLayer(
                    format: .wiredLongFrame,
                    length: raw[1],
                    control: raw[4],
                    address: nil,
                    primaryAddress: raw[5]
                )
            )
            frame.append(raw, 6..<(4 + length))
            return frame
        default:
            throw FrameDecodingError(.badFrame, "the start byte is not 68, 10 or E5")
        }
    }

    // MARK: Extended link layer

    static func readExtendedLink(_ frame: inout MBusFrame, at position: inout Int) throws(FrameDecodingError) {
        let ci = frame.bytes[position]
        let size: Int
        switch ci {
        case 0x8C: size = 3
        case 0x8D: size = 7
        case 0x8E: size = 11
        default: size = 15
        }
        guard frame.medium == .wireless else {
            throw FrameDecodingError(.unsupportedFrame, "ELL in a wired frame")
        }
        guard position + size <= frame.byteCount else {
            throw FrameDecodingError(.truncated, "ELL: fewer bytes than its header")
        }
        let start = position
        var address: MBusAddress? = nil
        var session: UInt32? = nil
        if ci == 0x8E || ci == 0x8F {
            address = MBusAddress(
                manufacturerCode: frame.bytes.u16le(start + 3),
                id: frame.bytes.u32le(start + 5),
                version: frame.bytes[start + 9],
                deviceType: frame.bytes[start + 10]
            )
        }
        if ci == 0x8D { session = frame.bytes.u32le(start + 3) }
        if ci == 0x8F { session = frame.bytes.u32le(start + 11) }
        frame.extendedLink = MBusExtendedLinkLayer(
            ci: ci,
            communicationControl: frame.bytes[start + 1],
            accessNumber: frame.bytes[start + 2],
            address: address,
            sessionNumber: session
        )
        position += size
    }

    /// The identity whose keyring opened an ELL, and which kind of key it was.
    struct ExtendedLinkOpening {
        /// The ELL address (`8F`) or the DLL address (`8D`).
        var identity: MBusAddress
        var source: KeySource?
    }

    /// Removes ELL AES-128-CTR encryption (ENC = 1) in place and checks the PayloadCRC.
    ///
    /// The key is that of the ELL's identity, which need not be the frame's meter (a TPL long header inside may name
    /// another), so the key is not credited here (``MBusSecurity/keySource``): the caller does that once the meter
    /// is known, and only when the identity is the meter.
    /// - Returns: Whose keyring opened the ELL; `nil` when it was taken as already decrypted.
    static func decryptExtendedLink(
        _ frame: inout MBusFrame,
        at position: inout Int,
        keys: inout KeyCache,
        keyring: (MBusAddress) -> MBusKeyring,
        allowAlreadyDecrypted: Bool
    ) throws(FrameDecodingError) -> ExtendedLinkOpening? {
        guard let ell = frame.extendedLink, let session = ell.sessionNumber,
            let identity = ell.address ?? frame.link.address
        else {
            throw FrameDecodingError(.badFrame, "ELL: no address for the encrypted part")
        }
        guard frame.byteCount - position >= 3 else {
            throw FrameDecodingError(.truncated, "ELL: encrypted part shorter than PayloadCRC and a CI")
        }
        let wasPlain = frame.payloadCRCMatches(at: position)
        let candidates = keys.keyring(for: identity, lookup: keyring)
        guard !candidates.isEmpty else {
            guard allowAlreadyDecrypted && wasPlain else {
                throw FrameDecodingError(.unknownMeter, "no key is registered for the ELL address")
            }
            frame.security.ell = .alreadyDecrypted
            position += 2
            return nil
        }
        // IV = M(2) A(6) (CC & EF) SN(4) FN(2) = 0 BC(1) = 0, all as on the wire.
        var start = AES128.Block.zero
        identity.store(into: &start, at: 0)
        start[byte: 8] = ell.communicationControl & 0xEF
        start[byte: 9] = UInt8(truncatingIfNeeded: session)
        start[byte: 10] = UInt8(truncatingIfNeeded: session >> 8)
        start[byte: 11] = UInt8(truncatingIfNeeded: session >> 16)
        start[byte: 12] = UInt8(truncatingIfNeeded: session >> 24)
        let range = position..<frame.byteCount
        // CTR applied twice with the same key is the identity, so a key whose PayloadCRC fails is undone before the
        // next one is tried.
        var opened = false
        for index in 0..<candidates.count {
            frame.applyCTR(range, counter: start, with: candidates[index])
            if frame.payloadCRCMatches(at: position) {
                opened = true
                break
            }
            frame.applyCTR(range, counter: start, with: candidates[index])
        }
        guard opened else {
            if wasPlain {
                throw FrameDecodingError(
                    .alreadyDecrypted,
                    "ELL: marked encrypted but already plaintext while a key is registered"
                )
            }
            if candidates.source == .manufacturerDefault {
                throw FrameDecodingError(
                    .wrongKey,
                    "ELL: the PayloadCRC matches under none of the manufacturer's default keys"
                )
            }
            throw FrameDecodingError(.wrongKey, "ELL: the PayloadCRC does not match after AES-CTR decryption")
        }
        frame.security.ell = .decrypted
        position += 2
        return ExtendedLinkOpening(identity: identity, source: candidates.source)
    }
}

extension MBusFrame {
    /// Appends raw bytes to ``bytes`` (the caller keeps the total within the capacity).
    mutating func append(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) {
        for index in range where byteCount < Self.byteCapacity {
            bytes[byteCount] = raw[index]
            byteCount += 1
        }
    }

    /// Applies AES-CTR from the counter block `counter` to `range` in place (decrypts, or undoes a decryption).
    mutating func applyCTR(_ range: Range<Int>, counter: AES128.Block, with key: AES128Key) {
        var counter = counter
        var span = bytes.mutableSpan
        span.withUnsafeMutableBytes { raw in
            AES128.applyCTR(UnsafeMutableRawBufferPointer(rebasing: raw[range]), counter: &counter, with: key)
        }
    }

    /// Whether the little-endian PayloadCRC at `offset` matches CRC-16/EN-13757 over the rest of the frame.
    func payloadCRCMatches(at offset: Int) -> Bool {
        let sent = bytes.u16le(offset)
        let computed = bytes.span.withUnsafeBytes { raw in
            CRC16.en13757.checksum(UnsafeRawBufferPointer(rebasing: raw[(offset + 2)..<byteCount]))
        }
        return sent == computed
    }
}
