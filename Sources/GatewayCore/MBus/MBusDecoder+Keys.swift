// Decoding with several candidate keys per identity (a manufacturer's default keys), and which key opened a frame.

extension MBusDecoder {
    /// Decodes one wireless M-Bus frame, trying each key of the identity's keyring in order.
    ///
    /// As ``decodeWireless(_:key:allowAlreadyDecrypted:frameFormat:layout:drivers:)``, except that the lookup returns a
    /// ``MBusKeyring``: the meter's own key, or its manufacturer's default keys. The first key whose check passes
    /// (ELL PayloadCRC, mode-7 AFL MAC, `2F 2F` at the start of the first mode-5 block) opens the frame, and
    /// ``MBusSecurity/keySource`` records which kind it was. Each extra key costs one AES block (mode 5), one
    /// CMAC over the frame (mode 7) or one CTR pass (ELL); nothing allocates.
    ///
    /// - Parameters:
    ///   - bytes: One complete frame as received.
    ///   - keyring: Returns the keys to try for an identity (``MBusKeyring/empty`` when there are none); called at
    ///     most once per distinct identity.
    ///   - allowAlreadyDecrypted: As for ``decodeWireless(_:key:allowAlreadyDecrypted:frameFormat:layout:drivers:)``, when the
    ///     keyring is empty.
    ///   - frameFormat: As for ``decodeWireless(_:key:allowAlreadyDecrypted:frameFormat:layout:drivers:)``.
    ///   - layout: Returns the known record layout of a meter for a compact frame's format signature.
    ///   - drivers: The drivers that may read manufacturer-specific content (``MBusDriver``).
    /// - Returns: The decoded frame.
    /// - Throws: ``FrameDecodingError`` naming the first check that failed.
    public static func decodeWireless(
        _ bytes: UnsafeRawBufferPointer,
        keyring: (MBusAddress) -> MBusKeyring,
        allowAlreadyDecrypted: Bool,
        frameFormat: MBusFrameFormat? = nil,
        layout: LayoutLookup = { _, _ in nil },
        drivers: MBusDriverSet = .documented
    ) throws(FrameDecodingError) -> MBusFrame {
        var frame = try readWirelessLink(bytes, format: frameFormat)
        try decodeLayers(
            &frame,
            keyring: keyring,
            allowAlreadyDecrypted: allowAlreadyDecrypted,
            layout: layout,
            drivers: drivers,
            received: bytes
        )
        return frame
    }

    /// Decodes one wired M-Bus long frame, trying each key of the identity's keyring in order (as
    /// ``decodeWireless(_:keyring:allowAlreadyDecrypted:frameFormat:layout:drivers:)``).
    ///
    /// - Parameters:
    ///   - bytes: One complete frame from the `68` start byte to the `16` stop byte.
    ///   - keyring: Returns the keys to try for the long header's identity.
    ///   - allowAlreadyDecrypted: As for ``decodeWired(_:key:allowAlreadyDecrypted:layout:drivers:)``.
    ///   - layout: As for ``decodeWireless(_:keyring:allowAlreadyDecrypted:frameFormat:layout:drivers:)``.
    ///   - drivers: As for ``decodeWireless(_:keyring:allowAlreadyDecrypted:frameFormat:layout:drivers:)``.
    /// - Returns: The decoded frame.
    /// - Throws: ``FrameDecodingError`` naming the first check that failed.
    public static func decodeWired(
        _ bytes: UnsafeRawBufferPointer,
        keyring: (MBusAddress) -> MBusKeyring,
        allowAlreadyDecrypted: Bool,
        layout: LayoutLookup = { _, _ in nil },
        drivers: MBusDriverSet = .documented
    ) throws(FrameDecodingError) -> MBusFrame {
        var frame = try readWiredLink(bytes)
        try decodeLayers(
            &frame,
            keyring: keyring,
            allowAlreadyDecrypted: allowAlreadyDecrypted,
            layout: layout,
            drivers: drivers
        )
        return frame
    }

    /// The first key under which the first mode-5 CBC block at `offset` decrypts to `2F 2F`, or `nil`. Decrypts one
    /// block per key and leaves the frame as it is. A wrong key passes with probability 2⁻¹⁶; the records that
    /// follow must then still parse, as with a single key.
    static func firstKeyOpeningMode5(
        _ keyring: MBusKeyring,
        frame: MBusFrame,
        at offset: Int,
        iv: AES128.Block
    ) -> AES128Key? {
        var cipher = AES128.Block.zero
        for index in 0..<16 {
            cipher[byte: index] = frame.bytes[offset + index]
        }
        for index in 0..<keyring.count {
            let plain = AES128.decrypt(cipher, with: keyring[index]) ^ iv
            if plain[byte: 0] == 0x2F && plain[byte: 1] == 0x2F { return keyring[index] }
        }
        return nil
    }

    /// The mode-7 AFL MAC: AES-CMAC(K_mac, MCL ‖ MCR ‖ [ML] ‖ everything from the TPL CI to the end), first 8 bytes.
    static func mode7MAC(
        _ frame: MBusFrame,
        key macKey: AES128Key,
        layout: (messageControl: Int, messageCounter: Int, messageLength: Int?),
        transportStart: Int
    ) -> UInt64 {
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
        return mac.finalizeTruncatedTo64()
    }
}

extension MBusSecurity {
    /// Records the source of a key that opened a layer; a default key anywhere makes the frame's source `default`
    /// (the weaker of the two).
    mutating func noteKey(_ source: KeySource?) {
        guard let source else { return }
        if keySource != .manufacturerDefault { keySource = source }
    }
}
