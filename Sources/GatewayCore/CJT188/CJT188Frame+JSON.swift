extension CJT188Frame {
    /// The frame as one JSON object, for `meter-gateway decode --protocol cjt188` (allocates; not the hot path).
    ///
    /// The common names shared by every protocol come first (`protocol`, `direction`, `frame_type`, `meter`,
    /// `readings`, `meter_time`, `status`, `alarms`, `valve`), then the CJ/T 188 header fields (`control`, `di`,
    /// `di_order`, `di_known`, `ser`, `data_length`, `preamble_length`, `checksum`), then the fields of the body.
    /// Decimal values are rendered exactly from scaled integers. `meter_time` is the meter's own clock as
    /// `YYYY-MM-DDThh:mm:ss` (no zone), or `null` when the frame has no clock or the clock is not set or invalid.
    ///
    /// - Parameter policy: Decides the ticket priority shown for alarms.
    /// - Returns: One JSON object.
    public func renderJSON(policy: TicketPolicy = .serviceCommitments) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.field("protocol", string: "cjt188")
        json.field("direction", string: isFromMeter ? "from_meter" : "to_meter")
        json.field("frame_type", string: body.name)
        json.key("meter")
        json.beginObject()
        json.field("id", string: address.label)
        json.field("type", string: meterType.family?.name ?? "unknown")
        json.field("type_code", integer: meterType.rawValue)
        json.field("id_is_bcd", bool: address.isBCD)
        json.field("address_hex", string: address.wireHex)
        json.endObject()

        json.key("readings")
        json.beginArray()
        writeReadings(to: &json)
        json.endArray()

        json.key("meter_time")
        if let time = meterTime {
            json.string(time.iso8601())
        } else {
            json.null()
        }

        if let status {
            json.key("status")
            json.beginObject()
            json.field("raw", integer: status.rawValue)
            json.field("st1", integer: status.st1)
            json.field("st2", integer: status.st2)
            json.key("bits")
            json.beginArray()
            for name in status.names {
                json.string(name)
            }
            json.endArray()
            json.endObject()
        } else {
            json.fieldNull("status")
        }

        json.key("alarms")
        json.beginArray()
        if let status {
            for (bit, condition) in CJT188Status.alarmBits where status.rawValue & (1 << UInt16(bit)) != 0 {
                json.beginObject()
                json.field("condition", string: condition.rawValue)
                json.field("source", string: CJT188Status.bitNames[bit])
                json.field("state", string: "raised")
                json.field("priority", string: policy.priority(for: condition, valve: status.valve).rawValue)
                json.endObject()
            }
        }
        json.endArray()
        if let valve {
            json.field("valve", string: valve.name)
        } else {
            json.fieldNull("valve")
        }

        json.key("control")
        json.beginObject()
        json.field("code", integer: control.rawValue)
        json.field("hex", string: Hex.encode([control.rawValue]))
        json.field("function", string: function.name)
        json.field("function_code", integer: function.rawValue)
        json.field("from_meter", bool: control.isFromMeter)
        json.field("abnormal", bool: control.isAbnormal)
        json.endObject()
        if let dataIdentifier {
            json.field("di", string: dataIdentifier.hex)
            json.field("di_known", bool: dataIdentifier.isKnown)
        } else {
            json.fieldNull("di")
            json.field("di_known", bool: false)
        }
        if let diOrder {
            json.field("di_order", string: diOrder.name)
        } else {
            json.fieldNull("di_order")
        }
        if let sequence {
            json.field("ser", integer: sequence)
        } else {
            json.fieldNull("ser")
        }
        json.field("data_length", integer: dataLength)
        json.field("preamble_length", integer: preambleLength)
        json.field("checksum", integer: checksum)

        writeBodyFields(to: &json)
        json.endObject()
        return json.text
    }

    private func writeReadings(to json: inout JSONWriter) {
        switch body {
        case .meterData(let data):
            Self.writeQuantity("volume", data.currentVolume, storage: 0, label: nil, to: &json)
            Self.writeQuantity(
                "volume",
                data.settlementVolume,
                storage: 1,
                label: "settlement_or_period_value",
                to: &json
            )
        case .heatData(let data):
            Self.writeQuantity("energy", data.currentHeat, storage: 0, label: nil, to: &json)
            Self.writeQuantity("energy", data.settlementHeat, storage: 1, label: "settlement_day_heat", to: &json)
            Self.writeQuantity("power", data.power, storage: 0, label: nil, to: &json)
            Self.writeQuantity("flow", data.flow, storage: 0, label: nil, to: &json)
            Self.writeQuantity("volume", data.cumulativeVolume, storage: 0, label: nil, to: &json)
            Self.writePlain("supply_temperature", data.supplyTemperatureCentiCelsius, scale: 2, unit: "degC", to: &json)
            Self.writePlain("return_temperature", data.returnTemperatureCentiCelsius, scale: 2, unit: "degC", to: &json)
            Self.writePlain("operating_time", data.operatingHours, scale: 0, unit: "h", to: &json)
        case .settlementHistory(let history):
            Self.writeQuantity(
                "volume",
                history.volume,
                storage: history.monthsAgo,
                label: "settlement_day_volume",
                to: &json
            )
        default:
            break
        }
    }

    private func writeBodyFields(to json: inout JSONWriter) {
        switch body {
        case .request:
            break
        case .meterData(let data):
            json.field("clock", string: data.clock.state.name)
        case .heatData(let data):
            json.field("clock", string: data.clock.state.name)
        case .clock(let clock):
            json.field("clock", string: clock.state.name)
        case .settlementHistory(let history):
            json.field("months_ago", integer: history.monthsAgo)
        case .valveCommand(let command):
            json.key("valve_command")
            json.beginObject()
            json.field("action", string: command.name)
            json.field("code", integer: command.rawValue)
            json.endObject()
        case .valveStatus(let reply):
            json.field("status_bytes", integer: reply.byteCount)
        case .addressReply(let reported):
            if let reported {
                json.field("reported_address", string: reported.label)
            } else {
                json.fieldNull("reported_address")
            }
        case .newAddress(let newAddress):
            json.key("new_address")
            json.beginObject()
            json.field("id", string: newAddress.label)
            json.field("id_is_bcd", bool: newAddress.isBCD)
            json.endObject()
        case .abnormal(let payload):
            json.key("abnormal")
            json.beginObject()
            json.field("status", integer: payload.count > 0 ? Int(payload.bytes[0]) : 0)
            json.field("status_hex", string: Hex.encode(payload.array))
            json.endObject()
        case .raw(let payload):
            json.field("payload_hex", string: Hex.encode(payload.array))
        }
    }

    private static func writeQuantity(
        _ quantity: String,
        _ value: CJT188Quantity,
        storage: Int,
        label: String?,
        to json: inout JSONWriter
    ) {
        json.beginObject()
        json.field("quantity", string: quantity)
        json.field(
            "value",
            literal: DecimalText.format(
                magnitude: value.displayRaw,
                isNegative: false,
                scale: value.displayScale,
                trimTrailingZeros: false
            )
        )
        json.field("unit", string: value.unit.displaySymbol)
        json.field("storage", integer: storage)
        json.field("tariff", integer: 0)
        json.field("basis", string: "unspecified")
        json.field("unit_code", integer: value.unit.rawValue)
        if let millilitres = value.millilitres {
            json.field("millilitres", integer: millilitres)
        }
        if let label {
            json.field("label", string: label)
        }
        json.endObject()
    }

    private static func writePlain(
        _ quantity: String,
        _ raw: UInt32,
        scale: Int,
        unit: String,
        to json: inout JSONWriter
    ) {
        json.beginObject()
        json.field("quantity", string: quantity)
        json.field(
            "value",
            literal: DecimalText.format(
                magnitude: UInt64(raw),
                isNegative: false,
                scale: scale,
                trimTrailingZeros: false
            )
        )
        json.field("unit", string: unit)
        json.field("storage", integer: 0)
        json.field("tariff", integer: 0)
        json.field("basis", string: "unspecified")
        json.endObject()
    }
}
