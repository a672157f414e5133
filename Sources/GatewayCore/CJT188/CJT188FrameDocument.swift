/// A CJ/T 188 frame as the JSON object `meter-gateway decode --protocol cjt188` prints (allocates; not the hot
/// path).
///
/// Every frame has the names shared by every protocol (`protocol`, `direction`, `frame_type`, `meter`, `readings`,
/// `meter_time`, `status`, `alarms`, `valve`) and the CJ/T 188 header (`control`, `di`, `di_known`, `di_order`,
/// `ser`, `data_length`, `preamble_length`, `checksum`), and beside them the members of its body. Decimal values
/// are exact numbers from scaled integers (``ExactDecimal``). `meter_time` is the meter's own clock as
/// `YYYY-MM-DDThh:mm:ss` (no zone), or `null` when the frame has no clock or the clock is not set or invalid.
public struct CJT188FrameDocument: Encodable, Sendable, Equatable {
    let common: Common
    let fields: Fields

    /// Describes a decoded frame.
    ///
    /// - Parameters:
    ///   - frame: The frame.
    ///   - policy: Decides the ticket priority shown for alarms.
    public init(_ frame: CJT188Frame, policy: TicketPolicy = .serviceCommitments) {
        common = Common(
            direction: frame.isFromMeter ? "from_meter" : "to_meter",
            frameType: frame.body.name,
            meter: Meter(frame),
            readings: Quantity.readings(of: frame.body),
            meterTime: frame.meterTime?.iso8601(),
            status: frame.status.map(Status.init),
            alarms: frame.status.map { Alarm.raised(by: $0, policy: policy) } ?? [],
            valve: frame.valve?.name,
            control: Control(frame),
            di: frame.dataIdentifier?.hex,
            diKnown: frame.dataIdentifier?.isKnown ?? false,
            diOrder: frame.diOrder?.name,
            ser: frame.sequence,
            dataLength: frame.dataLength,
            preambleLength: frame.preambleLength,
            checksum: frame.checksum
        )
        fields = Fields(frame.body)
    }

    /// Writes the shared names, the header and the body's fields into one object.
    ///
    /// - Parameter encoder: An encoder that can write ``ExactDecimal``s.
    /// - Throws: `EncodingError` from the encoder.
    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        try fields.encode(to: encoder)
    }

    // MARK: Shared names and header

    struct Common: Encodable, Sendable, Equatable {
        var `protocol` = "cjt188"
        var direction: String
        var frameType: String
        var meter: Meter
        var readings: [Quantity]
        @ExplicitNull var meterTime: String?
        @ExplicitNull var status: Status?
        var alarms: [Alarm]
        @ExplicitNull var valve: String?
        var control: Control
        @ExplicitNull var di: String?
        var diKnown: Bool
        @ExplicitNull var diOrder: String?
        @ExplicitNull var ser: UInt8?
        var dataLength: Int
        var preambleLength: Int
        var checksum: UInt8

        enum CodingKeys: String, CodingKey {
            case `protocol`, direction, meter, readings, status, alarms, valve, control, di, ser, checksum
            case frameType = "frame_type"
            case meterTime = "meter_time"
            case diKnown = "di_known"
            case diOrder = "di_order"
            case dataLength = "data_length"
            case preambleLength = "preamble_length"
        }
    }

    struct Meter: Encodable, Sendable, Equatable {
        var id: String
        var type: String
        var typeCode: UInt8
        var idIsBCD: Bool
        var addressHex: String

        init(_ frame: CJT188Frame) {
            id = frame.address.label
            type = frame.meterType.family?.name ?? "unknown"
            typeCode = frame.meterType.rawValue
            idIsBCD = frame.address.isBCD
            addressHex = frame.address.wireHex
        }

        enum CodingKeys: String, CodingKey {
            case id, type
            case typeCode = "type_code"
            case idIsBCD = "id_is_bcd"
            case addressHex = "address_hex"
        }
    }

    struct Control: Encodable, Sendable, Equatable {
        var code: UInt8
        var hex: String
        var function: String
        var functionCode: UInt8
        var fromMeter: Bool
        var abnormal: Bool

        init(_ frame: CJT188Frame) {
            code = frame.control.rawValue
            hex = Hex.encode([frame.control.rawValue])
            function = frame.function.name
            functionCode = frame.function.rawValue
            fromMeter = frame.control.isFromMeter
            abnormal = frame.control.isAbnormal
        }

        enum CodingKeys: String, CodingKey {
            case code, hex, function, abnormal
            case functionCode = "function_code"
            case fromMeter = "from_meter"
        }
    }

    struct Status: Encodable, Sendable, Equatable {
        var raw: UInt16
        var st1: UInt8
        var st2: UInt8
        var bits: [String]

        init(_ status: CJT188Status) {
            raw = status.rawValue
            st1 = status.st1
            st2 = status.st2
            bits = status.names
        }
    }

    /// A raised alarm bit of the status word (the standard profile).
    struct Alarm: Encodable, Sendable, Equatable {
        var condition: String
        var source: String
        var state = "raised"
        var priority: String

        static func raised(by status: CJT188Status, policy: TicketPolicy) -> [Alarm] {
            CJT188Status.alarmBits.filter { status.rawValue & (1 << UInt16($0.bit)) != 0 }.map {
                Alarm(
                    condition: $0.condition.rawValue,
                    source: CJT188Status.bitNames[$0.bit],
                    priority: policy.priority(for: $0.condition, valve: status.valve).rawValue
                )
            }
        }
    }
}
