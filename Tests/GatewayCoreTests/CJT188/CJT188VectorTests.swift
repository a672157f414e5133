import Foundation
import GatewayCore
import Testing

@Suite struct CJT188VectorTests {
    @Test func vectorFileLoads() throws {
        let file = try #require(CJT188VectorFile.shared, "cannot read \(CJT188VectorFile.url.path)")
        #expect(file.valid.count >= 40)
        #expect(file.malformed.count >= 60)
        #expect(file.downlinks.count >= 5)
        // Every public example is a valid vector.
        let names = Set(file.valid.map(\.name))
        for example in [
            "cjt188-read-request", "cjt188-valve-open-request", "cjt188-valve-response",
            "cjt188-read-address-response", "cjt188-read-data-response",
        ] {
            #expect(names.contains(example), "public example \(example) is missing")
        }
        // Every code the decoder can give has a malformed vector.
        let codes = Set(file.malformed.map(\.error))
        #expect(
            codes == [
                "truncated", "bad_frame", "bad_checksum", "bad_length", "field_out_of_range", "vendor_frame",
                "unsupported_frame", "unknown_type",
            ]
        )
        // Both DI orders, every family, every volume unit class, every clock state and every body appear.
        let valid = file.valid.map(\.expected)
        #expect(Set(valid.compactMap(\.diOrder)) == ["big_endian", "little_endian"])
        #expect(Set(valid.map(\.meter.type)) == ["water", "heat", "gas", "wildcard"])
        #expect(
            Set(valid.flatMap(\.readings).compactMap(\.unitCode)).isSuperset(of: [0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E])
        )
        #expect(Set(valid.compactMap(\.clock)) == ["valid", "not_set", "invalid"])
        #expect(
            Set(valid.map(\.frameType)) == [
                "request", "meter_data", "heat_data", "clock", "settlement_history", "valve_command", "valve_status",
                "address_reply", "new_address", "abnormal", "raw",
            ]
        )
    }

    @Test(arguments: CJT188VectorFile.validVectors)
    func decodesValidVector(_ vector: CJT188ValidVector) throws {
        let frame = try decodeCJT188(try bytes(vector.hex))
        let want = vector.expected

        // Envelope and header.
        #expect(frame.isFromMeter == (want.direction == "from_meter"))
        #expect(frame.preambleLength == want.preambleLength)
        #expect(frame.meterType.rawValue == want.meter.typeCode)
        #expect(frame.meterType.family?.name == want.meter.type)
        #expect(frame.address.label == want.meter.id)
        #expect(frame.address.isBCD == want.meter.idIsBcd)
        #expect(frame.address.wireHex == want.meter.addressHex)
        #expect(frame.address.number.map { String($0) } == (want.meter.idIsBcd ? String(UInt64(want.meter.id)!) : nil))
        #expect(frame.control.rawValue == want.control)
        #expect(frame.function.name == want.function)
        #expect(frame.control.isAbnormal == want.abnormal)
        #expect(frame.dataLength == want.dataLength)
        #expect(frame.checksum == want.checksum)
        #expect(frame.dataIdentifier?.hex == want.di)
        #expect(frame.dataIdentifier?.isKnown ?? false == want.diKnown)
        #expect(frame.diOrder?.name == want.diOrder)
        #expect(frame.sequence == want.ser)
        #expect(frame.body.name == want.frameType)

        // Clock, status, valve.
        #expect(frame.meterTime?.iso8601() == want.meterTime)
        #expect(frame.status?.rawValue == want.status?.raw)
        if let status = want.status {
            let got = try #require(frame.status)
            #expect(got.st1 == status.st1)
            #expect(got.st2 == status.st2)
            #expect(got.names == status.bits)
            #expect(got.isValveClosed == (status.st1 & 0x01 != 0))
            #expect(got.isValveAbnormal == (status.st1 & 0x02 != 0))
            #expect(got.isBatteryLow == (status.st1 & 0x04 != 0))
        }
        #expect(frame.valve?.name == want.valve)

        // Body.
        switch frame.body {
        case .request:
            #expect(want.readings.isEmpty)
        case .meterData(let data):
            #expect(data.clock.state.name == want.clock)
            try checkQuantity(data.currentVolume, want.readings[0], storage: 0)
            try checkQuantity(data.settlementVolume, want.readings[1], storage: 1)
            #expect(frame.currentVolume?.quantity == data.currentVolume)
            #expect(frame.currentVolume?.storage == 0)
            #expect(frame.settlementVolume?.quantity == data.settlementVolume)
            #expect(frame.settlementVolume?.storage == 1)
            #expect(want.readings.count == 2)
        case .heatData(let data):
            #expect(data.clock.state.name == want.clock)
            #expect(want.readings.count == 8)
            try checkQuantity(data.currentHeat, want.readings[0], storage: 0)
            try checkQuantity(data.settlementHeat, want.readings[1], storage: 1)
            try checkQuantity(data.power, want.readings[2], storage: 0)
            try checkQuantity(data.flow, want.readings[3], storage: 0)
            try checkQuantity(data.cumulativeVolume, want.readings[4], storage: 0)
            let heat = try #require(want.heat)
            #expect(data.supplyTemperatureCentiCelsius == heat.supplyTemperatureCentiC)
            #expect(data.returnTemperatureCentiCelsius == heat.returnTemperatureCentiC)
            #expect(data.operatingHours == heat.operatingHours)
            #expect(frame.currentVolume?.quantity == data.cumulativeVolume)
            #expect(frame.settlementVolume == nil)
        case .clock(let clock):
            #expect(clock.state.name == want.clock)
        case .settlementHistory(let history):
            #expect(history.monthsAgo == want.monthsAgo)
            try checkQuantity(history.volume, want.readings[0], storage: history.monthsAgo)
            #expect(frame.settlementVolume?.storage == history.monthsAgo)
            #expect(frame.currentVolume == nil)
        case .valveCommand(let command):
            #expect(command.name == want.valveCommand)
        case .valveStatus(let reply):
            #expect(reply.byteCount == want.statusBytes)
        case .addressReply(let reported):
            #expect(reported?.label == want.reportedAddress)
        case .newAddress(let address):
            #expect(address.label == want.newAddress)
        case .abnormal(let payload):
            #expect(Hex.encode(payload.array) == want.abnormalStatusHex)
            #expect(want.readings.isEmpty)
        case .raw(let payload):
            #expect(Hex.encode(payload.array) == want.payloadHex)
            #expect(want.readings.isEmpty)
        }
        if want.readings.isEmpty {
            #expect(frame.currentVolume == nil && frame.settlementVolume == nil)
        }
    }

    @Test(arguments: CJT188VectorFile.validVectors)
    func rendersValidJSON(_ vector: CJT188ValidVector) throws {
        let frame = try decodeCJT188(try bytes(vector.hex))
        let document = CJT188FrameDocument(frame)
        let object = try DocumentJSON.object(document)
        let want = vector.expected
        #expect(object["protocol"] as? String == "cjt188")
        #expect(object["direction"] as? String == want.direction)
        #expect(object["frame_type"] as? String == want.frameType)
        let meter = try #require(object["meter"] as? [String: Any])
        #expect(meter["id"] as? String == want.meter.id)
        #expect(meter["type"] as? String == want.meter.type)
        #expect((meter["type_code"] as? NSNumber)?.uint8Value == want.meter.typeCode)
        #expect(meter["id_is_bcd"] as? Bool == want.meter.idIsBcd)
        #expect(meter["address_hex"] as? String == want.meter.addressHex)
        if let time = want.meterTime {
            #expect(object["meter_time"] as? String == time)
        } else {
            #expect(object["meter_time"] is NSNull)
        }
        if let status = want.status {
            let got = try #require(object["status"] as? [String: Any])
            #expect((got["raw"] as? NSNumber)?.uint16Value == status.raw)
            #expect(got["bits"] as? [String] == status.bits)
        } else {
            #expect(object["status"] is NSNull)
        }
        let alarms = try #require(object["alarms"] as? [[String: Any]])
        #expect(
            alarms.map {
                CJT188ValidVector.Alarm(
                    condition: $0["condition"] as? String ?? "",
                    source: $0["source"] as? String ?? "",
                    priority: $0["priority"] as? String ?? ""
                )
            } == want.alarms
        )
        #expect(object["valve"] as? String == want.valve)
        #expect(object["di"] as? String == want.di)
        #expect(object["di_order"] as? String == want.diOrder)
        #expect(object["di_known"] as? Bool == want.diKnown)
        #expect((object["ser"] as? NSNumber)?.uint8Value == want.ser)
        #expect((object["data_length"] as? NSNumber)?.intValue == want.dataLength)
        #expect((object["preamble_length"] as? NSNumber)?.intValue == want.preambleLength)
        let control = try #require(object["control"] as? [String: Any])
        #expect((control["code"] as? NSNumber)?.uint8Value == want.control)
        #expect(control["function"] as? String == want.function)
        #expect(control["abnormal"] as? Bool == want.abnormal)

        // Readings: exact decimal numbers, in order.
        let exact = try DocumentJSON.decode(ReadingsJSON.self, from: document).readings
        let wantExact = try want.readings.map {
            ReadingJSON(
                quantity: $0.quantity,
                value: try .exactly($0.value),
                unit: $0.unit,
                storage: UInt64($0.storage),
                tariff: 0,
                basis: "unspecified"
            )
        }
        #expect(exact == wantExact)
        let readings = try #require(object["readings"] as? [[String: Any]])
        for (reading, got) in zip(want.readings, readings) {
            #expect((got["unit_code"] as? NSNumber)?.uint8Value == reading.unitCode)
            #expect((got["millilitres"] as? NSNumber)?.int64Value == reading.millilitres.flatMap { Int64($0) })
            #expect(got["label"] as? String == reading.label)
        }
        #expect(object["clock"] as? String == want.clock)
        if let command = want.valveCommand {
            #expect((object["valve_command"] as? [String: Any])?["action"] as? String == command)
        }
        if let payload = want.payloadHex {
            #expect(object["payload_hex"] as? String == payload)
        }
        if let months = want.monthsAgo {
            #expect((object["months_ago"] as? NSNumber)?.intValue == months)
        }
    }

    @Test(arguments: CJT188VectorFile.malformedVectors)
    func rejectsMalformedVector(_ vector: CJT188MalformedVector) throws {
        let frame = try bytes(vector.hex)
        #expect(cjt188ErrorCode(frame) == vector.error)
        // Errors render as the decode command's JSON.
        do {
            _ = try decodeCJT188(frame)
        } catch {
            let object = try DocumentJSON.object(DecodeErrorDocument(error))
            let detail = try #require(object["error"] as? [String: Any])
            #expect(detail["code"] as? String == vector.error)
            #expect((detail["message"] as? String)?.isEmpty == false)
        }
    }

    @Test(arguments: CJT188VectorFile.downlinkVectors)
    func encodesDownlinkVector(_ vector: CJT188DownlinkVector) throws {
        let request: CJT188Encoder.Request =
            switch vector.request {
            case "read_data": .readData
            case "read_address": .readAddress
            case "valve_close": .valveControl(.close)
            default: .valveControl(.open)
            }
        let address: CJT188Address =
            vector.address == "AAAAAAAAAAAAAA" ? .broadcast : try #require(CJT188Address(label: vector.address))
        let order = try #require(cjt188Order(vector.diOrder))
        let encoded = try CJT188Encoder.encode(
            request,
            meterType: CJT188MeterType(rawValue: vector.meterType),
            address: address,
            sequence: vector.ser,
            diOrder: order,
            preambleLength: vector.preambleLength
        )
        #expect(Hex.encode(encoded) == vector.hex)

        // The caller-buffer variant writes the same bytes and reports the size.
        var buffer = [UInt8](repeating: 0xEE, count: 32)
        let size = try buffer.withUnsafeMutableBytes { raw in
            try CJT188Encoder.encode(
                request,
                meterType: CJT188MeterType(rawValue: vector.meterType),
                address: address,
                sequence: vector.ser,
                diOrder: order,
                preambleLength: vector.preambleLength,
                into: raw
            )
        }
        #expect(Array(buffer.prefix(size)) == encoded)
        #expect(buffer[size] == 0xEE)

        // And it decodes back to the request.
        let frame = try decodeCJT188(encoded)
        #expect(!frame.isFromMeter)
        #expect(frame.address == address)
        #expect(frame.sequence == vector.ser)
        #expect(frame.diOrder == order)
        #expect(frame.preambleLength == vector.preambleLength)
    }
}

/// Compares a decoded quantity with an expected reading (value text, unit, unit code, millilitres).
private func checkQuantity(
    _ quantity: CJT188Quantity,
    _ want: CJT188ValidVector.Reading,
    storage: Int,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(cjt188Text(quantity) == want.value, sourceLocation: sourceLocation)
    #expect(quantity.unit.displaySymbol == want.unit, sourceLocation: sourceLocation)
    #expect(quantity.unit.rawValue == want.unitCode, sourceLocation: sourceLocation)
    #expect(storage == want.storage, sourceLocation: sourceLocation)
    #expect(quantity.millilitres.map { String($0) } == want.millilitres, sourceLocation: sourceLocation)
}
