extension NativeFrame {
    /// The frame as one JSON object, for `meter-gateway decode --protocol native` (allocates; not the hot path).
    ///
    /// The common names shared by every protocol come first (`protocol`, `direction`, `frame_type`, `meter`,
    /// `frame_counter`, `flags`, `mac`, `meter_time`, `readings`, `status`, `alarms`), then the fields of the frame
    /// type. Decimal values are rendered exactly from scaled integers; times are the meter's UTC clock as
    /// `YYYY-MM-DDThh:mm:ss`, or `null` when the clock is not set.
    ///
    /// - Parameter policy: Decides the ticket priority shown for alarms.
    /// - Returns: One JSON object.
    public func renderJSON(policy: TicketPolicy = .serviceCommitments) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.field("protocol", string: "native")
        json.field("version", integer: header.version)
        json.field("direction", string: isUplink ? "from_meter" : "to_meter")
        json.field("frame_type", string: frameType.name)
        json.field("frame_type_code", integer: header.frameType)
        json.key("meter")
        json.beginObject()
        json.field("id", string: String(header.meterID))
        json.field("type", string: "gas")
        json.endObject()
        json.field("frame_counter", integer: header.frameCounter)
        json.key("flags")
        json.beginObject()
        json.field("ack_requested", bool: header.flags.contains(.ackRequested))
        json.field("retransmission", bool: header.flags.contains(.retransmission))
        json.endObject()
        json.field("mac", string: macStatus.name)
        json.field("mac_hex", string: Hex.encode((0..<8).map { UInt8(truncatingIfNeeded: mac >> (56 - 8 * $0)) }))
        json.key("meter_time")
        Self.writeTime(header.meterTime, to: &json)
        json.field("payload_length", integer: header.payloadLength)

