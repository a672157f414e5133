/// Decodes wireless (EN 13757-4) and wired (EN 13757-2) M-Bus frames with the EN 13757-3 application layer and the
/// OMS security profiles A (mode 5) and B (mode 7), plus ELL AES-CTR (`firmware-protocols/wmbus-oms.md`).
///
/// Decoding reads borrowed bytes, decrypts into the frame's fixed `InlineArray`, never allocates and never traps:
/// every failure is a typed ``FrameDecodingError``, and no partly decoded or partly decrypted content escapes.
/// Checks run in a fixed order (link framing and CRC/checksum, C field, ELL, AFL, TPL header, security, records),
/// so the same bytes always give the same error.
///
/// Key lookup uses the meter identity at the point a key is needed: the ELL address (`8F`) or DLL address (`8D`)
/// for ELL AES-CTR; the TPL long-header address (CI `72`) when present, else the DLL address, for TPL modes 5 and 7.
/// The `key` closure is called at most once per distinct identity.
public enum MBusDecoder {
    /// The most records a frame keeps (``MBusFrame/maximumRecordCount``).
    public static let maximumRecordCount = MBusFrame.maximumRecordCount

    /// Decodes one wireless M-Bus frame (L C M A CI …), with or without DLL CRCs.
    ///
    /// - Parameters:
    ///   - bytes: One complete frame as received: `L` first, format-A/B CRCs included or already removed.
    ///   - key: Returns the meter's AES-128 key for an identity, or `nil` if none is registered.
    ///   - allowAlreadyDecrypted: Accept a frame whose "encrypted" part is already plaintext (starts with `2F 2F`, or
    ///     has a matching ELL PayloadCRC) when `key` returns `nil`. Only for the decode tool and replays of
    ///     wmbusmeters-style test data; the live pipeline passes `false`.
    ///   - frameFormat: `nil` detects the link format (length L + 1 ⇒ no CRCs, longer ⇒ format A). Format B has the
    ///     same length as a frame without CRCs, so it is only used when passed as ``MBusFrameFormat/formatB``.
    /// - Returns: The decoded frame.
    /// - Throws: ``FrameDecodingError`` naming the first check that failed.
    public static func decodeWireless(
        _ bytes: UnsafeRawBufferPointer,
        key: (MBusAddress) -> AES128Key?,
        allowAlreadyDecrypted: Bool,
        frameFormat: MBusFrameFormat? = nil
    ) throws(FrameDecodingError) -> MBusFrame {
        var frame = try readWirelessLink(bytes, format: frameFormat)
        try decodeLayers(&frame, key: key, allowAlreadyDecrypted: allowAlreadyDecrypted)
        return frame
    }

    /// Decodes one wired M-Bus long frame `68 L L 68 C A CI … CS 16` with a long TPL header (CI `72`, `75`, `6F`).
    ///
    /// - Parameters:
    ///   - bytes: One complete frame from the `68` start byte to the `16` stop byte.
    ///   - key: Returns the meter's AES-128 key for the long header's identity, or `nil`.
    ///   - allowAlreadyDecrypted: As for ``decodeWireless(_:key:allowAlreadyDecrypted:frameFormat:)``.
    /// - Returns: The decoded frame.
    /// - Throws: ``FrameDecodingError`` naming the first check that failed.
    public static func decodeWired(
        _ bytes: UnsafeRawBufferPointer,
        key: (MBusAddress) -> AES128Key?,
        allowAlreadyDecrypted: Bool
    ) throws(FrameDecodingError) -> MBusFrame {
        var frame = try readWiredLink(bytes)
        try decodeLayers(&frame, key: key, allowAlreadyDecrypted: allowAlreadyDecrypted)
        return frame
    }

