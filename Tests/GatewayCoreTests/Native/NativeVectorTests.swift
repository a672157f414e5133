import Foundation
import GatewayCore
import Testing

@Suite struct NativeVectorTests {
    static let receivedAt = Timestamp(secondsSinceEpoch: 1_800_000_000)

    @Test func vectorFileLoads() throws {
        let file = try #require(NativeVectorFile.shared, "cannot read \(NativeVectorFile.url.path)")
        #expect(file.valid.count >= 30)
        #expect(file.malformed.count >= 40)
        // Every frame type has a valid vector and every error code a malformed one.
        let types = Set(file.valid.map(\.expected.header.frameType))
        #expect(types == Set(NativeFrameType.allCases.map(\.rawValue)))
        let codes = Set(file.malformed.map(\.error))
        #expect(codes == Set(NativeDecoder.errorCodes.map(\.description)))
    }

    @Test(arguments: NativeVectorFile.validVectors)
    func decodesValidVector(_ vector: ValidVector) throws {
        let bytes = try bytes(vector.hex)
        let frame = try decodeNative(bytes, keyHex: vector.key)
        let expected = vector.expected
        try checkHeader(frame.header, expected.header)
        #expect(frame.macStatus == .verified)
        #expect(frame.mac == UInt64(expected.mac, radix: 16))
        #expect(frame.isUplink == (expected.direction == "uplink"))
        #expect(frame.frameType.name == expected.header.frameTypeName)
        try checkBody(frame.body, expected)

        // Without a key everything but the MAC status is the same.
        let unverified = try decodeNativeUnverified(bytes)
        #expect(unverified.macStatus == .notVerified)
        #expect(unverified.header == frame.header)
        #expect(unverified.body == frame.body)

        // The routing peek agrees with the full decode.
        #expect(bytes.withUnsafeBytes { NativeDecoder.peekHeader($0) } == frame.header)
    }

    @Test(arguments: NativeVectorFile.validVectors)
    func reencodesValidVectorByteForByte(_ vector: ValidVector) throws {
        let bytes = try bytes(vector.hex)
        let frame = try decodeNative(bytes, keyHex: vector.key)
        let key = try #require(AES128Key(hex: vector.key))
        #expect(try NativeEncoder.encode(frame, key: key) == bytes)
    }

    @Test(arguments: NativeVectorFile.validVectors)
    func derivesExpectedRecords(_ vector: ValidVector) throws {
        let expected = try #require(vector.expected.records)
        let frame = try decodeNative(try bytes(vector.hex), keyHex: vector.key)
        var batch = SinkBatch()
        frame.appendRecords(to: &batch, meterID: 77, receivedAt: Self.receivedAt, policy: .serviceCommitments)

        #expect(batch.frames.count == expected.frames)
        #expect(batch.quarantine.isEmpty)
        if let record = batch.frames.first {
            #expect(record.meterID == 77)
            #expect(record.frameCounter == Int64(frame.header.frameCounter))
            #expect(record.frameType == Int16(frame.header.frameType))
            #expect(record.receivedAt == Self.receivedAt)
            let meterTime = vector.expected.header.meterTime
            let expectedTime =
                meterTime == 0 ? Self.receivedAt : Timestamp(secondsSinceEpoch: Int64(meterTime))
            #expect(record.meterTime == expectedTime)
        }

        try #require(batch.readings.count == expected.readings.count)
        for (row, want) in zip(batch.readings, expected.readings) {
            #expect(row.meterID == 77)
            #expect(kindName(row.kind) == want.kind)
            #expect(row.readAt == want.readAt.resolve(receivedAt: Self.receivedAt))
            #expect(String(row.volumeMillilitres) == want.volumeMl)
            #expect(row.statusBits == want.statusBits)
            #expect(row.source == .native)
            #expect(row.frameCounter == Int64(frame.header.frameCounter))
        }

        try #require(batch.intervals.count == expected.intervals.count)
        for (row, want) in zip(batch.intervals, expected.intervals) {
            #expect(row.intervalStart == Timestamp(secondsSinceEpoch: want.start))
            #expect(String(row.volumeMillilitres) == want.volumeMl)
            #expect(String(row.endIndexMillilitres) == want.endIndexMl)
            #expect(Int(row.intervalMinutes) == Int(vector.expected.dailyReport?.intervalMinutes ?? 0))
        }

        try #require(batch.alarms.count == expected.alarms.count)
        for (row, want) in zip(batch.alarms, expected.alarms) {
            #expect(row.rawCode == want.rawCode)
            #expect(row.condition.rawValue == want.condition)
            #expect(row.isCleared == want.cleared)
            #expect(row.priority.rawValue == want.priority)
            #expect(row.detail == want.detail)
            #expect(row.raisedAt == want.raisedAt.resolve(receivedAt: Self.receivedAt))
            #expect(row.source == .native)
        }
    }