        switch body {
        case .reading(let reading):
            json.key("readings")
            json.beginArray()
            Self.writeVolume(reading.register, storage: 0, time: nil, to: &json)
            Self.writeFlow(reading.flowMillilitresPerHour, to: &json)
            json.endArray()
            Self.writeStatus(reading.status, to: &json)
            json.key("alarms")
            json.beginArray()
            json.endArray()
            Self.writeRegister(reading.register, to: &json)
            json.field("valve", string: reading.valve.name)
            Self.writeOptional("flow_ml_h", reading.flowMillilitresPerHour, to: &json)
            Self.writeOptional("battery_mv", reading.batteryMillivolts, to: &json)
            json.key("temperature_c")
            if let temperature = reading.temperatureCentiCelsius {
                json.literal(DecimalText.format(Int64(temperature), scale: 2, trimTrailingZeros: false))
            } else {
                json.null()
            }
            Self.writeOptional("signal_dbm", reading.signalDBm, to: &json)

        case .dailyReport(let report):
            let register = report.startRegister
            let frozenCount = min(max(report.frozenCount, 0), DailyReport.maximumFrozenCount)
            let pointCount = min(max(report.pointCount, 0), DailyReport.maximumPointCount)
            json.key("readings")
            json.beginArray()
            for entry in 0..<frozenCount {
                let total = report.frozenTotals[entry]
                let frozen = Register(raw: total.raw, exponent: register.exponent, digits: register.digits)
                Self.writeVolume(frozen, storage: entry + 1, time: total.time, to: &json)
            }
            json.endArray()
            json.fieldNull("status")
            json.key("alarms")
            json.beginArray()
            json.endArray()
            json.key("interval_log")
            json.beginObject()
            json.key("start")
            Self.writeTime(report.intervalStart, to: &json)
            json.field("interval_minutes", integer: report.intervalMinutes)
            json.field("point_count", integer: pointCount)
            Self.writeRegister(register, to: &json)
            json.key("points")
            json.beginArray()
            let modulus = register.rawModulus
            var index = modulus == 0 ? 0 : register.raw % modulus
            for point in 0..<pointCount {
                let consumption = UInt64(report.points[point])
                index &+= consumption
                if modulus != 0 { index %= modulus }
                json.beginObject()
                json.key("start")
                Self.writeTime(
                    UInt32(
                        truncatingIfNeeded: UInt64(report.intervalStart) &+ UInt64(point) &* 60
                            &* UInt64(report.intervalMinutes)
                    ),
                    to: &json
                )
                json.field("consumption_raw", integer: consumption)
                json.field("consumption_m3", literal: Self.cubicMetres(consumption, register))
                json.field("end_index_m3", literal: Self.cubicMetres(index, register))
                json.endObject()
            }
            json.endArray()
            json.endObject()
            json.key("frozen_totals")
            json.beginArray()
            for entry in 0..<frozenCount {
                let total = report.frozenTotals[entry]
                json.beginObject()
                json.key("time")
                Self.writeTime(total.time, to: &json)
                json.field("raw", string: String(total.raw))
                json.field("value_m3", literal: Self.cubicMetres(total.raw, register))
                json.endObject()
            }
            json.endArray()

        case .alarm(let alarm):
            json.key("readings")
            json.beginArray()
            Self.writeVolume(alarm.register, storage: 0, time: nil, to: &json)
            Self.writeFlow(alarm.flowMillilitresPerHour, to: &json)
            json.endArray()
            json.fieldNull("status")
            json.key("alarms")
            json.beginArray()
            json.beginObject()
            json.field("code", integer: alarm.code)
            json.field("code_hex", string: "0x" + Hex.encode([UInt8(alarm.code >> 8), UInt8(alarm.code & 0xFF)]))
            json.field("condition", string: alarm.condition.rawValue)
            json.field("state", string: alarm.isRaised ? "raised" : "cleared")
            json.field("priority", string: policy.priority(for: alarm.condition, valve: alarm.valve).rawValue)
            json.field("detail", integer: alarm.detail)
            json.key("time")
            Self.writeTime(header.meterTime, to: &json)
            json.endObject()
            json.endArray()
            Self.writeRegister(alarm.register, to: &json)
            json.field("valve", string: alarm.valve.name)
            Self.writeOptional("flow_ml_h", alarm.flowMillilitresPerHour, to: &json)

        case .commandResult(let result):
            Self.writeEmptyCommon(to: &json)
            json.key("command_result")
            json.beginObject()
            json.field("command_frame_counter", integer: result.commandFrameCounter)
            json.field("command_type", string: result.commandType.name)
            json.field("result", string: result.outcome.name)
            json.endObject()
            json.field("valve", string: result.valve.name)

        case .ack(let ack):
            Self.writeEmptyCommon(to: &json)
            json.key("ack")
            json.beginObject()
            json.field("acked_frame_counter", integer: ack.ackedFrameCounter)
            json.field("acked_frame_type", string: NativeFrameType(rawValue: ack.ackedFrameType)?.name ?? "unknown")
            json.field("acked_frame_type_code", integer: ack.ackedFrameType)
            json.field("result", string: ack.result.name)
            json.key("server_time")
            Self.writeTime(ack.serverTime, to: &json)
            json.endObject()

        case .valveCommand(let command):
            Self.writeEmptyCommon(to: &json)
            json.key("valve_command")
            json.beginObject()
            json.field("action", string: command.action.name)
            json.field("reason_code", integer: command.reason)
            if command.reason == 0 {
                json.fieldNull("reason_condition")
            } else {
                json.field("reason_condition", string: AlarmCondition(nativeCode: command.reason).rawValue)
            }
            json.endObject()

        case .parameterUpdate(let update):
            Self.writeEmptyCommon(to: &json)
            json.key("parameters")
            json.beginArray()
            for index in 0..<min(max(update.count, 0), ParameterUpdate.maximumCount) {
                let parameter = update.parameters[index]
                json.beginObject()
                json.field("id", integer: parameter.id.rawValue)
                json.field("name", string: parameter.id.name)
                json.field("value", integer: parameter.value)
                json.endObject()
            }
            json.endArray()
        }
        json.endObject()
        return json.text
    }

    private static func writeEmptyCommon(to json: inout JSONWriter) {
        json.key("readings")
        json.beginArray()
        json.endArray()
        json.fieldNull("status")
        json.key("alarms")
        json.beginArray()
        json.endArray()
    }

    private static func writeTime(_ seconds: UInt32, to json: inout JSONWriter) {
        if seconds == 0 {
            json.null()
        } else {
            json.string(CivilTime(utcSeconds: Int64(seconds)).iso8601())
        }
    }

    private static func cubicMetres(_ raw: UInt64, _ register: Register) -> String {
        DecimalText.format(magnitude: raw, isNegative: false, scale: -Int(register.exponent), trimTrailingZeros: false)
    }

    private static func writeVolume(_ register: Register, storage: Int, time: UInt32?, to json: inout JSONWriter) {
        json.beginObject()
        json.field("quantity", string: "volume")
        json.field("value", literal: register.cubicMetresText)
        json.field("unit", string: "m3")
        json.field("storage", integer: storage)
        json.field("tariff", integer: 0)
        json.field("basis", string: "uncorrected")
        if let time {
            json.key("time")
            writeTime(time, to: &json)
        }
        json.endObject()
    }

    private static func writeFlow(_ flow: UInt32?, to json: inout JSONWriter) {
        guard let flow else { return }
        json.beginObject()
        json.field("quantity", string: "flow")
        json.field("value", literal: DecimalText.format(Int64(flow), scale: 6, trimTrailingZeros: true))
        json.field("unit", string: "m3/h")
        json.field("storage", integer: 0)
        json.field("tariff", integer: 0)
        json.field("basis", string: "uncorrected")
        json.endObject()
    }

    private static func writeStatus(_ status: NativeStatus, to json: inout JSONWriter) {
        json.key("status")
        json.beginObject()
        json.field("raw", integer: status.rawValue)
        json.key("bits")
        json.beginArray()
        for name in status.names {
            json.string(name)
        }
        json.endArray()
        json.endObject()
    }

    private static func writeRegister(_ register: Register, to json: inout JSONWriter) {
        json.key("register")
        json.beginObject()
        json.field("raw", string: String(register.raw))
        json.field("exponent", integer: register.exponent)
        json.field("digits", integer: register.digits)
        json.field("value_m3", literal: register.cubicMetresText)
        json.field("modulus_m3", literal: String(DecimalScale.powerOfTen(Int(register.digits))))
        json.endObject()
    }

    private static func writeOptional(_ name: String, _ value: (some BinaryInteger)?, to json: inout JSONWriter) {
        if let value {
            json.field(name, integer: value)
        } else {
            json.fieldNull(name)
        }
    }
}