    /// Reads the header fields without a key and without decrypting, e.g. to quarantine a frame with
    /// `unsupported_security_mode` and still record which meter sent it.
    ///
    /// The link framing and CRCs (or wired checksum) are checked; the ELL, AFL and TPL headers are read as far as
    /// they are readable (an ELL-encrypted frame hides its TPL). Nothing in the result is authenticated.
    ///
    /// - Parameters:
    ///   - bytes: One complete frame.
    ///   - isWired: `true` for a wired long frame, `false` for a wireless frame.
    ///   - frameFormat: For wireless frames, as in ``decodeWireless(_:key:allowAlreadyDecrypted:frameFormat:)``.
    /// - Returns: The header, or `nil` when the link layer itself is not valid.
    public static func peekHeader(
        _ bytes: UnsafeRawBufferPointer,
        isWired: Bool,
        frameFormat: MBusFrameFormat? = nil
    ) -> MBusHeader? {
        var frame: MBusFrame
        do throws(FrameDecodingError) {
            frame = isWired ? try readWiredLink(bytes) : try readWirelessLink(bytes, format: frameFormat)
        } catch {
            return nil
        }
        var header = MBusHeader(
            medium: frame.medium,
            link: frame.link,
            extendedLink: nil,
            authentication: nil,
            transport: nil
        )
        var position = 0
        do throws(FrameDecodingError) {
            if position < frame.byteCount, (0x8C...0x8F).contains(frame.bytes[position]) {
                try readExtendedLink(&frame, at: &position)
                header.extendedLink = frame.extendedLink
                guard frame.extendedLink?.encryption == 0 else { return header }
            }
            if position < frame.byteCount, frame.bytes[position] == 0x90 {
                _ = try readAuthentication(&frame, at: &position)
                header.authentication = frame.authentication
            }
            try readTransportHeader(&frame, at: &position)
            header.transport = frame.transport
        } catch {
            header.authentication = header.authentication ?? frame.authentication
        }
        return header
    }

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
        let sent = UInt16(raw[range.upperBound]) << 8 | UInt16(raw[range.upperBound + 1])
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

    // MARK: Layers

