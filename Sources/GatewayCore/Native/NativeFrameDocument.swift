/// A native frame as the JSON object `meter-gateway decode --protocol native` prints (allocates; not the hot path).
///
/// Every frame has the names shared by every protocol (`protocol`, `direction`, `frame_type`, `meter`, `readings`,
/// `meter_time`, `status`, `alarms`) and the native header (`version`, `frame_type_code`, `frame_counter`, `flags`,
/// `mac`, `mac_hex`, `payload_length`), and beside them the members of its frame type (`register`, `interval_log`,
/// `ack`, …). Decimal values are exact numbers from scaled integers (``ExactDecimal``); times are the meter's UTC
/// clock as `YYYY-MM-DDThh:mm:ss`, or `null` when the clock is not set.
public struct NativeFrameDocument: Encodable, Sendable, Equatable {
    let common: Common
    let fields: Fields

    /// Describes a decoded frame.
    ///
    /// - Parameters:
    ///   - frame: The frame.
    ///   - policy: Decides the ticket priority shown for alarms.
    public init(_ frame: NativeFrame, policy: TicketPolicy = .serviceCommitments) {
        let header = frame.header
        var readings: [Quantity] = []
        var status: Status?
        var alarms: [Alarm] = []
        switch frame.body {
        case .reading(let reading):
            readings = Quantity.current(reading.register, flow: reading.flowMillilitresPerHour)
            status = Status(raw: reading.status.rawValue, bits: reading.status.names)
            fields = .reading(ReadingFields(reading))
        case .dailyReport(let report):
            readings = report.frozenTotalArray.enumerated().map { entry, total in
                Quantity.volume(
                    report.startRegister.cubicMetres(counts: total.raw),
                    storage: entry + 1,
                    time: ExplicitNull(wrappedValue: Self.time(total.time))
                )
            }
            fields = .dailyReport(DailyReportFields(report))
        case .alarm(let alarm):
            readings = Quantity.current(alarm.register, flow: alarm.flowMillilitresPerHour)
            alarms = [Alarm(alarm, time: Self.time(header.meterTime), policy: policy)]
            fields = .alarm(AlarmFields(alarm))
        case .commandResult(let result):
            fields = .commandResult(CommandResultFields(result))
        case .ack(let ack):
            fields = .ack(AckFields(ack))
        case .valveCommand(let command):
            fields = .valveCommand(ValveCommandFields(command))
        case .parameterUpdate(let update):
            fields = .parameterUpdate(ParameterUpdateFields(update))
        }
        common = Common(
            version: header.version,
            direction: frame.isUplink ? "from_meter" : "to_meter",
            frameType: frame.frameType.name,
            frameTypeCode: header.frameType,
            meter: Meter(id: String(header.meterID)),
            frameCounter: header.frameCounter,
            flags: Flags(
                ackRequested: header.flags.contains(.ackRequested),
                retransmission: header.flags.contains(.retransmission)
            ),
            mac: frame.macStatus.name,
            macHex: Hex.encode(bigEndian: frame.mac),
            meterTime: Self.time(header.meterTime),
            payloadLength: header.payloadLength,
            readings: readings,
            status: status,
            alarms: alarms
        )
    }

    /// Writes the shared names and the frame type's fields into one object.
    ///
    /// - Parameter encoder: An encoder that can write ``ExactDecimal``s.
    /// - Throws: `EncodingError` from the encoder.
    public func encode(to encoder: any Encoder) throws {
        try common.encode(to: encoder)
        try fields.encode(to: encoder)
    }

    /// A meter clock (seconds since 1970, UTC) as `YYYY-MM-DDThh:mm:ss`, or `nil` for 0 (not set).
    static func time(_ seconds: UInt32) -> String? {
        seconds == 0 ? nil : CivilTime(utcSeconds: Int64(seconds)).iso8601()
    }

    // MARK: Shared names

