/// Wireless M-Bus (EN 13757-4) or wired M-Bus (EN 13757-2).
public enum MBusMedium: String, Sendable, Hashable {
    /// Wireless M-Bus; JSON protocol name `wmbus`.
    case wireless = "wmbus"
    /// Wired M-Bus; JSON protocol name `mbus`.
    case wired = "mbus"
}

/// How the link layer of a frame carried its integrity check.
public enum MBusFrameFormat: String, Sendable, Hashable {
    /// Wireless, the DLL CRCs already removed (length = L + 1), as USB dongles and rtl-wmbus deliver frames.
    case noCRC = "no_crc"
    /// Wireless format A: a CRC after the 10-byte first block and after every 16 data bytes; L excludes CRCs.
    case formatA = "format_a"
    /// Wireless format B: one CRC over the first 128 bytes, one over the rest; L includes CRCs.
    case formatB = "format_b"
    /// Wired long frame `68 L L 68 C A CI … CS 16`.
    case wiredLongFrame = "wired_long_frame"
}

/// Which way a frame travels, from the C field.
public enum MBusDirection: String, Sendable, Hashable {
    /// SND_NR, SND_IR, ACC_NR, ACC_DMD, RSP_UD.
    case fromMeter = "from_meter"
    /// SND_NKE, SND_UD, SND_UD2, REQ_UD1, REQ_UD2, CNF_IR.
    case toMeter = "to_meter"
    /// Any other C field (ACK, relayed or reserved); such frames are not decoded.
    case unknown

    /// The direction of a C field (wireless and wired share the function codes).
    public init(control: UInt8) {
        switch control {
        case 0x44, 0x46, 0x47, 0x48, 0x08, 0x18, 0x28, 0x38: self = .fromMeter
        case 0x40, 0x43, 0x53, 0x73, 0x5A, 0x7A, 0x5B, 0x7B, 0x06: self = .toMeter
        default: self = .unknown
        }
    }
}

/// The data link layer: L, C and the wireless address or the wired primary address.
public struct MBusLinkLayer: Sendable, Hashable {
    /// How the frame carried its CRCs or checksum.
    public var format: MBusFrameFormat
    /// The L field as received.
    public var length: UInt8
    /// The C field.
    public var control: UInt8
    /// Wireless only: the DLL address (M, ID, version, type). For a retrofit radio module this is the module.
    public var address: MBusAddress?
    /// Wired only: the primary address byte (A field), e.g. `0xFD` for secondary addressing.
    public var primaryAddress: UInt8?

    /// Creates a link layer value.
    public init(
        format: MBusFrameFormat,
        length: UInt8,
        control: UInt8,
        address: MBusAddress?,
        primaryAddress: UInt8?
    ) {
        self.format = format
        self.length = length
        self.control = control
        self.address = address
        self.primaryAddress = primaryAddress
    }

    /// The direction implied by the C field.
    public var direction: MBusDirection { MBusDirection(control: control) }

    /// The C field's function name, e.g. `snd_nr`, or `nil` for an unnamed code.
    public var controlName: String? {
        switch control {
        case 0x44: "snd_nr"
        case 0x46: "snd_ir"
        case 0x47: "acc_nr"
        case 0x48: "acc_dmd"
        case 0x08, 0x18, 0x28, 0x38: "rsp_ud"
        case 0x40: "snd_nke"
        case 0x43: "snd_ud2"
        case 0x53, 0x73: "snd_ud"
        case 0x5A, 0x7A: "req_ud1"
        case 0x5B, 0x7B: "req_ud2"
        case 0x06: "cnf_ir"
        case 0x00: "ack"
        default: nil
        }
    }
}

/// The extended link layer (CI `8C`–`8F`).
public struct MBusExtendedLinkLayer: Sendable, Hashable {
    /// `8C` (CC, ACC), `8D` (+ SN), `8E` (+ M, A), `8F` (+ M, A, SN).
    public var ci: UInt8
    /// The communication control byte CC.
    public var communicationControl: UInt8
    /// The ELL access number.
    public var accessNumber: UInt8
    /// `8E`/`8F` only: the ELL address.
    public var address: MBusAddress?
    /// `8D`/`8F` only: the session number SN (u32 little-endian).
    public var sessionNumber: UInt32?