    static func decodeLayers(
        _ frame: inout MBusFrame,
        key: (MBusAddress) -> AES128Key?,
        allowAlreadyDecrypted: Bool
    ) throws(FrameDecodingError) {
        guard frame.link.direction != .unknown else {
            throw FrameDecodingError(.unsupportedFrame, "C field: not a data telegram function (ACK or reserved)")
        }
        var keys = KeyCache()
        var position = 0
        var protectedEnd = 0
        if position < frame.byteCount, (0x8C...0x8F).contains(frame.bytes[position]) {
            try readExtendedLink(&frame, at: &position)
            if let ell = frame.extendedLink, ell.sessionNumber != nil {
                switch ell.encryption {
                case 0:
                    break
                case 1:
                    try decryptExtendedLink(
                        &frame,
                        at: &position,
                        keys: &keys,
                        key: key,
                        allowAlreadyDecrypted: allowAlreadyDecrypted
                    )
                    if frame.security.ell == .decrypted { protectedEnd = frame.byteCount }
                default:
                    throw FrameDecodingError(.unsupportedSecurityMode, "ELL: session number ENC is not 0 or 1")
                }
            }
        }
        var authentication: AuthenticationFields? = nil
        if position < frame.byteCount, frame.bytes[position] == 0x90 {
            authentication = try readAuthentication(&frame, at: &position)
        }
        let transportStart = position
        try readTransportHeader(&frame, at: &position)
        guard let meter = frame.transport.address ?? frame.link.address else {
            throw FrameDecodingError(.unsupportedFrame, "wired frame without a long TPL header (no meter identity)")
        }
        frame.meter = meter
        let securedEnd = try removeTransportSecurity(
            &frame,
            at: position,
            transportStart: transportStart,
            authentication: authentication,
            keys: &keys,
            key: key,
            allowAlreadyDecrypted: allowAlreadyDecrypted
        )
        protectedEnd = max(protectedEnd, securedEnd)
        switch frame.kind {
        case .data:
            try readRecords(&frame, from: position, protectedEnd: protectedEnd)
        case .alarm, .applicationError:
            frame.payloadRange = position..<frame.byteCount
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
                manufacturerCode: frame.u16le(start + 3),
                id: frame.u32le(start + 5),
                version: frame.bytes[start + 9],
                deviceType: frame.bytes[start + 10]
            )
        }
        if ci == 0x8D { session = frame.u32le(start + 3) }
        if ci == 0x8F { session = frame.u32le(start + 11) }
        frame.extendedLink = MBusExtendedLinkLayer(
            ci: ci,
            communicationControl: frame.bytes[start + 1],
            accessNumber: frame.bytes[start + 2],
            address: address,
            sessionNumber: session
        )
        position += size
    }

    /// Removes ELL AES-128-CTR encryption (ENC = 1) in place and checks the PayloadCRC.
    static func decryptExtendedLink(
        _ frame: inout MBusFrame,
        at position: inout Int,
        keys: inout KeyCache,
        key: (MBusAddress) -> AES128Key?,
        allowAlreadyDecrypted: Bool
    ) throws(FrameDecodingError) {
        guard let ell = frame.extendedLink, let session = ell.sessionNumber,
            let identity = ell.address ?? frame.link.address
        else {
            throw FrameDecodingError(.badFrame, "ELL: no address for the encrypted part")
        }
        guard frame.byteCount - position >= 3 else {
            throw FrameDecodingError(.truncated, "ELL: encrypted part shorter than PayloadCRC and a CI")
        }
        let wasPlain = frame.payloadCRCMatches(at: position)
        guard let meterKey = keys.key(for: identity, lookup: key) else {
            guard allowAlreadyDecrypted && wasPlain else {
                throw FrameDecodingError(.unknownMeter, "no key is registered for the ELL address")
            }
            frame.security.ell = .alreadyDecrypted
            position += 2
            return
        }
        // IV = M(2) A(6) (CC & EF) SN(4) FN(2) = 0 BC(1) = 0, all as on the wire.
        var counter = AES128.Block.zero
        identity.store(into: &counter, at: 0)
        counter[byte: 8] = ell.communicationControl & 0xEF
        counter[byte: 9] = UInt8(truncatingIfNeeded: session)
        counter[byte: 10] = UInt8(truncatingIfNeeded: session >> 8)
        counter[byte: 11] = UInt8(truncatingIfNeeded: session >> 16)
        counter[byte: 12] = UInt8(truncatingIfNeeded: session >> 24)
        let range = position..<frame.byteCount
        var span = frame.bytes.mutableSpan
        span.withUnsafeMutableBytes { raw in
            AES128.applyCTR(UnsafeMutableRawBufferPointer(rebasing: raw[range]), counter: &counter, with: meterKey)
        }
        guard frame.payloadCRCMatches(at: position) else {
            if wasPlain {
                throw FrameDecodingError(
                    .alreadyDecrypted,
                    "ELL: marked encrypted but already plaintext while a key is registered"
                )
            }
            throw FrameDecodingError(.wrongKey, "ELL: the PayloadCRC does not match after AES-CTR decryption")
        }
        frame.security.ell = .decrypted
        position += 2
    }

    // MARK: Authentication and fragmentation layer

    /// The AFL plus the offsets of the fields the MAC covers.
    struct AuthenticationFields {
        var messageControlOffset: Int?
        var messageCounterOffset: Int?
        var messageLengthOffset: Int?
    }

    static func readAuthentication(
        _ frame: inout MBusFrame,
        at position: inout Int
    ) throws(FrameDecodingError) -> AuthenticationFields {
        guard frame.medium == .wireless else {
            throw FrameDecodingError(.unsupportedFrame, "AFL in a wired frame")
        }
        guard position + 2 <= frame.byteCount else {
            throw FrameDecodingError(.truncated, "AFL: fewer bytes than CI and AFLL")
        }
        let fieldsLength = Int(frame.bytes[position + 1])
        let end = position + 2 + fieldsLength
        guard end <= frame.byteCount else {
            throw FrameDecodingError(.truncated, "AFL: AFLL exceeds the frame")
        }
        guard fieldsLength >= 2 else {
            throw FrameDecodingError(.badLength, "AFL: AFLL below the 2-byte FCL")
        }
        var cursor = position + 2
        let fcl = frame.u16le(cursor)
        cursor += 2
        var fields = AuthenticationFields()
        var layer = MBusAuthenticationLayer(
            fragmentControl: fcl,
            messageControl: nil,
            keyInformation: nil,
            messageCounter: nil,
            mac: nil,
            messageLength: nil
        )
        if fcl & 0x2000 != 0 {
            try requireAFLField(cursor, end, 1)
            layer.messageControl = frame.bytes[cursor]
            fields.messageControlOffset = cursor
            cursor += 1
        }
        if fcl & 0x0200 != 0 {
            try requireAFLField(cursor, end, 2)
            layer.keyInformation = frame.u16le(cursor)
            cursor += 2
        }
        if fcl & 0x0800 != 0 {
            try requireAFLField(cursor, end, 4)
            layer.messageCounter = frame.u32le(cursor)
            fields.messageCounterOffset = cursor
            cursor += 4
        }
        if fcl & 0x0400 != 0 {
            guard let control = layer.messageControl else {
                throw FrameDecodingError(.badFrame, "AFL: MAC present without MCL")
            }
            guard control & 0x0F == 5 else {
                throw FrameDecodingError(
                    .unsupportedSecurityMode,
                    "AFL: authentication type is not 5 (AES-CMAC-128 truncated to 8 bytes)"
                )
            }
            try requireAFLField(cursor, end, 8)
            var mac: UInt64 = 0
            for index in cursor..<(cursor + 8) {
                mac = mac << 8 | UInt64(frame.bytes[index])
            }
            layer.mac = mac
            cursor += 8
        }
        if fcl & 0x1000 != 0 {
            try requireAFLField(cursor, end, 2)
            layer.messageLength = frame.u16le(cursor)
            fields.messageLengthOffset = cursor
            cursor += 2
        }
        guard cursor == end else {
            throw FrameDecodingError(.badLength, "AFL: AFLL does not match the fields FCL announces")
        }
        frame.authentication = layer
        guard !layer.hasMoreFragments else {
            throw FrameDecodingError(.unsupportedFrame, "AFL: fragmented message (more fragments follow)")
        }
        position = end
        return fields
    }

    /// Throws unless `count` more AFL bytes from `cursor` fit before `end` (a plain function: a nested function
    /// capturing the cursor would allocate a box per frame in unoptimized builds).
    static func requireAFLField(_ cursor: Int, _ end: Int, _ count: Int) throws(FrameDecodingError) {
        guard cursor + count <= end else {
            throw FrameDecodingError(.badLength, "AFL: the fields FCL announces exceed AFLL")
        }
    }

    // MARK: Transport layer

    static func readTransportHeader(_ frame: inout MBusFrame, at position: inout Int) throws(FrameDecodingError) {
        guard position < frame.byteCount else {
            throw FrameDecodingError(.truncated, "no CI for the transport layer")
        }
        enum Header { case none, short, long }
        let ci = frame.bytes[position]
        let header: Header
        switch ci {
        case 0x72: (header, frame.kind) = (.long, .data)
        case 0x7A: (header, frame.kind) = (.short, .data)
        case 0x78: (header, frame.kind) = (.none, .data)
        case 0x75: (header, frame.kind) = (.long, .alarm)
        case 0x74: (header, frame.kind) = (.short, .alarm)
        case 0x71: (header, frame.kind) = (.none, .alarm)
        case 0x6F: (header, frame.kind) = (.long, .applicationError)
        case 0x6E: (header, frame.kind) = (.short, .applicationError)
        case 0x70: (header, frame.kind) = (.none, .applicationError)
        case 0x73, 0x79, 0x7B:
            throw FrameDecodingError(.unsupportedFrame, "CI: compact frame (needs the format of an earlier frame)")
        case 0x69, 0x6A, 0x6B:
            throw FrameDecodingError(.unsupportedFrame, "CI: format frame")
        case 0x7C, 0x7D:
            throw FrameDecodingError(.unsupportedFrame, "CI: DLMS/COSEM content")
        case 0xA0...0xB7:
            throw FrameDecodingError(.unsupportedFrame, "CI: manufacturer-specific content")
        case 0x8C...0x8F, 0x90:
            throw FrameDecodingError(.unsupportedFrame, "CI: ELL or AFL in an unsupported position")
        default:
            throw FrameDecodingError(.unsupportedFrame, "CI: not a transport layer this decoder reads")
        }
        if frame.medium == .wired && header != .long {
            throw FrameDecodingError(.unsupportedFrame, "wired frame without a long TPL header (no meter identity)")
        }
        let start = position
        var transport = MBusTransportLayer(
            ci: ci,
            address: nil,
            accessNumber: nil,
            status: nil,
            configuration: nil,
            configurationExtension: nil
        )
        switch header {
        case .none:
            position += 1
        case .short:
            guard start + 5 <= frame.byteCount else {
                throw FrameDecodingError(.truncated, "TPL: fewer bytes than the short header")
            }
            transport.accessNumber = frame.bytes[start + 1]
            transport.status = MBusStatus(rawValue: frame.bytes[start + 2])
            transport.configuration = frame.u16le(start + 3)
            position += 5
        case .long:
            guard start + 13 <= frame.byteCount else {
                throw FrameDecodingError(.truncated, "TPL: fewer bytes than the long header")
            }
            transport.address = MBusAddress(
                manufacturerCode: frame.u16le(start + 5),
                id: frame.u32le(start + 1),
                version: frame.bytes[start + 7],
                deviceType: frame.bytes[start + 8]
            )
            transport.accessNumber = frame.bytes[start + 9]
            transport.status = MBusStatus(rawValue: frame.bytes[start + 10])
            transport.configuration = frame.u16le(start + 11)
            position += 13
        }
        if transport.securityMode == 7 {
            guard position < frame.byteCount else {
                throw FrameDecodingError(.truncated, "TPL: mode 7 without its CFG extension byte")
            }
            transport.configurationExtension = frame.bytes[position]
            position += 1
        }
        frame.transport = transport
    }

    /// Removes TPL encryption (modes 5 and 7) in place. Returns the end of the part protected by the meter's key
    /// (0 when nothing is).
    static func removeTransportSecurity(
        _ frame: inout MBusFrame,
        at position: Int,
        transportStart: Int,
        authentication: AuthenticationFields?,
        keys: inout KeyCache,
        key: (MBusAddress) -> AES128Key?,
        allowAlreadyDecrypted: Bool
    ) throws(FrameDecodingError) -> Int {
        let mode = frame.transport.securityMode
        frame.security.mode = mode
        if frame.authentication?.mac != nil && mode != 7 {
            throw FrameDecodingError(.unsupportedSecurityMode, "AFL MAC with a TPL security mode other than 7")
        }
        switch mode {
        case 0:
            return 0
        case 5, 7:
            break
        default:
            throw FrameDecodingError(.unsupportedSecurityMode, "TPL security mode is not 0, 5 or 7")
        }
        var layout = (messageControl: 0, messageCounter: 0, messageLength: Int?.none)
        if mode == 7 {
            guard let fields = authentication, let control = fields.messageControlOffset,
                let counter = fields.messageCounterOffset, frame.authentication?.mac != nil
            else {
                throw FrameDecodingError(.badFrame, "mode 7: no AFL with MCL, MCR and MAC")
            }
            guard frame.authentication?.keyInformation == nil else {
                throw FrameDecodingError(.unsupportedSecurityMode, "mode 7: AFL key information field not supported")
            }
            guard frame.transport.keyDerivation == 1 else {
                throw FrameDecodingError(.unsupportedSecurityMode, "mode 7: KDF selection is not 1")
            }
            layout = (control, counter, fields.messageLengthOffset)
        }
        let available = frame.byteCount - position
        let blocks = frame.transport.encryptedBlockCount
        let length = blocks == 0 ? available : 16 * blocks
        guard length > 0, length % 16 == 0 else {
            throw FrameDecodingError(.badLength, "TPL: the encrypted part is not whole 16-byte blocks")
        }
        guard length <= available else {
            throw FrameDecodingError(.badLength, "TPL: CFG declares more encrypted blocks than the frame holds")
        }
        let range = position..<(position + length)
        let identity = frame.meter
        let wasPlain = frame.bytes[position] == 0x2F && frame.bytes[position + 1] == 0x2F
        guard let meterKey = keys.key(for: identity, lookup: key) else {
            guard allowAlreadyDecrypted && wasPlain else {
                throw FrameDecodingError(.unknownMeter, "no key is registered for the meter")
            }
            frame.security.tpl = .alreadyDecrypted
            frame.security.encryptedByteCount = length
            return 0
        }
        let iv: AES128.Block
        let cipherKey: AES128Key
        if mode == 5 {
            // IV = M(2) A(6) ACC×8, address from the TPL long header if present, else the DLL.
            var block = AES128.Block.zero
            identity.store(into: &block, at: 0)
            let access = frame.transport.accessNumber ?? 0
            for index in 8..<16 {
                block[byte: index] = access
            }
            iv = block
            cipherKey = meterKey
        } else {
            let counter = frame.u32le(layout.messageCounter)
            let encryptionKey = deriveKey(meterKey, selector: 0x00, counter: counter, id: identity.id)
            let macKey = deriveKey(meterKey, selector: 0x01, counter: counter, id: identity.id)
            // MAC = AES-CMAC(K_mac, MCL ‖ MCR ‖ [ML] ‖ everything from the TPL CI to the end), first 8 bytes.
            var mac = AESCMAC(key: macKey)
            let end = frame.byteCount
            frame.bytes.span.withUnsafeBytes { raw in
                mac.update(UnsafeRawBufferPointer(rebasing: raw[layout.messageControl..<(layout.messageControl + 1)]))
                mac.update(UnsafeRawBufferPointer(rebasing: raw[layout.messageCounter..<(layout.messageCounter + 4)]))
                if let lengthOffset = layout.messageLength {
                    mac.update(UnsafeRawBufferPointer(rebasing: raw[lengthOffset..<(lengthOffset + 2)]))
                }
                mac.update(UnsafeRawBufferPointer(rebasing: raw[transportStart..<end]))
            }
            guard mac.finalizeTruncatedTo64() == frame.authentication?.mac else {
                if wasPlain {
                    throw FrameDecodingError(
                        .alreadyDecrypted,
                        "mode 7: marked encrypted but already plaintext while a key is registered"
                    )
                }
                throw FrameDecodingError(.badMAC, "mode 7: the AFL MAC does not verify with the meter's key")
            }
            frame.security.isMACVerified = true
            iv = .zero
            cipherKey = encryptionKey
        }
        var span = frame.bytes.mutableSpan
        _ = span.withUnsafeMutableBytes { raw in
            AES128.decryptCBC(UnsafeMutableRawBufferPointer(rebasing: raw[range]), iv: iv, with: cipherKey)
        }
        guard frame.bytes[position] == 0x2F && frame.bytes[position + 1] == 0x2F else {
            if wasPlain && mode == 5 {
                throw FrameDecodingError(
                    .alreadyDecrypted,
                    "mode 5: marked encrypted but already plaintext while a key is registered"
                )
            }
            throw FrameDecodingError(.wrongKey, "the decrypted TPL content does not start with 2F 2F")
        }
        frame.security.tpl = .decrypted
        frame.security.encryptedByteCount = length
        return mode == 7 ? frame.byteCount : range.upperBound
    }

    /// The OMS KDF (selection 1): AES-CMAC(K, selector ‖ MCR(4, LE) ‖ ID(4, LE) ‖ 07×7).
    static func deriveKey(_ key: AES128Key, selector: UInt8, counter: UInt32, id: UInt32) -> AES128Key {
        var message = AES128.Block.zero
        message[byte: 0] = selector
        for index in 0..<4 {
            message[byte: 1 + index] = UInt8(truncatingIfNeeded: counter >> (8 * UInt32(index)))
            message[byte: 5 + index] = UInt8(truncatingIfNeeded: id >> (8 * UInt32(index)))
        }
        for index in 9..<16 {
            message[byte: index] = 0x07
        }
        var bytes = InlineArray<16, UInt8>(repeating: 0)
        for index in 0..<16 {
            bytes[index] = message[byte: index]
        }
        var mac = AESCMAC(key: key)
        bytes.span.withUnsafeBytes { mac.update($0) }
        return AES128Key(mac.finalize())
    }

    /// Remembers the last key lookup so the closure runs once per identity.
    struct KeyCache {
        private var address: MBusAddress? = nil
        private var cached: AES128Key? = nil

        mutating func key(for address: MBusAddress, lookup: (MBusAddress) -> AES128Key?) -> AES128Key? {
            if self.address == address { return cached }
            self.address = address
            cached = lookup(address)
            return cached
        }
    }
}