    struct Common: Encodable, Sendable, Equatable {
        var `protocol` = "native"
        var version: UInt8
        var direction: String
        var frameType: String
        var frameTypeCode: UInt8
        var meter: Meter
        var frameCounter: UInt32
        var flags: Flags
        var mac: String
        var macHex: String
        @ExplicitNull var meterTime: String?
        var payloadLength: Int
        var readings: [Quantity]
        @ExplicitNull var status: Status?
        var alarms: [Alarm]

        enum CodingKeys: String, CodingKey {
            case `protocol`, version, direction, meter, flags, mac, readings, status, alarms
            case frameType = "frame_type"
            case frameTypeCode = "frame_type_code"
            case frameCounter = "frame_counter"
            case macHex = "mac_hex"
            case meterTime = "meter_time"
            case payloadLength = "payload_length"
        }
    }

    struct Meter: Encodable, Sendable, Equatable {
        var id: String
        var type = "gas"
    }

    struct Flags: Encodable, Sendable, Equatable {
        var ackRequested: Bool
        var retransmission: Bool

        enum CodingKeys: String, CodingKey {
            case retransmission
            case ackRequested = "ack_requested"
        }
    }

    /// One entry of `readings`: a volume (m³) or a flow (m³/h); `time` only on a daily report's frozen totals.
    struct Quantity: Encodable, Sendable, Equatable {
        var quantity: String
        var value: ExactDecimal
        var unit: String
        var storage: Int
        var tariff = 0
        var basis = "uncorrected"
        var time: ExplicitNull<String>?

        static func volume(_ value: ExactDecimal, storage: Int, time: ExplicitNull<String>? = nil) -> Quantity {
            Quantity(quantity: "volume", value: value, unit: "m3", storage: storage, time: time)
        }

        /// The register's volume and, when measured, the flow.
        static func current(_ register: NativeFrame.Register, flow: UInt32?) -> [Quantity] {
            var readings = [volume(register.cubicMetres(counts: register.raw), storage: 0)]
            if let flow {
                let value = ExactDecimal(Int64(flow), exponent: -6)
                readings.append(Quantity(quantity: "flow", value: value, unit: "m3/h", storage: 0))
            }
            return readings
        }
    }

    struct Status: Encodable, Sendable, Equatable {
        var raw: UInt32
        var bits: [String]
    }

    struct Alarm: Encodable, Sendable, Equatable {
        var code: UInt16
        var codeHex: String
        var condition: String
        var state: String
        var priority: String
        var detail: Int32
        @ExplicitNull var time: String?

        init(_ alarm: NativeFrame.Alarm, time: String?, policy: TicketPolicy) {
            code = alarm.code
            codeHex = "0x" + Hex.encode([UInt8(alarm.code >> 8), UInt8(alarm.code & 0xFF)])
            condition = alarm.condition.rawValue
            state = alarm.isRaised ? "raised" : "cleared"
            priority = policy.priority(for: alarm.condition, valve: alarm.valve).rawValue
            detail = alarm.detail
            self.time = time
        }

        enum CodingKeys: String, CodingKey {
            case code, condition, state, priority, detail, time
            case codeHex = "code_hex"
        }
    }

    struct Register: Encodable, Sendable, Equatable {
        /// Text: a 64-bit count does not fit a JSON reader's double.
        var raw: String
        var exponent: Int8
        var digits: UInt8
        var valueM3: ExactDecimal
        var modulusM3: UInt64

        init(_ register: NativeFrame.Register) {
            raw = String(register.raw)
            exponent = register.exponent
            digits = register.digits
            valueM3 = register.cubicMetres(counts: register.raw)
            modulusM3 = DecimalScale.powerOfTen(Int(register.digits))
        }

        enum CodingKeys: String, CodingKey {
            case raw, exponent, digits
            case valueM3 = "value_m3"
            case modulusM3 = "modulus_m3"
        }
    }
}