    @Test(arguments: NativeVectorFile.malformedVectors)
    func rejectsMalformedVector(_ vector: MalformedVector) throws {
        let bytes = try bytes(vector.hex)
        #expect(nativeErrorCode(bytes, keyHex: vector.key) == vector.error)
        // Without a key the same check fails, except the two that need the key.
        let unverified: String?
        do {
            _ = try decodeNativeUnverified(bytes)
            unverified = nil
        } catch {
            unverified = error.code.description
        }
        if vector.error == "unknown_meter" || vector.error == "bad_mac" {
            #expect(unverified == nil)
        } else {
            #expect(unverified == vector.error)
        }
    }

    @Test(arguments: NativeVectorFile.validVectors)
    func rendersValidJSON(_ vector: ValidVector) throws {
        let frame = try decodeNative(try bytes(vector.hex), keyHex: vector.key)
        let document = NativeFrameDocument(frame)
        let object = try DocumentJSON.object(document)
        let expected = vector.expected
        #expect(object["protocol"] as? String == "native")
        #expect(object["direction"] as? String == (expected.direction == "uplink" ? "from_meter" : "to_meter"))
        #expect(object["frame_type"] as? String == expected.header.frameTypeName)
        #expect((object["meter"] as? [String: Any])?["id"] as? String == expected.header.meterId)
        #expect((object["meter"] as? [String: Any])?["type"] as? String == "gas")
        #expect((object["frame_counter"] as? NSNumber)?.uint32Value == expected.header.frameCounter)
        let flags = try #require(object["flags"] as? [String: Any])
        #expect(flags["ack_requested"] as? Bool == expected.header.ackRequested)
        #expect(flags["retransmission"] as? Bool == expected.header.retransmission)
        #expect(object["mac"] as? String == "verified")
        #expect(object["mac_hex"] as? String == expected.mac.uppercased())
        if let iso = expected.header.meterTimeIso {
            #expect(object["meter_time"] as? String == iso)
        } else {
            #expect(object["meter_time"] is NSNull)
        }
        #expect(object["readings"] is [Any])
        #expect(object["alarms"] is [Any])
        #expect(object["status"] != nil)
        let readings = try DocumentJSON.decode(ReadingsJSON.self, from: document).readings
        if let reading = expected.reading {
            let volume = ReadingJSON(
                quantity: "volume",
                value: try .exactly(reading.volumeM3),
                unit: "m3",
                storage: 0,
                tariff: 0,
                basis: "uncorrected"
            )
            var want = [volume]
            if let flow = reading.flowM3H {
                want.append(
                    ReadingJSON(
                        quantity: "flow",
                        value: try .exactly(flow),
                        unit: "m3/h",
                        storage: 0,
                        tariff: 0,
                        basis: "uncorrected"
                    )
                )
            }
            #expect(readings == want)
            let status = try #require(object["status"] as? [String: Any])
            #expect(status["bits"] as? [String] == reading.statusBits)
            #expect((status["raw"] as? NSNumber)?.uint32Value == reading.status)
            struct MeasurementsJSON: Decodable {
                var flowMlH: UInt32?
                var batteryMv: UInt16?
                var temperatureC: Decimal?
                var signalDbm: Int16?

                enum CodingKeys: String, CodingKey {
                    case flowMlH = "flow_ml_h"
                    case batteryMv = "battery_mv"
                    case temperatureC = "temperature_c"
                    case signalDbm = "signal_dbm"
                }
            }
            let measured = try DocumentJSON.decode(MeasurementsJSON.self, from: document)
            #expect(measured.flowMlH == reading.flowMlH)
            #expect(measured.batteryMv == reading.batteryMv)
            #expect(measured.temperatureC == reading.temperatureCentiC.map { Decimal(Int($0)) / 100 })
            #expect(measured.signalDbm == reading.signalDbm)
            for name in ["flow_ml_h", "battery_mv", "temperature_c", "signal_dbm"] {
                #expect(object.keys.contains(name), "\(name) is present, null when not measured")
            }
        }
        if let alarm = expected.alarm {
            let alarms = try #require(object["alarms"] as? [[String: Any]])
            #expect(alarms.first?["condition"] as? String == alarm.condition)
            #expect(alarms.first?["state"] as? String == (alarm.raised ? "raised" : "cleared"))
            #expect(alarms.first?["priority"] as? String == alarm.priority)
        }
        if let report = expected.dailyReport {
            struct IntervalLogJSON: Decodable {
                struct Log: Decodable {
                    var points: [Point]
                }
                struct Point: Decodable, Equatable {
                    var consumptionM3: Decimal
                    var endIndexM3: Decimal

                    enum CodingKeys: String, CodingKey {
                        case consumptionM3 = "consumption_m3"
                        case endIndexM3 = "end_index_m3"
                    }
                }
                var intervalLog: Log

                enum CodingKeys: String, CodingKey {
                    case intervalLog = "interval_log"
                }
            }
            let points = try DocumentJSON.decode(IntervalLogJSON.self, from: document).intervalLog.points
            #expect(points.count == report.pointCount)
            let want = try (expected.records?.intervals ?? []).map {
                IntervalLogJSON.Point(
                    consumptionM3: try .exactly($0.consumptionM3),
                    endIndexM3: try .exactly($0.endIndexM3)
                )
            }
            #expect(points == want)
            #expect(readings.map(\.storage) == (0..<readings.count).map { UInt64($0 + 1) }, "frozen totals are 1…n")
        }
    }