    /// Creates an extended link layer value.
    public init(
        ci: UInt8,
        communicationControl: UInt8,
        accessNumber: UInt8,
        address: MBusAddress?,
        sessionNumber: UInt32?
    ) {
        self.ci = ci
        self.communicationControl = communicationControl
        self.accessNumber = accessNumber
        self.address = address
        self.sessionNumber = sessionNumber
    }

    /// The SN encryption field (bits 31–29): 0 none, 1 AES-128-CTR; 0 when there is no SN.
    public var encryption: UInt8 { UInt8(truncatingIfNeeded: (sessionNumber ?? 0) >> 29) }
}

/// The authentication and fragmentation layer (CI `90`).
public struct MBusAuthenticationLayer: Sendable, Hashable {
    /// The fragmentation control field FCL (u16 little-endian).
    public var fragmentControl: UInt16
    /// The message control field MCL, when FCL bit `2000` is set.
    public var messageControl: UInt8?
    /// The key information field KI, when FCL bit `0200` is set.
    public var keyInformation: UInt16?
    /// The message counter MCR (u32 little-endian), when FCL bit `0800` is set.
    public var messageCounter: UInt32?
    /// The 8-byte truncated AES-CMAC as on the wire (first byte most significant), when FCL bit `0400` is set.
    public var mac: UInt64?
    /// The message length ML, when FCL bit `1000` is set.
    public var messageLength: UInt16?

    /// Creates an AFL value.
    public init(
        fragmentControl: UInt16,
        messageControl: UInt8?,
        keyInformation: UInt16?,
        messageCounter: UInt32?,
        mac: UInt64?,
        messageLength: UInt16?
    ) {
        self.fragmentControl = fragmentControl
        self.messageControl = messageControl
        self.keyInformation = keyInformation
        self.messageCounter = messageCounter
        self.mac = mac
        self.messageLength = messageLength
    }

    /// The authentication type (MCL low nibble; 5 = AES-CMAC-128 truncated to 8 bytes), or `nil` without MCL.
    public var authenticationType: UInt8? { messageControl.map { $0 & 0x0F } }
    /// Whether FCL announces more fragments (not supported).
    public var hasMoreFragments: Bool { fragmentControl & 0x4000 != 0 }
}

/// The transport-layer status byte STS.
public struct MBusStatus: Sendable, Hashable {
    /// Bits 1–0 of STS.
    public enum Application: String, Sendable, Hashable {
        case noError = "no_error"
        case busy
        case applicationError = "application_error"
        /// `11`: abnormal condition / alarm.
        case alarm
    }

    /// The raw status byte.
    public var rawValue: UInt8

    /// Wraps a raw status byte.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Bits 1–0.
    public var application: Application {
        switch rawValue & 0x03 {
        case 0: .noError
        case 1: .busy
        case 2: .applicationError
        default: .alarm
        }
    }

    /// Bit 2: power low.
    public var isPowerLow: Bool { rawValue & 0x04 != 0 }
    /// Bit 3: permanent error.
    public var isPermanentError: Bool { rawValue & 0x08 != 0 }
    /// Bit 4: temporary error.
    public var isTemporaryError: Bool { rawValue & 0x10 != 0 }
    /// Bits 7–5, manufacturer specific, shifted down (0…7).
    public var manufacturerBits: UInt8 { rawValue >> 5 }

    /// The names of the set bits: `busy`, `application_error` or `alarm` for bits 1–0, then `power_low`,
    /// `permanent_error`, `temporary_error`, `manufacturer_bit5` … `manufacturer_bit7` (allocates).
    public var names: [String] {
        var names: [String] = []
        if application != .noError { names.append(application.rawValue) }
        if isPowerLow { names.append("power_low") }
        if isPermanentError { names.append("permanent_error") }
        if isTemporaryError { names.append("temporary_error") }
        for bit in 5...7 where rawValue & (1 << UInt8(bit)) != 0 {
            names.append("manufacturer_bit\(bit)")
        }
        return names
    }

    /// The standardized conditions that need attention: `application_error`, `alarm`, `power_low`,
    /// `permanent_error`, `temporary_error` (allocates). Busy and manufacturer bits are not alarms.
    public var alarmNames: [String] {
        names.filter { $0 != "busy" && !$0.hasPrefix("manufacturer_bit") }
    }
}

