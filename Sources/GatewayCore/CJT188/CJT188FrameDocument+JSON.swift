// A CJT188FrameDocument through the fast JSONWriter: the same text as its Encodable form through GatewayJSONEncoder.
// The shared names and the body's fields share one object, so the writer sorts its members; every nested object
// writes its members in byte order of their keys. `DecodeJSONWriterTests` compares the two forms for every golden
// vector.

extension CJT188FrameDocument: JSONWritable {
    /// Writes the document as one JSON object.
    /// - Parameter writer: The writer.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject(sortingMembers: true)
        common.writeMembers(to: &writer)
        fields.writeMembers(to: &writer)
        writer.endObject()
    }
}

extension CJT188FrameDocument.Common {
    func writeMembers(to writer: inout JSONWriter) {
        writer.key("alarms")
        writer.beginArray()
        for alarm in alarms {
            writer.beginObject()
            writer.member("condition", alarm.condition)
            writer.member("priority", alarm.priority)
            writer.member("source", alarm.source)
            writer.member("state", alarm.state)
            writer.endObject()
        }
        writer.endArray()
        writer.member("checksum", checksum)
        writer.key("control")
        writer.beginObject()
        writer.member("abnormal", control.abnormal)
        writer.member("code", control.code)
        writer.member("from_meter", control.fromMeter)
        writer.member("function", control.function)
        writer.member("function_code", control.functionCode)
        writer.member("hex", control.hex)
        writer.endObject()
        writer.member("data_length", dataLength)
        writer.member("di", di)
        writer.member("di_known", diKnown)
        writer.member("di_order", diOrder)
        writer.member("direction", direction)
        writer.member("frame_type", frameType)
        writer.key("meter")
        writer.beginObject()
        writer.member("address_hex", meter.addressHex)
        writer.member("id", meter.id)
        writer.member("id_is_bcd", meter.idIsBCD)
        writer.member("type", meter.type)
        writer.member("type_code", meter.typeCode)
        writer.endObject()
        writer.member("meter_time", meterTime)
        writer.member("preamble_length", preambleLength)
        writer.member("protocol", `protocol`)
        writer.key("readings")
        writer.beginArray()
        for reading in readings { reading.write(to: &writer) }
        writer.endArray()
        writer.member("ser", ser)
        writer.key("status")
        if let status {
            writer.beginObject()
            writer.key("bits")
            writer.beginArray()
            for bit in status.bits { writer.string(bit) }
            writer.endArray()
            writer.member("raw", status.raw)
            writer.member("st1", status.st1)
            writer.member("st2", status.st2)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.member("valve", valve)
    }
}

extension CJT188FrameDocument.Quantity {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("basis", basis)
        writer.memberIfPresent("label", label)
        writer.memberIfPresent("millilitres", millilitres)
        writer.member("quantity", quantity)
        writer.member("storage", storage)
        writer.member("tariff", tariff)
        writer.member("unit", unit)
        writer.memberIfPresent("unit_code", unitCode)
        writer.member("value", value)
        writer.endObject()
    }
}

extension CJT188FrameDocument.Fields {
    /// Writes the body's members into the object the shared names are written into.
    func writeMembers(to writer: inout JSONWriter) {
        if let abnormal {
            writer.key("abnormal")
            writer.beginObject()
            writer.member("status", abnormal.status)
            writer.member("status_hex", abnormal.statusHex)
            writer.endObject()
        }
        writer.memberIfPresent("clock", clock)
        writer.memberIfPresent("months_ago", monthsAgo)
        if let newAddress {
            writer.key("new_address")
            writer.beginObject()
            writer.member("id", newAddress.id)
            writer.member("id_is_bcd", newAddress.idIsBCD)
            writer.endObject()
        }
        writer.memberIfPresent("payload_hex", payloadHex)
        if let reportedAddress {
            writer.member("reported_address", reportedAddress.wrappedValue)
        }
        writer.memberIfPresent("status_bytes", statusBytes)
        if let valveCommand {
            writer.key("valve_command")
            writer.beginObject()
            writer.member("action", valveCommand.action)
            writer.member("code", valveCommand.code)
            writer.endObject()
        }
    }
}