extension MBusAddress {
    /// Writes M(2) ID(4) version type as on the wire into bytes `offset..<offset+8` of a block.
    func store(into block: inout AES128.Block, at offset: Int) {
        block[byte: offset] = UInt8(truncatingIfNeeded: manufacturerCode)
        block[byte: offset + 1] = UInt8(truncatingIfNeeded: manufacturerCode >> 8)
        for index in 0..<4 {
            block[byte: offset + 2 + index] = UInt8(truncatingIfNeeded: id >> (8 * UInt32(index)))
        }
        block[byte: offset + 6] = version
        block[byte: offset + 7] = deviceType
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

    /// The little-endian u16 at `offset` of ``bytes``; the caller has checked the bounds.
    func u16le(_ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    /// The little-endian u32 at `offset` of ``bytes``; the caller has checked the bounds.
    func u32le(_ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    /// Whether the little-endian PayloadCRC at `offset` matches CRC-16/EN-13757 over the rest of the frame.
    func payloadCRCMatches(at offset: Int) -> Bool {
        let sent = u16le(offset)
        let computed = bytes.span.withUnsafeBytes { raw in
            CRC16.en13757.checksum(UnsafeRawBufferPointer(rebasing: raw[(offset + 2)..<byteCount]))
        }
        return sent == computed
    }
}

extension UnsafeRawBufferPointer {
    /// The little-endian UInt16 at `offset`; the caller has checked the bounds.
    @inline(__always)
    func u16le(_ offset: Int) -> UInt16 {
        UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// The little-endian UInt32 at `offset`; the caller has checked the bounds.
    @inline(__always)
    func u32le(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}