    // MARK: Checks

    private func checkHeader(_ header: NativeFrame.Header, _ want: ValidVector.Header) throws {
        #expect(header.version == want.version)
        #expect(header.frameType == want.frameType)
        #expect(header.flags.rawValue == want.flags)
        #expect(header.flags.contains(.ackRequested) == want.ackRequested)
        #expect(header.flags.contains(.retransmission) == want.retransmission)
        #expect(String(header.meterID) == want.meterId)
        #expect(header.frameCounter == want.frameCounter)
        #expect(header.meterTime == want.meterTime)
        #expect(header.payloadLength == want.payloadLength)
    }

    private func checkBody(_ body: NativeFrame.Body, _ expected: ValidVector.Expected) throws {
        switch body {
        case .reading(let reading):
            let want = try #require(expected.reading)
            checkRegister(
                reading.register,
                raw: want.raw,
                exponent: want.exponent,
                digits: want.digits,
                m3: want.volumeM3,
                ml: want.volumeMl
            )
            #expect(String(reading.register.modulusMillilitres) == want.modulusMl)
            #expect(reading.flowMillilitresPerHour == want.flowMlH)
            #expect(reading.valve.name == want.valve)
            #expect(reading.batteryMillivolts == want.batteryMv)
            #expect(reading.temperatureCentiCelsius == want.temperatureCentiC)
            #expect(reading.signalDBm == want.signalDbm)
            #expect(reading.status.rawValue == want.status)
            #expect(reading.status.names == want.statusBits)
        case .dailyReport(let report):
            let want = try #require(expected.dailyReport)
            #expect(report.intervalStart == want.intervalStart)
            #expect(report.intervalMinutes == want.intervalMinutes)
            #expect(report.pointCount == want.pointCount)
            let start = want.startRegister
            checkRegister(
                report.startRegister,
                raw: start.raw,
                exponent: start.exponent,
                digits: start.digits,
                m3: start.volumeM3,
                ml: start.volumeMl
            )
            #expect(report.pointArray == want.points)
            #expect(report.frozenCount == want.frozen.count)
            for (total, frozen) in zip(report.frozenTotalArray, want.frozen) {
                #expect(total.time == frozen.time)
                #expect(String(total.raw) == frozen.raw)
                let register = NativeFrame.Register(
                    raw: total.raw,
                    exponent: report.startRegister.exponent,
                    digits: report.startRegister.digits
                )
                #expect(register.cubicMetresText == frozen.volumeM3)
                #expect(String(register.millilitres) == frozen.volumeMl)
            }
        case .alarm(let alarm):
            let want = try #require(expected.alarm)
            #expect(alarm.code == want.code)
            #expect(alarm.condition.rawValue == want.condition)
            #expect(alarm.isRaised == want.raised)
            #expect(alarm.valve.name == want.valve)
            #expect(alarm.flowMillilitresPerHour == want.flowMlH)
            #expect(alarm.detail == want.detail)
            checkRegister(
                alarm.register,
                raw: want.raw,
                exponent: want.exponent,
                digits: want.digits,
                m3: want.volumeM3,
                ml: want.volumeMl
            )
            #expect(
                TicketPolicy.serviceCommitments.priority(for: alarm.condition, valve: alarm.valve).rawValue
                    == want.priority
            )
        case .commandResult(let result):
            let want = try #require(expected.commandResult)
            #expect(result.commandFrameCounter == want.commandFrameCounter)
            #expect(result.commandType.rawValue == want.commandType)
            #expect(result.outcome.name == want.result)
            #expect(result.valve.name == want.valve)
        case .ack(let ack):
            let want = try #require(expected.ack)
            #expect(ack.ackedFrameCounter == want.ackedFrameCounter)
            #expect(ack.ackedFrameType == want.ackedFrameType)
            #expect(ack.result.name == want.result)
            #expect(ack.serverTime == want.serverTime)
        case .valveCommand(let command):
            let want = try #require(expected.valveCommand)
            #expect(command.action.name == want.action)
            #expect(command.reason == want.reason)
        case .parameterUpdate(let update):
            let want = try #require(expected.parameterUpdate)
            #expect(update.parameterArray.map(\.id.rawValue) == want.parameters.map(\.id))
            #expect(update.parameterArray.map(\.id.name) == want.parameters.map(\.name))
            #expect(update.parameterArray.map(\.value) == want.parameters.map(\.value))
        }
    }

    private func checkRegister(
        _ register: NativeFrame.Register,
        raw: String,
        exponent: Int8,
        digits: UInt8,
        m3: String,
        ml: String
    ) {
        #expect(String(register.raw) == raw)
        #expect(register.exponent == exponent)
        #expect(register.digits == digits)
        #expect(register.cubicMetresText == m3)
        #expect(String(register.millilitres) == ml)
    }

    private func kindName(_ kind: ReadingKind) -> String {
        switch kind {
        case .periodic: "periodic"
        case .dailyFrozen: "daily_frozen"
        case .alarmSnapshot: "alarm_snapshot"
        case .historic: "historic"
        }
    }
}