/// The transport layer (TPL): CI and, for short and long headers, ACC, STS and the configuration word.
public struct MBusTransportLayer: Sendable, Hashable {
    /// The TPL CI, e.g. `72` (long header), `7A` (short), `78` (none), `74`/`75`/`71` alarm.
    public var ci: UInt8
    /// The long header's address (CI `72`, `75`, `6F`): the meter itself behind a radio module.
    public var address: MBusAddress?
    /// The access number, `nil` without a header.
    public var accessNumber: UInt8?
    /// The status byte, `nil` without a header.
    public var status: MBusStatus?
    /// The configuration word CFG (u16 little-endian), `nil` without a header.
    public var configuration: UInt16?
    /// The CFG extension byte (security mode 7 only).
    public var configurationExtension: UInt8?

    /// Creates a transport layer value.
    public init(
        ci: UInt8,
        address: MBusAddress?,
        accessNumber: UInt8?,
        status: MBusStatus?,
        configuration: UInt16?,
        configurationExtension: UInt8?
    ) {
        self.ci = ci
        self.address = address
        self.accessNumber = accessNumber
        self.status = status
        self.configuration = configuration
        self.configurationExtension = configurationExtension
    }

    /// The security mode (CFG bits 12–8); 0 without a header.
    public var securityMode: UInt8 { UInt8(truncatingIfNeeded: ((configuration ?? 0) >> 8) & 0x1F) }
    /// Whether the CI is manufacturer specific (`A0`–`B7`): no TPL header, content only a driver reads.
    public var isManufacturerSpecific: Bool { (0xA0...0xB7).contains(ci) }
    /// For modes 5 and 7: the number of encrypted 16-byte blocks (CFG bits 7–4; 0 = the whole rest).
    public var encryptedBlockCount: Int { Int(((configuration ?? 0) >> 4) & 0x0F) }
    /// CFG bit 15.
    public var isBidirectional: Bool { (configuration ?? 0) & 0x8000 != 0 }
    /// CFG bit 14.
    public var isAccessible: Bool { (configuration ?? 0) & 0x4000 != 0 }
    /// CFG bit 13.
    public var isSynchronous: Bool { (configuration ?? 0) & 0x2000 != 0 }
    /// For modes 5 and 7: CFG bits 3–2.
    public var contentType: UInt8 { UInt8(truncatingIfNeeded: ((configuration ?? 0) >> 2) & 0x03) }
    /// Mode 7: the key derivation function selection (CFG extension bits 5–4; 1 = the OMS KDF).
    public var keyDerivation: UInt8? { configurationExtension.map { ($0 >> 4) & 0x03 } }
    /// Mode 7: the key id (CFG extension bits 3–0).
    public var keyID: UInt8? { configurationExtension.map { $0 & 0x0F } }
}

/// What the decoder did to turn ciphertext into the plaintext it decoded.
public enum MBusDecryption: String, Sendable, Hashable {
    /// Nothing was encrypted.
    case none
    /// Decrypted with the meter's key and checked (2F 2F, PayloadCRC, MAC).
    case decrypted
    /// Marked encrypted but already plaintext (test-data convention); decoded without a key, only when the caller
    /// allowed it. Nothing is authenticated.
    case alreadyDecrypted = "already_decrypted"
}

/// The security applied to a frame.
public struct MBusSecurity: Sendable, Hashable {
    /// The TPL security mode (0, 5 or 7 for decoded frames).
    public var mode: UInt8
    /// The TPL encryption result.
    public var tpl: MBusDecryption
    /// The ELL AES-CTR encryption result.
    public var ell: MBusDecryption
    /// Whether the AFL MAC was verified with the meter's key (mode 7).
    public var isMACVerified: Bool
    /// The number of TPL-encrypted bytes (a multiple of 16 for modes 5 and 7; for Diehl real-data test data taken
    /// as already decoded, the content after the TPL header).
    public var encryptedByteCount: Int
    /// Which kind of key opened the frame: the meter's own or a manufacturer default (the weaker if the ELL and TPL
    /// differ); `nil` when nothing was decrypted or MAC-checked with a key of the frame's meter. An ELL opened with
    /// another identity's key (``isELLKeyForeign``) does not count.
    public var keySource: KeySource?
    /// Whether the ELL was decrypted with the key of another identity than the frame's meter (``MBusFrame/meter``):
    /// its DLL address (`8D`) or ELL address (`8F`) is not the TPL long header's. A radio adapter in front of a meter
    /// may send such frames (EN 13757-4, OMS), but its ELL is then the adapter's protection, not the meter's, so it
    /// adds nothing to ``contentProtection``, ``headerProtection`` or ``keySource``: otherwise anyone holding one
    /// registered meter's key could wrap a long header naming another meter in an ELL under that key.
    public var isELLKeyForeign: Bool

