/// An M-Bus or wireless M-Bus frame as the JSON object `meter-gateway decode --protocol wmbus|mbus` prints
/// (allocates; not the hot path).
///
/// The names shared by every protocol (`protocol`, `direction`, `meter`, `access_number`, `readings`,
/// `meter_time`, `status`, `alarms`, `security`), the layers (`link`, `ell`, `afl`, `tpl`), every record, and
/// `driver` (which driver read manufacturer-specific content, or `null`).
/// `meter` is the meter's own identity (TPL long header when present); `link` shows the DLL or radio-module
/// address. Values are exact numbers from scaled integers (``ExactDecimal``); meter times are the meter's
/// zone-less clock as `YYYY-MM-DDThh:mm:ss`, or `null`. `trailing_bytes` (count, hex, `recognised_as`) appears only
/// when the record list ended at recognised trailing bytes.
public struct MBusFrameDocument: Encodable, Sendable, Equatable {
    var `protocol`: String
    var direction: String
    var frameKind: String
    var meter: Address
    @ExplicitNull var accessNumber: UInt8?
    var readings: [Reading]
    @ExplicitNull var meterTime: String?
    @ExplicitNull var status: Status?
    var alarms: [Alarm]
    var security: Security
    var link: Link
    @ExplicitNull var ell: ExtendedLink?
    @ExplicitNull var afl: Authentication?
    var tpl: Transport
    var records: [Record]
    var recordsDropped: Int
    @ExplicitNull var manufacturerData: String?
    @ExplicitNull var driver: Driver?
    var moreRecordsFollow: Bool
    var payloadHex: String?
    var trailingBytes: TrailingBytes?

    /// Describes a decoded frame.
    ///
    /// - Parameter frame: The frame.
    public init(_ frame: MBusFrame) {
        `protocol` = frame.medium.rawValue
        direction = frame.direction.rawValue
        frameKind = frame.kind.rawValue
        meter = Address(frame.meter)
        accessNumber = frame.accessNumber
        readings = frame.recordArray.filter(\.isPlainMeasurement).map { Reading($0, in: frame) }
        meterTime = frame.meterTime?.iso8601()
        status = frame.status.map(Status.init)
        alarms = frame.alarmNames.map { Alarm($0, in: frame) }
        security = Security(frame)
        link = Link(frame.link)
        ell = frame.extendedLink.map(ExtendedLink.init)
        afl = frame.authentication.map(Authentication.init)
        tpl = Transport(frame.transport)
        records = frame.recordArray.map { Record($0, in: frame) }
        recordsDropped = frame.droppedRecordCount
        manufacturerData = frame.manufacturerDataRange.map { Hex.encode(frame.bytes(in: $0)) }
        driver = frame.driver.flatMap(MBusDriver.row).map(Driver.init)
        moreRecordsFollow = frame.hasMoreRecordsInNextTelegram
        payloadHex = frame.payloadRange.map { Hex.encode(frame.bytes(in: $0)) }
        trailingBytes = frame.trailingBytes.map { TrailingBytes($0, in: frame) }
    }

    enum CodingKeys: String, CodingKey {
        case `protocol`, direction, meter, readings, status, alarms, security, link, ell, afl, tpl, records, driver
        case frameKind = "frame_kind"
        case accessNumber = "access_number"
        case meterTime = "meter_time"
        case recordsDropped = "records_dropped"
        case manufacturerData = "manufacturer_data"
        case moreRecordsFollow = "more_records_follow"
        case payloadHex = "payload_hex"
        case trailingBytes = "trailing_bytes"
    }

    /// A CI field or another single byte as `0x` and two upper-case digits.
    static func byteHex(_ byte: UInt8) -> String {
        "0x" + Hex.encode([byte])
    }

    /// The driver that read manufacturer-specific content (`null` when none did): its name, how well its layout
    /// and scale are known (`documented` or `inferred`) and its public source.
    struct Driver: Encodable, Sendable, Equatable {
        var name: String
        var certainty: String
        var source: String

        init(_ driver: MBusDriver) {
            name = driver.id.rawValue
            certainty = driver.certainty.rawValue
            source = driver.source
        }
    }

    // MARK: Identity, status and alarms

    struct Address: Encodable, Sendable, Equatable {
        var id: String
        var manufacturer: String
        var manufacturerCode: UInt16
        var version: UInt8
        var type: String
        var typeCode: UInt8
        var address: String

        init(_ address: MBusAddress) {
            id = address.label
            manufacturer = address.manufacturer
            manufacturerCode = address.manufacturerCode
            version = address.version
            type = address.deviceTypeName
            typeCode = address.deviceType
            self.address = address.registryAddress
        }

        enum CodingKeys: String, CodingKey {
            case id, manufacturer, version, type, address
            case manufacturerCode = "manufacturer_code"
            case typeCode = "type_code"
        }
    }

    struct Status: Encodable, Sendable, Equatable {
        var raw: UInt8
        var application: String
        var bits: [String]

        init(_ status: MBusStatus) {
            raw = status.rawValue
            application = status.application.rawValue
            bits = status.names
        }
    }

    /// An alarm and where it was read: the error-flags record (`raw`), the CI field (`ci`) or the TPL status.
    struct Alarm: Encodable, Sendable, Equatable {
        var condition: String
        var source: String
        var raw: String?
        var ci: String?

