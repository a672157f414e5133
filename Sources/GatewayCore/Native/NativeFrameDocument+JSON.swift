// A NativeFrameDocument through the fast JSONWriter: the same text as its Encodable form through GatewayJSONEncoder.
// The shared names and the frame type's fields share one object, so the writer sorts its members; every nested
// object writes its members in byte order of their keys. `DecodeJSONWriterTests` compares the two forms for every
// golden vector.

extension NativeFrameDocument: JSONWritable {
    /// Writes the document as one JSON object.
    /// - Parameter writer: The writer.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject(sortingMembers: true)
        common.writeMembers(to: &writer)
        fields.writeMembers(to: &writer)
        writer.endObject()
    }
}

extension NativeFrameDocument.Common {
    func writeMembers(to writer: inout JSONWriter) {
        writer.key("alarms")
        writer.beginArray()
        for alarm in alarms { alarm.write(to: &writer) }
        writer.endArray()
        writer.member("direction", direction)
        writer.key("flags")
        writer.beginObject()
        writer.member("ack_requested", flags.ackRequested)
        writer.member("retransmission", flags.retransmission)
        writer.endObject()
        writer.member("frame_counter", frameCounter)
        writer.member("frame_type", frameType)
        writer.member("frame_type_code", frameTypeCode)
        writer.member("mac", mac)
        writer.member("mac_hex", macHex)
        writer.key("meter")
        writer.beginObject()
        writer.member("id", meter.id)
        writer.member("type", meter.type)
        writer.endObject()
        writer.member("meter_time", meterTime)
        writer.member("payload_length", payloadLength)
        writer.member("protocol", `protocol`)
        writer.key("readings")
        writer.beginArray()
        for reading in readings { reading.write(to: &writer) }
        writer.endArray()
        writer.key("status")
        if let status {
            writer.beginObject()
            writer.key("bits")
            writer.beginArray()
            for bit in status.bits { writer.string(bit) }
            writer.endArray()
            writer.member("raw", status.raw)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.member("version", version)
    }
}

extension NativeFrameDocument.Quantity {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("basis", basis)
        writer.member("quantity", quantity)
        writer.member("storage", storage)
        writer.member("tariff", tariff)
        if let time {
            writer.member("time", time.wrappedValue)
        }
        writer.member("unit", unit)
        writer.member("value", value)
        writer.endObject()
    }
}

extension NativeFrameDocument.Alarm {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("code", code)
        writer.member("code_hex", codeHex)
        writer.member("condition", condition)
        writer.member("detail", detail)
        writer.member("priority", priority)
        writer.member("state", state)
        writer.member("time", time)
        writer.endObject()
    }
}

extension NativeFrameDocument.Register {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("digits", digits)
        writer.member("exponent", exponent)
        writer.member("modulus_m3", modulusM3)
        writer.member("raw", raw)
        writer.member("value_m3", valueM3)
        writer.endObject()
    }
}

extension NativeFrameDocument.Fields {
    /// Writes the frame type's members into the object the shared names are written into.
    func writeMembers(to writer: inout JSONWriter) {
        switch self {
        case .reading(let fields):
            writer.member("battery_mv", fields.batteryMv)
            writer.member("flow_ml_h", fields.flowMlH)
            writer.key("register")
            fields.register.write(to: &writer)
            writer.member("signal_dbm", fields.signalDbm)
            writer.member("temperature_c", fields.temperatureC)
            writer.member("valve", fields.valve)
        case .dailyReport(let fields):
            writer.key("frozen_totals")
            writer.beginArray()
            for total in fields.frozenTotals {
                writer.beginObject()
                writer.member("raw", total.raw)
                writer.member("time", total.time)
                writer.member("value_m3", total.valueM3)
                writer.endObject()
            }
            writer.endArray()
            writer.key("interval_log")
            fields.intervalLog.write(to: &writer)
        case .alarm(let fields):
            writer.member("flow_ml_h", fields.flowMlH)
            writer.key("register")
            fields.register.write(to: &writer)
            writer.member("valve", fields.valve)
        case .commandResult(let fields):
            writer.key("command_result")
            writer.beginObject()
            writer.member("command_frame_counter", fields.commandResult.commandFrameCounter)
            writer.member("command_type", fields.commandResult.commandType)
            writer.member("result", fields.commandResult.result)
            writer.endObject()
            writer.member("valve", fields.valve)
        case .ack(let fields):
            writer.key("ack")
            writer.beginObject()
            writer.member("acked_frame_counter", fields.ack.ackedFrameCounter)
            writer.member("acked_frame_type", fields.ack.ackedFrameType)
            writer.member("acked_frame_type_code", fields.ack.ackedFrameTypeCode)
            writer.member("result", fields.ack.result)
            writer.member("server_time", fields.ack.serverTime)
            writer.endObject()
        case .valveCommand(let fields):
            writer.key("valve_command")
            writer.beginObject()
            writer.member("action", fields.valveCommand.action)
            writer.member("reason_code", fields.valveCommand.reasonCode)
            writer.member("reason_condition", fields.valveCommand.reasonCondition)
            writer.endObject()
        case .parameterUpdate(let fields):
            writer.key("parameters")
            writer.beginArray()
            for parameter in fields.parameters {
                writer.beginObject()
                writer.member("id", parameter.id)
                writer.member("name", parameter.name)
                writer.member("value", parameter.value)
                writer.endObject()
            }
            writer.endArray()
        }
    }
}

extension NativeFrameDocument.IntervalLog {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("interval_minutes", intervalMinutes)
        writer.member("point_count", pointCount)
        writer.key("points")
        writer.beginArray()
        for point in points {
            writer.beginObject()
            writer.member("consumption_m3", point.consumptionM3)
            writer.member("consumption_raw", point.consumptionRaw)
            writer.member("end_index_m3", point.endIndexM3)
            writer.member("start", point.start)
            writer.endObject()
        }
        writer.endArray()
        writer.key("register")
        register.write(to: &writer)
        writer.member("start", start)
        writer.endObject()
    }
}