    /// Creates a security summary.
    public init(mode: UInt8, tpl: MBusDecryption, ell: MBusDecryption, isMACVerified: Bool, encryptedByteCount: Int) {
        self.mode = mode
        self.tpl = tpl
        self.ell = ell
        self.isMACVerified = isMACVerified
        self.encryptedByteCount = encryptedByteCount
        self.keySource = nil
        self.isELLKeyForeign = false
    }

    /// Whether any part was taken as already decrypted.
    public var isAlreadyDecrypted: Bool { tpl == .alreadyDecrypted || ell == .alreadyDecrypted }

    /// Whether the ELL was decrypted with a key of the frame's own meter, so that it protects the meter's content.
    public var isELLCountedForMeter: Bool { ell == .decrypted && !isELLKeyForeign }

    /// The protection of the records inside the part the meter's key protected (``MBusRecord/isProtected``):
    /// `authenticated` when the mode-7 AFL MAC verified (it covers everything from the TPL CI to the end),
    /// `encrypted` when TPL mode 5 (AES-CBC) or the ELL (AES-CTR) was decrypted with the key (confidentiality only:
    /// a changed ciphertext decrypts to other values), else `plain`. Records outside that part are `plain`.
    /// Content opened with a manufacturer's published default key (``keySource``) is `plain`: anyone who read the
    /// same document can read and forge it. An ELL opened with another identity's key (``isELLKeyForeign``)
    /// protects nothing of the meter's.
    public var contentProtection: ProtectionLevel {
        if keySource == .manufacturerDefault { return .plain }
        if isMACVerified { return .authenticated }
        return tpl == .decrypted || isELLCountedForMeter ? .encrypted : .plain
    }

    /// The protection of the TPL CI and header (access number, status byte, configuration): `authenticated` under
    /// a verified mode-7 MAC, `encrypted` inside an ELL decrypted with the meter's key, else `plain`. Mode 5
    /// encrypts only what follows the header, so its status byte is `plain`. `plain` under a default key, as
    /// ``contentProtection``.
    public var headerProtection: ProtectionLevel {
        if keySource == .manufacturerDefault { return .plain }
        if isMACVerified { return .authenticated }
        return isELLCountedForMeter ? .encrypted : .plain
    }
}

/// What a frame's TPL CI says the content is.
public enum MBusFrameKind: String, Sendable, Hashable {
    /// Data records (CI `72`, `7A`, `78`).
    case data
    /// An alarm telegram (CI `71`, `74`, `75`); the content is kept raw.
    case alarm
    /// An application error telegram (CI `70`, `6E`, `6F`); the content is kept raw.
    case applicationError = "application_error"
}

/// The header fields of a frame, read without a key and without decrypting
/// (``MBusDecoder/peekHeader(_:isWired:frameFormat:)``).
///
/// Use it to route, look up keys and describe a quarantined frame; nothing in it is authenticated.
public struct MBusHeader: Sendable, Hashable {
    /// Wireless or wired.
    public var medium: MBusMedium
    /// The link layer.
    public var link: MBusLinkLayer
    /// The extended link layer, if present.
    public var extendedLink: MBusExtendedLinkLayer?
    /// The AFL, if present and readable.
    public var authentication: MBusAuthenticationLayer?
    /// The transport layer, `nil` when hidden by ELL encryption or not readable.
    public var transport: MBusTransportLayer?

    /// Creates a header value.
    public init(
        medium: MBusMedium,
        link: MBusLinkLayer,
        extendedLink: MBusExtendedLinkLayer?,
        authentication: MBusAuthenticationLayer?,
        transport: MBusTransportLayer?
    ) {
        self.medium = medium
        self.link = link
        self.extendedLink = extendedLink
        self.authentication = authentication
        self.transport = transport
    }

