// An MBusFrameDocument through the fast JSONWriter: the same text as its Encodable form through GatewayJSONEncoder
// (members in byte order of their keys, `null` where the Encodable form writes it, left out where it leaves them
// out). `DecodeJSONWriterTests` compares the two for every golden vector.

extension MBusFrameDocument: JSONWritable {
    /// Writes the document as one JSON object.
    /// - Parameter writer: The writer.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("access_number", accessNumber)
        writer.key("afl")
        if let afl { afl.write(to: &writer) } else { writer.null() }
        writer.key("alarms")
        writer.beginArray()
        for alarm in alarms { alarm.write(to: &writer) }
        writer.endArray()
        writer.member("direction", direction)
        writer.key("driver")
        if let driver { driver.write(to: &writer) } else { writer.null() }
        writer.key("ell")
        if let ell { ell.write(to: &writer) } else { writer.null() }
        writer.member("frame_kind", frameKind)
        writer.key("link")
        link.write(to: &writer)
        writer.member("manufacturer_data", manufacturerData)
        writer.key("meter")
        meter.write(to: &writer)
        writer.member("meter_time", meterTime)
        writer.member("more_records_follow", moreRecordsFollow)
        writer.memberIfPresent("payload_hex", payloadHex)
        writer.member("protocol", `protocol`)
        writer.key("readings")
        writer.beginArray()
        for reading in readings { reading.write(to: &writer) }
        writer.endArray()
        writer.key("records")
        writer.beginArray()
        for record in records { record.write(to: &writer) }
        writer.endArray()
        writer.member("records_dropped", recordsDropped)
        writer.key("security")
        security.write(to: &writer)
        writer.key("status")
        if let status { status.write(to: &writer) } else { writer.null() }
        writer.key("tpl")
        tpl.write(to: &writer)
        if let trailingBytes {
            writer.key("trailing_bytes")
            trailingBytes.write(to: &writer)
        }
        writer.endObject()
    }
}

extension MBusFrameDocument.Driver {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("certainty", certainty)
        writer.member("name", name)
        writer.member("source", source)
        writer.endObject()
    }
}

extension MBusFrameDocument.Address {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("address", address)
        writer.member("id", id)
        writer.member("manufacturer", manufacturer)
        writer.member("manufacturer_code", manufacturerCode)
        writer.member("type", type)
        writer.member("type_code", typeCode)
        writer.member("version", version)
        writer.endObject()
    }
}

extension MBusFrameDocument.Status {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("application", application)
        writer.key("bits")
        writer.beginArray()
        for bit in bits { writer.string(bit) }
        writer.endArray()
        writer.member("raw", raw)
        writer.endObject()
    }
}

extension MBusFrameDocument.Alarm {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.memberIfPresent("ci", ci)
        writer.member("condition", condition)
        writer.memberIfPresent("raw", raw)
        writer.member("source", source)
        writer.endObject()
    }
}

extension MBusFrameDocument.Security {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("ell", ell)
        writer.member("encrypted_bytes", encryptedBytes)
        writer.member("key_source", keySource)
        writer.member("mac", mac)
        writer.member("mode", mode)
        writer.member("state", state)
        writer.member("tpl", tpl)
        writer.endObject()
    }
}

extension MBusFrameDocument.Link {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        if let address {
            writer.key("address")
            address.write(to: &writer)
        }
        writer.member("c", c)
        writer.member("c_name", cName)
        writer.member("format", format)
        writer.member("l", l)
        writer.memberIfPresent("primary_address", primaryAddress)
        writer.endObject()
    }
}

extension MBusFrameDocument.ExtendedLink {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("access_number", accessNumber)
        if let address {
            writer.key("address")
            address.write(to: &writer)
        }
        writer.member("cc", cc)
        writer.member("ci", ci)
        writer.memberIfPresent("encryption", encryption)
        writer.memberIfPresent("session_number", sessionNumber)
        writer.endObject()
    }
}

extension MBusFrameDocument.Authentication {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.memberIfPresent("auth_type", authType)
        writer.member("fcl", fcl)
        writer.memberIfPresent("ki", ki)
        writer.memberIfPresent("mac", mac)
        writer.memberIfPresent("mcl", mcl)
        writer.memberIfPresent("mcr", mcr)
        writer.memberIfPresent("ml", ml)
        writer.endObject()
    }
}

extension MBusFrameDocument.Transport {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("address")
        if let address { address.write(to: &writer) } else { writer.null() }
        writer.member("ci", ci)
        writer.key("config")
        if let config { config.write(to: &writer) } else { writer.null() }
        writer.endObject()
    }
}

extension MBusFrameDocument.Configuration {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("accessibility", accessibility)
        writer.member("bidirectional", bidirectional)
        writer.member("content", content)
        writer.member("encrypted_blocks", encryptedBlocks)
        writer.memberIfPresent("extension", configurationExtension)
        writer.memberIfPresent("kdf", kdf)
        writer.memberIfPresent("key_id", keyID)
        writer.member("mode", mode)
        writer.member("raw", raw)
        writer.member("synchronous", synchronous)
        writer.endObject()
    }
}

extension MBusFrameDocument.Reading {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.memberIfPresent("accumulation", accumulation)
        writer.member("basis", basis)
        writer.member("function", function)
        writer.member("protected", isProtected)
        writer.member("quantity", quantity)
        writer.member("storage", storage)
        writer.member("subunit", subunit)
        writer.member("tariff", tariff)
        writer.member("unit", unit)
        writer.member("value", value)
        writer.endObject()
    }
}

extension MBusFrameDocument.Record {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("accumulation", accumulation)
        writer.member("basis", basis)
        writer.member("data_hex", dataHex)
        writer.member("dif_vif", difVif)
        writer.member("exponent", exponent)
        writer.member("function", function)
        writer.member("kind", kind)
        writer.member("modifier", modifier)
        writer.member("protected", isProtected)
        writer.member("quantity", quantity)
        writer.member("storage", storage)
        writer.member("subunit", subunit)
        writer.member("tariff", tariff)
        writer.member("unit", unit)
        writer.key("value")
        switch value {
        case .number(let number): writer.decimal(number)
        case .text(let text): writer.string(text)
        case .bits(let bits): writer.integer(bits)
        case .null: writer.null()
        }
        writer.member("vif_code", vifCode)
        writer.member("vif_table", vifTable)
        writer.endObject()
    }
}

extension MBusFrameDocument.TrailingBytes {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("count", count)
        writer.member("hex", hex)
        writer.member("recognised_as", recognisedAs)
        writer.endObject()
    }
}
