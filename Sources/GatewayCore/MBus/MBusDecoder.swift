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
/// An ELL counts as the frame's protection only when its identity is the frame's meter (``MBusFrame/meter``);
/// otherwise (a radio adapter's, or a forgery under another meter's key) it protects nothing of the meter's
/// (``MBusSecurity/isELLKeyForeign``).
/// The `key` closure is called at most once per distinct identity. The `keyring` variants
/// (``decodeWireless(_:keyring:allowAlreadyDecrypted:frameFormat:layout:drivers:)``) take several candidate keys per identity,
/// such as a manufacturer's default keys, and record which kind opened the frame (``MBusSecurity/keySource``).
///
/// Compact frames (CI `79`, `7B`, `73`) carry values without their DIF/VIF chains; their records are rebuilt from
/// the layout the `layout` closure returns for the frame's meter and format signature (``MBusRecordLayout``).
///
/// Manufacturer-specific content (CI `A0`–`B7`, or the data after DIF `0F`/`1F`) is read by a driver when one is
/// selected for the meter and enabled (``MBusDriver``, ``MBusDriverSet``); its values become records like the
/// standard ones and ``MBusFrame/driver`` names it. Without one, CI `A0`–`B7` is refused as `unsupported_frame`
/// and `0F`/`1F` data stays raw.
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
    ///   - layout: For a compact frame (CI `79`, `7B`, `73`): the meter's record layout with the frame's format
    ///     signature, or `nil` when none is known (the frame then fails with `unknown_format`). Called at most once,
    ///     after the security checks; the default knows no layouts.
    ///   - drivers: The drivers that may read manufacturer-specific content (``MBusDriver``); by default those of
    ///     documented layout.
    /// - Returns: The decoded frame.
    /// - Throws: ``FrameDecodingError`` naming the first check that failed.
    public static func decodeWireless(
        _ bytes: UnsafeRawBufferPointer,
        key: (MBusAddress) -> AES128Key?,
        allowAlreadyDecrypted: Bool,
        frameFormat: MBusFrameFormat? = nil,
        layout: LayoutLookup = { _, _ in nil },
        drivers: MBusDriverSet = .documented
    ) throws(FrameDecodingError) -> MBusFrame {
        // The work is done here rather than by forwarding to the keyring variant: returning the frame through one
        // more call copied it once more per frame (bench-decode measured it).
        var frame = try readWirelessLink(bytes, format: frameFormat)
        try decodeLayers(
            &frame,
            keyring: { MBusKeyring(meterKey: key($0)) },
            allowAlreadyDecrypted: allowAlreadyDecrypted,
            layout: layout,
            drivers: drivers,
            received: bytes
        )
        return frame
    }

    /// Decodes one wired M-Bus long frame `68 L L 68 C A CI … CS 16` with a long TPL header (CI `72`, `75`, `6F`).
    ///
    /// - Parameters:
    ///   - bytes: One complete frame from the `68` start byte to the `16` stop byte.
    ///   - key: Returns the meter's AES-128 key for the long header's identity, or `nil`.
    ///   - allowAlreadyDecrypted: As for ``decodeWireless(_:key:allowAlreadyDecrypted:frameFormat:layout:drivers:)``.
    ///   - layout: As for ``decodeWireless(_:key:allowAlreadyDecrypted:frameFormat:layout:drivers:)`` (CI `73`).
    ///   - drivers: As for ``decodeWireless(_:key:allowAlreadyDecrypted:frameFormat:layout:drivers:)``.
    /// - Returns: The decoded frame.
    /// - Throws: ``FrameDecodingError`` naming the first check that failed.
    public static func decodeWired(
        _ bytes: UnsafeRawBufferPointer,
        key: (MBusAddress) -> AES128Key?,
        allowAlreadyDecrypted: Bool,
        layout: LayoutLookup = { _, _ in nil },
        drivers: MBusDriverSet = .documented
    ) throws(FrameDecodingError) -> MBusFrame {
        var frame = try readWiredLink(bytes)
        try decodeLayers(
            &frame,
            keyring: { MBusKeyring(meterKey: key($0)) },
            allowAlreadyDecrypted: allowAlreadyDecrypted,
            layout: layout,
            drivers: drivers
        )
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
    ///   - frameFormat: For wireless frames, as in ``decodeWireless(_:key:allowAlreadyDecrypted:frameFormat:layout:drivers:)``.
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
            if frame.transport.securityMode >= 16, usesDiehlAddressOrder(frame) {
                header.link.address = frame.link.address?.inDiehlOrder
            }
        } catch {
            header.authentication = header.authentication ?? frame.authentication
        }
        return header
    }

    // MARK: Layers

    /// - Parameter received: The wireless frame as received, for recognising a trailing block CRC (over the bytes as
    ///   sent); `nil` for wired frames.
    static func decodeLayers(
        _ frame: inout MBusFrame,
        keyring: (MBusAddress) -> MBusKeyring,
        allowAlreadyDecrypted: Bool,
        layout: LayoutLookup,
        drivers: MBusDriverSet,
        received: UnsafeRawBufferPointer? = nil
    ) throws(FrameDecodingError) {
        guard frame.link.direction != .unknown else {
            throw FrameDecodingError(.unsupportedFrame, "C field: not a data telegram function (ACK or reserved)")
        }
        var keys = KeyCache()
        var position = 0
        var protectedEnd = 0
        var ellOpening: ExtendedLinkOpening? = nil
        if position < frame.byteCount, (0x8C...0x8F).contains(frame.bytes[position]) {
            try readExtendedLink(&frame, at: &position)
            if let ell = frame.extendedLink, ell.sessionNumber != nil {
                switch ell.encryption {
                case 0:
                    break
                case 1:
                    ellOpening = try decryptExtendedLink(
                        &frame,
                        at: &position,
                        keys: &keys,
                        keyring: keyring,
                        allowAlreadyDecrypted: allowAlreadyDecrypted
                    )
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
        // Only manufacturer modes (16 and up) can change how the DLL address is read.
        if frame.transport.securityMode >= 16, usesDiehlAddressOrder(frame) {
            frame.link.address = frame.link.address?.inDiehlOrder
        }
        guard let meter = frame.transport.address ?? frame.link.address else {
            throw FrameDecodingError(.unsupportedFrame, "wired frame without a long TPL header (no meter identity)")
        }
        frame.meter = meter
        // The ELL protects the meter's content only when the key that opened it is the meter's. A radio adapter's
        // ELL (DLL or ELL address other than the long header's) is the adapter's protection; crediting it to the
        // meter would let anyone holding one registered meter's key wrap a long header naming another meter.
        if let ellOpening {
            if ellOpening.identity == meter {
                frame.security.noteKey(ellOpening.source)
                protectedEnd = frame.byteCount
            } else {
                frame.security.isELLKeyForeign = true
            }
        }
        let securedEnd = try removeTransportSecurity(
            &frame,
            at: position,
            transportStart: transportStart,
            authentication: authentication,
            keys: &keys,
            keyring: keyring,
            allowAlreadyDecrypted: allowAlreadyDecrypted
        )
        protectedEnd = max(protectedEnd, securedEnd)
        switch frame.kind {
        case .data where isCompact(ci: frame.transport.ci):
            try readCompactRecords(&frame, from: position, protectedEnd: protectedEnd, layout: layout)
        case .data where frame.transport.isManufacturerSpecific:
            try decodeManufacturerContent(&frame, from: position, protectedEnd: protectedEnd, drivers: drivers)
        case .data:
            try readRecords(&frame, from: position, protectedEnd: protectedEnd, received: received)
            try decodeManufacturerData(&frame, protectedEnd: protectedEnd, drivers: drivers)
        case .alarm, .applicationError:
            frame.payloadRange = position..<frame.byteCount
        }
    }

    /// Remembers the last key lookup so the closure runs once per identity.
    struct KeyCache {
        private var address: MBusAddress? = nil
        /// The keyring of the last identity ``load(for:lookup:)`` looked up. Read it in place: a keyring holds up to
        /// four expanded keys, and copying it per frame showed in `bench-decode`.
        private(set) var current = MBusKeyring.empty

        /// Looks up the identity's keyring unless it is the one already held.
        mutating func load(for address: MBusAddress, lookup: (MBusAddress) -> MBusKeyring) {
            if self.address == address { return }
            self.address = address
            current = lookup(address)
        }

        mutating func keyring(for address: MBusAddress, lookup: (MBusAddress) -> MBusKeyring) -> MBusKeyring {
            load(for: address, lookup: lookup)
            return current
        }
    }
}