    /// The meter identity: the TPL long-header address when present, else the DLL address (wireless);
    /// `nil` for a wired frame without a long header.
    public var meter: MBusAddress? { transport?.address ?? link.address }

    /// The TPL security mode, when the transport layer was readable.
    public var securityMode: UInt8? { transport?.securityMode }

    /// A one-line description for a quarantine detail or a log line: header fields only, never payload bytes or
    /// key material (allocates). Example:
    /// `wmbus meter=ELS-12345678-50-03 link=ELS-12345678-50-03 c=0x44 ci=0x7A acc=42 sts=0x00 mode=9`.
    public var summary: String {
        var text = medium.rawValue
        text += " meter=" + (meter?.registryAddress ?? "unknown")
        if let address = link.address {
            text += " link=" + address.registryAddress
        }
        if let primary = link.primaryAddress {
            text += " primary_address=\(primary)"
        }
        text += " c=0x" + Hex.encode([link.control])
        if let ell = extendedLink {
            text += " ell=0x" + Hex.encode([ell.ci])
            if ell.encryption != 0 { text += " ell_enc=\(ell.encryption)" }
        }
        if let transport {
            text += " ci=0x" + Hex.encode([transport.ci])
            if let acc = transport.accessNumber { text += " acc=\(acc)" }
            if let status = transport.status { text += " sts=0x" + Hex.encode([status.rawValue]) }
            text += " mode=\(transport.securityMode)"
        }
        return text
    }
}

/// One decoded wireless or wired M-Bus frame: link, extended link, AFL and transport headers, security, and up to
/// ``maximumRecordCount`` data records.
///
/// A plain value with no heap storage: the CRC-free, decrypted bytes from the first CI on live in ``bytes`` (an
/// `InlineArray`), and records index them. Frames from ``MBusDecoder`` passed every check of
/// `firmware-protocols/wmbus-oms.md`.
public struct MBusFrame: Sendable {
    /// The most records a frame keeps; further records are parsed and checked but only counted
    /// (``droppedRecordCount``).
    public static let maximumRecordCount = 32
    /// The capacity of ``bytes``.
    public static let byteCapacity = 256

    /// Wireless or wired.
    public var medium: MBusMedium
    /// The link layer.
    public var link: MBusLinkLayer
    /// The extended link layer, if present.
    public var extendedLink: MBusExtendedLinkLayer?
    /// The AFL, if present.
    public var authentication: MBusAuthenticationLayer?
    /// The transport layer.
    public var transport: MBusTransportLayer
    /// The meter identity: the TPL long-header address when present, else the DLL address.
    public var meter: MBusAddress
    /// Data, alarm or application error.
    public var kind: MBusFrameKind
    /// The security applied and how it was removed.
    public var security: MBusSecurity
    /// The number of valid entries in ``records``.
    public var recordCount: Int
    /// The data records; entries from ``recordCount`` on are unused.
    public var records: InlineArray<32, MBusRecord>
    /// Records after the first 32, parsed and checked but not kept.
    public var droppedRecordCount: Int
    /// Manufacturer data after a `0F`/`1F` DIF, kept raw (range in ``bytes``).
    public var manufacturerDataRange: Range<Int>?
    /// Whether the manufacturer data started with `1F` (more records follow in the next telegram).
    public var hasMoreRecordsInNextTelegram: Bool
    /// The driver that read manufacturer-specific content into records (``MBusDriver``), or `nil`.
    public var driver: MBusDriverID?
    /// For alarm and application-error frames: the content after the TPL header, kept raw (range in ``bytes``).
    public var payloadRange: Range<Int>?
    /// Bytes after the last record that were recognised (a trailing format-A block CRC) and ended the record list;
    /// `nil` when there are none (`firmware-protocols/wmbus-oms.md` §6.1a).
    public var trailingBytes: MBusTrailingBytes?
    /// The frame from the first CI on, without CRCs and decrypted; ranges in records index it.
    public var bytes: InlineArray<256, UInt8>
    /// The number of valid bytes in ``bytes``.
    public var byteCount: Int
    /// The meter's clock: the first storage-0 date-time record (VIF `6D`), `nil` when there is none or it is a
    /// sentinel or invalid. Meter clocks carry no time zone.
    public var meterTime: CivilTime?
    /// A compact frame's format signature and full-frame CRC (CI `79`, `7B`, `73`); `nil` for a full frame.
    /// Its records were reassembled from the layout the signature names (``MBusDecoder/LayoutLookup``).
    public var compact: MBusCompactFormat?

