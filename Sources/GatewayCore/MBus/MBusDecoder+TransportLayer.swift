// The authentication and fragmentation layer (AFL), the transport layer (TPL) header and the OMS security
// profiles A (mode 5) and B (mode 7): key lookup, AES-CBC decryption and AES-CMAC verification.

extension MBusDecoder {
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
        let fcl = frame.bytes.u16le(cursor)
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
            layer.keyInformation = frame.bytes.u16le(cursor)
            cursor += 2
        }
        if fcl & 0x0800 != 0 {
            try requireAFLField(cursor, end, 4)
            layer.messageCounter = frame.bytes.u32le(cursor)
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
            layer.mac = frame.bytes.u64(cursor)
            cursor += 8
        }
        if fcl & 0x1000 != 0 {
            try requireAFLField(cursor, end, 2)
            layer.messageLength = frame.bytes.u16le(cursor)
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
        case 0x73: (header, frame.kind) = (.long, .data)
        case 0x7B: (header, frame.kind) = (.short, .data)
        case 0x79: (header, frame.kind) = (.none, .data)
        case 0x69, 0x6A, 0x6B:
            throw FrameDecodingError(.unsupportedFrame, "CI: format frame")
        case 0x7C, 0x7D:
            throw FrameDecodingError(.unsupportedFrame, "CI: DLMS/COSEM content")
        case 0xA0...0xB7:
            // No TPL header; a driver reads the content (MBusDecoder+Drivers.swift) or the frame is refused there.
            (header, frame.kind) = (.none, .data)
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
            transport.configuration = frame.bytes.u16le(start + 3)
            position += 5
        case .long:
            guard start + 13 <= frame.byteCount else {
                throw FrameDecodingError(.truncated, "TPL: fewer bytes than the long header")
            }
            transport.address = MBusAddress(
                manufacturerCode: frame.bytes.u16le(start + 5),
                id: frame.bytes.u32le(start + 1),
                version: frame.bytes[start + 7],
                deviceType: frame.bytes[start + 8]
            )
            transport.accessNumber = frame.bytes[start + 9]
            transport.status = MBusStatus(rawValue: frame.bytes[start + 10])
            transport.configuration = frame.bytes.u16le(start + 11)
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
        keyring: (MBusAddress) -> MBusKeyring,
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
            return try readManufacturerSecurityMode(
                &frame,
                at: position,
                keys: &keys,
                keyring: keyring,
                allowAlreadyDecrypted: allowAlreadyDecrypted
            )
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
        keys.load(for: identity, lookup: keyring)
        guard !keys.current.isEmpty else {
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
            // One key: the full decryption's 2F 2F check below decides, as it always has.
            guard let chosen = keys.current.count == 1
                ? keys.current[0] : firstKeyOpeningMode5(keys.current, frame: frame, at: position, iv: iv)
            else {
                if wasPlain {
                    throw FrameDecodingError(
                        .alreadyDecrypted,
                        "mode 5: marked encrypted but already plaintext while a key is registered"
                    )
                }
                throw FrameDecodingError(.wrongKey, "mode 5: no default key of the manufacturer decrypts to 2F 2F")
            }
            cipherKey = chosen
        } else {
            let counter = frame.bytes.u32le(layout.messageCounter)
            var opened: AES128Key?
            for index in 0..<keys.current.count {
                let candidate = keys.current[index]
                let macKey = deriveKey(candidate, selector: 0x01, counter: counter, id: identity.id)
                if mode7MAC(frame, key: macKey, layout: layout, transportStart: transportStart)
                    == frame.authentication?.mac
                {
                    opened = deriveKey(candidate, selector: 0x00, counter: counter, id: identity.id)
                    break
                }
            }
            guard let encryptionKey = opened else {
                if wasPlain {
                    throw FrameDecodingError(
                        .alreadyDecrypted,
                        "mode 7: marked encrypted but already plaintext while a key is registered"
                    )
                }
                if keys.current.source == .manufacturerDefault {
                    throw FrameDecodingError(
                        .badMAC,
                        "mode 7: the AFL MAC verifies with none of the manufacturer's default keys"
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
        frame.security.noteKey(keys.current.source)
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