        init(_ condition: String, in frame: MBusFrame) {
            self.condition = condition
            switch condition {
            case "error_flags":
                source = "fd17_error_flags"
                raw = "0x" + String(frame.errorFlags ?? 0, radix: 16, uppercase: true)
            case "alarm_telegram", "application_error_telegram":
                source = "ci"
                ci = byteHex(frame.transport.ci)
            default:
                source = "tpl_status"
            }
        }
    }

    struct Security: Encodable, Sendable, Equatable {
        var mode: UInt8
        var state: String
        var tpl: String
        var ell: String
        var encryptedBytes: Int
        var mac: String
        /// `meter`, `default` (a manufacturer's published default key) or null when nothing was decrypted.
        var keySource: String?

        init(_ frame: MBusFrame) {
            let security = frame.security
            let isDecrypted = security.tpl == .decrypted || security.ell == .decrypted
            mode = security.mode
            state = security.isAlreadyDecrypted ? "already_decrypted" : isDecrypted ? "decrypted" : "none"
            tpl = security.tpl.rawValue
            ell = security.ell.rawValue
            encryptedBytes = security.encryptedByteCount
            mac = frame.authentication?.mac == nil ? "none" : security.isMACVerified ? "verified" : "not_verified"
            keySource = security.keySource?.code
        }

        enum CodingKeys: String, CodingKey {
            case mode, state, tpl, ell, mac
            case encryptedBytes = "encrypted_bytes"
            case keySource = "key_source"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(mode, forKey: .mode)
            try container.encode(state, forKey: .state)
            try container.encode(tpl, forKey: .tpl)
            try container.encode(ell, forKey: .ell)
            try container.encode(encryptedBytes, forKey: .encryptedBytes)
            try container.encode(mac, forKey: .mac)
            try container.encode(keySource, forKey: .keySource)  // null when nothing was decrypted
        }
    }

    // MARK: Layers

    struct Link: Encodable, Sendable, Equatable {
        var format: String
        var l: UInt8
        var c: UInt8
        @ExplicitNull var cName: String?
        var address: Address?
        var primaryAddress: UInt8?

        init(_ link: MBusLinkLayer) {
            format = link.format.rawValue
            l = link.length
            c = link.control
            cName = link.controlName
            address = link.address.map(Address.init)
            primaryAddress = link.primaryAddress
        }

        enum CodingKeys: String, CodingKey {
            case format, l, c, address
            case cName = "c_name"
            case primaryAddress = "primary_address"
        }
    }

    struct ExtendedLink: Encodable, Sendable, Equatable {
        var ci: String
        var cc: UInt8
        var accessNumber: UInt8
        var address: Address?
        var sessionNumber: UInt32?
        var encryption: UInt8?

        init(_ ell: MBusExtendedLinkLayer) {
            ci = byteHex(ell.ci)
            cc = ell.communicationControl
            accessNumber = ell.accessNumber
            address = ell.address.map(Address.init)
            sessionNumber = ell.sessionNumber
            encryption = ell.sessionNumber == nil ? nil : ell.encryption
        }

        enum CodingKeys: String, CodingKey {
            case ci, cc, address, encryption
            case accessNumber = "access_number"
            case sessionNumber = "session_number"
        }
    }

    struct Authentication: Encodable, Sendable, Equatable {
        var fcl: UInt16
        var mcl: UInt8?
        var authType: UInt8?
        var ki: UInt16?
        var mcr: UInt32?
        var mac: String?
        var ml: UInt16?

        init(_ afl: MBusAuthenticationLayer) {
            fcl = afl.fragmentControl
            mcl = afl.messageControl
            authType = afl.authenticationType
            ki = afl.keyInformation
            mcr = afl.messageCounter
            mac = afl.mac.map { Hex.encode(bigEndian: $0) }
            ml = afl.messageLength
        }

        enum CodingKeys: String, CodingKey {
            case fcl, mcl, ki, mcr, mac, ml
            case authType = "auth_type"
        }
    }

    struct Transport: Encodable, Sendable, Equatable {
        var ci: String
        @ExplicitNull var address: Address?
        @ExplicitNull var config: Configuration?

        init(_ transport: MBusTransportLayer) {
            ci = byteHex(transport.ci)
            address = transport.address.map(Address.init)
            config = transport.configuration.map { Configuration($0, of: transport) }
        }
    }

    struct Configuration: Encodable, Sendable, Equatable {
        var raw: UInt16
        var mode: UInt8
        var encryptedBlocks: Int
        var bidirectional: Bool
        var accessibility: Bool
        var synchronous: Bool
        var content: UInt8
        var configurationExtension: UInt8?
        var kdf: UInt8?
        var keyID: UInt8?

        init(_ raw: UInt16, of transport: MBusTransportLayer) {
            self.raw = raw
            mode = transport.securityMode
            encryptedBlocks = transport.encryptedBlockCount
            bidirectional = transport.isBidirectional
            accessibility = transport.isAccessible
            synchronous = transport.isSynchronous
            content = transport.contentType
            configurationExtension = transport.configurationExtension
            kdf = transport.keyDerivation
            keyID = transport.keyID
        }

        enum CodingKeys: String, CodingKey {
            case raw, mode, bidirectional, accessibility, synchronous, content, kdf
            case encryptedBlocks = "encrypted_blocks"
            case configurationExtension = "extension"
            case keyID = "key_id"
        }
    }
}
