import Foundation
import GatewayCore
import Testing

@Suite struct MBusVectorTests {
    @Test func vectorFileLoads() throws {
        let file = try #require(MBusVectorFile.shared, "cannot read \(MBusVectorFile.url.path)")
        #expect(file.valid.count >= 25)
        #expect(file.rejected.count >= 60)
        #expect(file.fuzzKey == "000102030405060708090A0B0C0D0E0F")
        #expect(file.valid.filter { $0.source == "public" }.count == 3)
    }

    /// The three public OMS gas examples decode to the values their sources state.
    @Test func publicExamplesDecodeToTheirStatedValues() throws {
        let file = try #require(MBusVectorFile.shared)
        let stated = file.valid.filter { $0.stated != nil }
        #expect(stated.count >= 3)
        for vector in stated {
            let want = try #require(vector.stated)
            let frame = try vector.decode()
            let volume = try #require(frame.recordArray.first { $0.quantity == .volume })
            #expect(
                volume.value.exactDecimal(exponent: Int(volume.exponent))?.description == want.volumeM3,
                "\(vector.name)"
            )
            #expect(volume.millilitres == 28_504_270_000, "\(vector.name)")
            #expect(frame.meterTime?.iso8601() == want.meterTime, "\(vector.name)")
            #expect(frame.errorFlags == UInt64(want.errorFlags), "\(vector.name)")
            #expect(frame.meter.registryAddress == "ELS-12345678-51-03", "\(vector.name)")
        }
    }

    @Test(arguments: MBusVectorFile.validAndDefaultKeyVectors)
    func decodesValidVector(_ vector: MBusValidVector) throws {
        let frame: MBusFrame
        do {
            frame = try vector.decode()
        } catch {
            Issue.record("\(vector.name): \(error)")
            return
        }
        let want = vector.expected
        #expect(frame.medium.rawValue == (vector.isWired ? "mbus" : "wmbus"))
        #expect(frame.direction.rawValue == want.direction)
        #expect(frame.kind.rawValue == want.frameKind)

        // Identity: the meter's own address, the link address separately.
        #expect(frame.meter.label == want.meter.id)
        #expect(frame.meter.manufacturer == want.meter.manufacturer)
        #expect(frame.meter.version == want.meter.version)
        #expect(frame.meter.deviceTypeName == want.meter.type)
        #expect(frame.meter.deviceType == want.meter.typeCode)
        #expect(frame.meter.registryAddress == want.meter.address)
        #expect(MBusAddress(registryAddress: want.meter.address) == frame.meter)

        #expect(frame.link.format.rawValue == want.link.format)
        #expect(frame.link.length == want.link.l)
        #expect(frame.link.control == want.link.c)
        #expect(frame.link.address?.registryAddress == want.link.address)
        #expect(frame.link.primaryAddress == want.link.primaryAddress)

        if let ell = want.ell {
            let got = try #require(frame.extendedLink)
            #expect(got.ci == ell.ci)
            #expect(got.communicationControl == ell.cc)
            #expect(got.accessNumber == ell.accessNumber)
            #expect(got.sessionNumber == ell.sessionNumber)
            #expect(got.address?.registryAddress == ell.address)
        } else {
            #expect(frame.extendedLink == nil)
        }
        if let afl = want.afl {
            let got = try #require(frame.authentication)
            #expect(got.fragmentControl == afl.fcl)
            #expect(got.messageControl == afl.mcl)
            #expect(got.messageCounter == afl.mcr)
            #expect(got.mac.map { String($0, radix: 16, uppercase: true).leftPadded(16) } == afl.mac)
            #expect(got.messageLength == afl.ml)
        } else {
            #expect(frame.authentication == nil)
        }

        #expect(frame.transport.ci == want.tpl.ci)
        #expect(frame.transport.accessNumber == want.tpl.accessNumber)
        #expect(frame.transport.status?.rawValue == want.tpl.status)
        #expect(frame.transport.configuration == want.tpl.config)
        #expect(frame.transport.configurationExtension == want.tpl.configExtension)
        #expect(frame.transport.address?.registryAddress == want.tpl.address)
        #expect(frame.accessNumber == want.accessNumber)

        if let status = want.status {
            let got = try #require(frame.status)
            #expect(got.rawValue == status.raw)
            #expect(got.application.rawValue == status.application)
            #expect(got.names == status.bits)
        } else {
            #expect(frame.status == nil)
        }
        #expect(frame.alarmNames == want.alarms)

        #expect(frame.security.mode == want.security.mode)
        #expect(frame.security.tpl.rawValue == want.security.tpl)
        #expect(frame.security.ell.rawValue == want.security.ell)
        #expect(frame.security.isMACVerified == want.security.macVerified)
        #expect(frame.security.encryptedByteCount == want.security.encryptedBytes)
        #expect(frame.compact?.signatureHex == vector.compact?.signature)
        #expect(
            frame.compact.map { String($0.fullFrameCRC, radix: 16, uppercase: true).leftPadded(4) }
                == vector.compact?.fullFrameCrc
        )
        // The key source: as the vector states, else `meter` when the vector's own key decrypted something of the
        // meter's (an ELL opened with another identity's key protects nothing of it).
        #expect(frame.security.isELLKeyForeign == (want.security.ellKeyForeign ?? false))
        let decrypted = want.security.isDecryptedForMeter
        #expect(frame.security.keySource?.code == want.security.keySource ?? (decrypted ? "meter" : nil))
        if frame.security.keySource == .manufacturerDefault {
            #expect(frame.security.contentProtection == .plain && frame.security.headerProtection == .plain)
        }

        #expect(frame.meterTime?.iso8601() == want.meterTime)
        #expect(frame.droppedRecordCount == want.recordsDropped)
        #expect(frame.manufacturerDataRange.map { Hex.encode(frame.bytes(in: $0)) } == want.manufacturerData)
        #expect(frame.hasMoreRecordsInNextTelegram == want.moreRecordsFollow)
        #expect(frame.payloadRange.map { Hex.encode(frame.bytes(in: $0)) } == want.payloadHex)
        #expect(frame.trailingBytes?.count == want.trailingBytes?.count)
        #expect(frame.trailingBytes.map { Hex.encode(frame.bytes(in: $0.range)) } == want.trailingBytes?.hex)
        #expect(frame.trailingBytes?.kind.rawValue == want.trailingBytes?.recognisedAs)

        try #require(frame.recordCount == want.records.count, "record count")
        for (index, (record, expected)) in zip(frame.recordArray, want.records).enumerated() {
            checkRecord(record, expected, in: frame, "\(vector.name) record \(index)")
        }
        let readings = frame.recordArray.filter(\.isPlainMeasurement)
        try #require(readings.count == want.readings.count, "reading count")
        for (record, expected) in zip(readings, want.readings) {
            #expect(record.quantity.rawValue == expected.quantity)
            let value = record.value.exactDecimal(exponent: Int(record.exponent))
            #expect(value?.description == expected.value.description)
            #expect(record.storage == expected.storage)
            #expect(record.tariff == expected.tariff)
            #expect(record.subunit == expected.subunit)
            #expect(record.function.rawValue == expected.function)
            #expect(record.basis.rawValue == expected.basis)
            #expect(record.accumulation.rawValue == expected.accumulation)
            #expect(record.isProtected == expected.protected)
        }

        // The header read without a key agrees with the decoded frame.
        let header = try #require(
            vector.bytes.withUnsafeBytes {
                MBusDecoder.peekHeader($0, isWired: vector.isWired, frameFormat: mbusFormat(vector.decodeFormat))
            }
        )
        #expect(header.link == frame.link)
        #expect(header.extendedLink == frame.extendedLink)
        if frame.security.ell == .none {
            #expect(header.transport == frame.transport)
            #expect(header.meter == frame.meter)
        } else {
            #expect(header.transport == nil)
        }
    }

    private func checkRecord(_ record: MBusRecord, _ want: MBusValidVector.Record, in frame: MBusFrame, _ label: String)
    {
        #expect(Hex.encode(frame.bytes(in: record.headerRange)) == want.difVif, "\(label)")
        #expect(Hex.encode(frame.bytes(in: record.dataRange)) == want.dataHex, "\(label)")
        #expect(record.quantity.rawValue == want.quantity, "\(label)")
        #expect(record.vifTable.rawValue == want.vifTable, "\(label)")
        #expect(record.value.kindName == want.kind, "\(label)")
        let unit = record.unit == .text ? frame.plainTextUnit(of: record) ?? "?" : record.unit.rawValue
        #expect(unit == want.unit, "\(label)")
        #expect(record.exponent == want.exponent, "\(label)")
        #expect(record.storage == want.storage, "\(label)")
        #expect(record.tariff == want.tariff, "\(label)")
        #expect(record.subunit == want.subunit, "\(label)")
        #expect(record.function.rawValue == want.function, "\(label)")
        #expect(record.basis.rawValue == want.basis, "\(label)")
        #expect(record.accumulation.rawValue == want.accumulation, "\(label)")
        #expect(record.modifier.map { "0x" + Hex.encode([$0]) } == want.modifier, "\(label)")
        #expect(record.millilitres.map { String($0) } == want.millilitres, "\(label)")
        #expect(record.isProtected == want.protected, "\(label)")
        let value: Scalar
        switch record.value {
        case .integer, .real:
            value = record.value.exactDecimal(exponent: Int(record.exponent)).map { .string($0.description) } ?? .null
        case .date(let date):
            if let date {
                value = .string(record.quantity == .date ? String(date.iso8601().prefix(10)) : date.iso8601())
            } else {
                value = .null
            }
        case .bits(let bits):
            value = .integer(Int64(bits))
        case .text:
            value = frame.text(of: record).map(Scalar.string) ?? .null
        case .none, .bytes, .invalid:
            value = .null
        }
        #expect(value == want.value, "\(label)")
    }

    @Test(arguments: MBusVectorFile.validAndDefaultKeyVectors)
    func rendersValidJSON(_ vector: MBusValidVector) throws {
        let frame = try vector.decode()
        let document = MBusFrameDocument(frame)
        let text = try DocumentJSON.text(document)
        let object = try DocumentJSON.object(document)
        let want = vector.expected
        #expect(object["protocol"] as? String == (vector.isWired ? "mbus" : "wmbus"))
        #expect(object["direction"] as? String == want.direction)
        let meter = try #require(object["meter"] as? [String: Any])
        #expect(meter["id"] as? String == want.meter.id)
        #expect(meter["manufacturer"] as? String == want.meter.manufacturer)
        #expect((meter["version"] as? NSNumber)?.intValue == Int(want.meter.version))
        #expect(meter["type"] as? String == want.meter.type)
        #expect(meter["address"] as? String == want.meter.address)
        if let access = want.accessNumber {
            #expect((object["access_number"] as? NSNumber)?.intValue == Int(access))
        } else {
            #expect(object["access_number"] is NSNull)
        }
        if let time = want.meterTime {
            #expect(object["meter_time"] as? String == time)
        } else {
            #expect(object["meter_time"] is NSNull)
        }
        // Exact decimal numbers, never Double formatting; `accumulation` only when it is not standard.
        let readings = try DocumentJSON.decode(ReadingsJSON.self, from: document).readings
        let wantReadings = try want.readings.map {
            ReadingJSON(
                quantity: $0.quantity,
                value: try .exactly($0.value.description),
                unit: $0.unit,
                storage: $0.storage,
                tariff: $0.tariff,
                basis: $0.basis,
                subunit: $0.subunit,
                function: $0.function,
                accumulation: $0.accumulation == "standard" ? nil : $0.accumulation,
                protected: $0.protected
            )
        }
        #expect(readings == wantReadings)
        let security = try #require(object["security"] as? [String: Any])
        #expect((security["mode"] as? NSNumber)?.intValue == Int(want.security.mode))
        #expect(security["state"] as? String == want.security.state)
        let decrypted = want.security.isDecryptedForMeter
        #expect(security["key_source"] as? String == want.security.keySource ?? (decrypted ? "meter" : nil))
        let alarms = try #require(object["alarms"] as? [[String: Any]])
        #expect(alarms.compactMap { $0["condition"] as? String } == want.alarms)
        if let status = want.status {
            let got = try #require(object["status"] as? [String: Any])
            #expect((got["raw"] as? NSNumber)?.intValue == Int(status.raw))
            #expect(got["bits"] as? [String] == status.bits)
        } else {
            #expect(object["status"] is NSNull)
        }
        let records = try #require(object["records"] as? [[String: Any]])
        #expect(records.count == want.records.count)
        for (record, expected) in zip(records, want.records) {
            #expect(record["dif_vif"] as? String == expected.difVif)
            #expect(record["kind"] as? String == expected.kind)
        }
        let link = try #require(object["link"] as? [String: Any])
        #expect(link["format"] as? String == want.link.format)
        if let trailing = want.trailingBytes {
            let got = try #require(object["trailing_bytes"] as? [String: Any])
            #expect((got["count"] as? NSNumber)?.intValue == trailing.count)
            #expect(got["hex"] as? String == trailing.hex)
            #expect(got["recognised_as"] as? String == trailing.recognisedAs)
        } else {
            #expect(object["trailing_bytes"] == nil)
        }
        #expect(!text.contains(vector.key ?? "no key given"), "the key must never appear in the output")
        for key in vector.defaultKeys ?? [] { #expect(!text.contains(key), "a default key must never appear") }
    }

    @Test(arguments: MBusVectorFile.rejectedAndDefaultKeyVectors)
    func rejectsVector(_ vector: MBusRejectedVector) throws {
        let code = mbusErrorCode(
            vector.bytes,
            wired: vector.isWired,
            keyHex: vector.key,
            defaultKeysHex: vector.defaultKeys,
            allowAlreadyDecrypted: vector.allowAlreadyDecrypted,
            format: mbusFormat(vector.decodeFormat),
            layouts: vector.layouts
        )
        #expect(code == vector.error)
        // The error renders as JSON and never contains the key.
        do {
            _ = try decodeMBus(
                vector.bytes,
                wired: vector.isWired,
                keyHex: vector.key,
                defaultKeysHex: vector.defaultKeys,
                allowAlreadyDecrypted: vector.allowAlreadyDecrypted,
                format: mbusFormat(vector.decodeFormat),
                layouts: vector.layouts
            )
        } catch {
            let json = try DocumentJSON.text(DecodeErrorDocument(error))
            let object = try DocumentJSON.object(DecodeErrorDocument(error))
            #expect((object["error"] as? [String: Any])?["code"] as? String == vector.error)
            if let key = vector.key { #expect(!json.contains(key) && !error.description.contains(key)) }
        }
        guard let peek = vector.peek else { return }
        let header = vector.bytes.withUnsafeBytes {
            MBusDecoder.peekHeader($0, isWired: vector.isWired, frameFormat: mbusFormat(vector.decodeFormat))
        }
        guard peek.readable else {
            #expect(header == nil)
            return
        }
        let got = try #require(header)
        #expect(got.meter?.registryAddress == peek.meter)
        #expect(got.securityMode == peek.securityMode)
        #expect(got.transport?.ci == peek.tplCi)
        #expect(got.transport?.accessNumber == peek.accessNumber)
        #expect(!got.summary.isEmpty)
        if let meter = peek.meter { #expect(got.summary.contains(meter)) }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