    /// Creates an empty frame for the decoder to fill.
    init(medium: MBusMedium, link: MBusLinkLayer) {
        self.medium = medium
        self.link = link
        self.extendedLink = nil
        self.authentication = nil
        self.transport = MBusTransportLayer(
            ci: 0,
            address: nil,
            accessNumber: nil,
            status: nil,
            configuration: nil,
            configurationExtension: nil
        )
        self.meter = MBusAddress(manufacturerCode: 0, id: 0, version: 0, deviceType: 0)
        self.kind = .data
        self.security = MBusSecurity(mode: 0, tpl: .none, ell: .none, isMACVerified: false, encryptedByteCount: 0)
        self.recordCount = 0
        self.records = InlineArray(repeating: .empty)
        self.droppedRecordCount = 0
        self.manufacturerDataRange = nil
        self.hasMoreRecordsInNextTelegram = false
        self.driver = nil
        self.payloadRange = nil
        self.trailingBytes = nil
        self.bytes = InlineArray(repeating: 0)
        self.byteCount = 0
        self.meterTime = nil
        self.compact = nil
    }

    /// The direction from the C field.
    public var direction: MBusDirection { link.direction }

    /// The access number: the TPL's, else the ELL's, else `nil`.
    public var accessNumber: UInt8? { transport.accessNumber ?? extendedLink?.accessNumber }

    /// The TPL status byte, `nil` without a TPL header.
    public var status: MBusStatus? { transport.status }

    /// The header fields.
    public var header: MBusHeader {
        MBusHeader(
            medium: medium,
            link: link,
            extendedLink: extendedLink,
            authentication: authentication,
            transport: transport
        )
    }

    /// The kept records as an array (allocates; for tests and tools).
    public var recordArray: [MBusRecord] {
        (0..<min(max(recordCount, 0), Self.maximumRecordCount)).map { records[$0] }
    }

    /// The first storage-0 `FD 17` error flags without a modifier, as raw bits, or `nil`.
    public var errorFlags: UInt64? {
        for index in 0..<min(max(recordCount, 0), Self.maximumRecordCount) {
            let record = records[index]
            if record.quantity == .errorFlags && record.storage == 0 && record.modifier == nil,
                case .bits(let bits) = record.value
            {
                return bits
            }
        }
        return nil
    }

    /// The conditions a gateway should raise (allocates): the TPL status alarms (``MBusStatus/alarmNames``),
    /// `error_flags` when storage-0 `FD 17` flags are non-zero, and `alarm_telegram` / `application_error_telegram`
    /// for those frame kinds.
    public var alarmNames: [String] {
        var names = status?.alarmNames ?? []
        if let flags = errorFlags, flags != 0 { names.append("error_flags") }
        switch kind {
        case .data: break
        case .alarm: names.append("alarm_telegram")
        case .applicationError: names.append("application_error_telegram")
        }
        return names
    }

    /// Copies bytes out of ``bytes`` (allocates).
    ///
    /// - Parameter range: A range inside `0..<byteCount`; parts outside are left out.
    /// - Returns: The bytes.
    public func bytes(in range: Range<Int>) -> [UInt8] {
        let lower = max(0, range.lowerBound)
        let upper = min(range.upperBound, byteCount, Self.byteCapacity)
        guard lower < upper else { return [] }
        return (lower..<upper).map { bytes[$0] }
    }

    /// The text of a ``MBusValue/text`` record, in reading order (the wire order is reversed), or `nil`.
    public func text(of record: MBusRecord) -> String? {
        guard case .text = record.value else { return nil }
        return Self.reversedASCII(bytes(in: record.dataRange))
    }

    /// The unit text of a plain-text VIF record (`7C`/`FC`), in reading order, or `nil`.
    public func plainTextUnit(of record: MBusRecord) -> String? {
        guard let range = record.plainTextUnitRange else { return nil }
        return Self.reversedASCII(bytes(in: range))
    }

    static func reversedASCII(_ bytes: [UInt8]) -> String {
        var text = ""
        for byte in bytes.reversed() {
            text.unicodeScalars.append(Unicode.Scalar(byte))
        }
        return text
    }
}
