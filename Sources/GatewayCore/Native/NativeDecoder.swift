/// Decodes frames of the native protocol v1 (`firmware-protocols/native-v1.md`) from borrowed bytes.
///
/// Decoding never allocates and never traps on any input: every failure is a typed ``FrameDecodingError``.
/// Checks run in the order the specification lists, so the same bytes always give the same error:
/// `truncated`, `bad_frame`, `unknown_version`, `frame_too_large`, `truncated`, `bad_length`, `bad_crc`,
/// meter id 0 (`field_out_of_range`), `unknown_meter`, `bad_mac`, `unknown_type`, `bad_length`,
/// `field_out_of_range`.
public enum NativeDecoder {
    /// The protocol version this decoder implements.
    public static let version: UInt8 = 0x01
    /// The two magic bytes "GM" as a big-endian integer.
    public static let magic: UInt16 = 0x474D
    /// Bytes before the payload.
    public static let headerSize = 23
    /// Bytes of the truncated AES-CMAC.
    public static let macSize = 8
    /// Bytes of the CRC.
    public static let crcSize = 2
    /// The size of a frame with an empty payload: header, MAC and CRC.
    public static let minimumFrameSize = 33
    /// The largest frame in bytes.
    public static let maximumFrameSize = 512
    /// The largest payload in bytes.
    public static let maximumPayloadLength = 479

    /// The error codes the native decoder can throw, in check order.
    public static let errorCodes: [FrameDecodingError.Code] = [
        .truncated, .badFrame, .unknownVersion, .frameTooLarge, .badLength, .badCRC, .unknownMeter, .badMAC,
        .unknownType, .fieldOutOfRange,
    ]

    /// Reads the header for routing, without a key and without checking the CRC or MAC.
    ///
    /// Runs the framing checks (length, magic, version, declared size) only. Use the result to pick a worker
    /// or look up a key, never as content: nothing in it is authenticated.
    ///
    /// - Parameter bytes: One complete frame.
    /// - Returns: The header, or `nil` if the bytes are not a well-framed v1 frame.
    public static func peekHeader(_ bytes: UnsafeRawBufferPointer) -> NativeFrame.Header? {
        try? readHeader(bytes)
    }

    /// Decodes and authenticates one frame.
    ///
    /// - Parameters:
    ///   - bytes: One complete frame, exactly as received.
    ///   - key: Returns the meter's key for a meter id, or `nil` if the meter is not registered. Called at most
    ///     once, after the CRC has been checked.
    /// - Returns: The frame, with ``NativeFrame/MACStatus/verified``.
    /// - Throws: ``FrameDecodingError`` naming the first check that failed.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer,
        key: (UInt64) -> AES128Key?
    ) throws(FrameDecodingError) -> NativeFrame {
        let header = try readHeader(bytes)
        try checkCRC(bytes, header)
        try checkMeterID(header)
        guard let meterKey = key(header.meterID) else {
            throw FrameDecodingError(.unknownMeter, "no key is registered for the frame's meter id")
        }
        let mac = readMAC(bytes, header)
        var cmac = AESCMAC(key: meterKey)
        cmac.update(UnsafeRawBufferPointer(rebasing: bytes[0..<(headerSize + header.payloadLength)]))
        guard cmac.finalizeTruncatedTo64() == mac else {
            throw FrameDecodingError(.badMAC, "the MAC does not verify with the meter's key")
        }
        return try decodeContent(bytes, header: header, macStatus: .verified, mac: mac)
    }

    /// Decodes one frame without verifying its MAC, for tools that have no key.
    ///
    /// Every other check runs. The result says ``NativeFrame/MACStatus/notVerified``: its content is not
    /// authenticated and must never be stored as a reading.
    ///
    /// - Parameter bytes: One complete frame, exactly as received.
    /// - Returns: The frame, with ``NativeFrame/MACStatus/notVerified``.
    /// - Throws: ``FrameDecodingError`` naming the first check that failed.
    public static func decodeWithoutVerifyingMAC(
        _ bytes: UnsafeRawBufferPointer
    ) throws(FrameDecodingError) -> NativeFrame {
        let header = try readHeader(bytes)
        try checkCRC(bytes, header)
        try checkMeterID(header)
        return try decodeContent(bytes, header: header, macStatus: .notVerified, mac: readMAC(bytes, header))
    }

    // MARK: Framing

    static func readHeader(_ bytes: UnsafeRawBufferPointer) throws(FrameDecodingError) -> NativeFrame.Header {
        guard bytes.count >= minimumFrameSize else {
            throw FrameDecodingError(.truncated, "fewer than the 33 bytes of an empty frame")
        }
        guard bytes.u16(0) == magic else {
            throw FrameDecodingError(.badFrame, "the magic bytes are not 0x47 0x4D (\"GM\")")
        }
        guard bytes[2] == version else {
            throw FrameDecodingError(.unknownVersion, "the version byte is not 0x01")
        }
        let payloadLength = Int(bytes.u16(21))
        guard payloadLength <= maximumPayloadLength else {
            throw FrameDecodingError(.frameTooLarge, "the declared payload length exceeds 479 bytes (512-byte frame)")
        }
        let frameSize = minimumFrameSize + payloadLength
        guard bytes.count >= frameSize else {
            throw FrameDecodingError(.truncated, "fewer bytes than the declared payload length needs")
        }
        guard bytes.count == frameSize else {
            throw FrameDecodingError(.badLength, "more bytes than the declared payload length allows")
        }
        return NativeFrame.Header(
            version: bytes[2],
            frameType: bytes[3],
            flags: NativeFrame.Flags(rawValue: bytes[4]),
            meterID: bytes.u64(5),
            frameCounter: bytes.u32(13),
            meterTime: bytes.u32(17),
            payloadLength: payloadLength
        )
    }

    static func checkCRC(_ bytes: UnsafeRawBufferPointer, _ header: NativeFrame.Header) throws(FrameDecodingError) {
        let covered = headerSize + header.payloadLength + macSize
        let computed = CRC16CCITT.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<covered]))
        guard computed == bytes.u16(covered) else {
            throw FrameDecodingError(.badCRC, "the CRC-16/CCITT-FALSE does not match")
        }
    }

    static func checkMeterID(_ header: NativeFrame.Header) throws(FrameDecodingError) {
        guard header.meterID != 0 else {
            throw FrameDecodingError(.fieldOutOfRange, "header.meter_id: 0 is not a valid meter id")
        }
    }

    static func readMAC(_ bytes: UnsafeRawBufferPointer, _ header: NativeFrame.Header) -> UInt64 {
        bytes.u64(headerSize + header.payloadLength)
    }

    // MARK: Content

    static func decodeContent(
        _ bytes: UnsafeRawBufferPointer,
        header: NativeFrame.Header,
        macStatus: NativeFrame.MACStatus,
        mac: UInt64
    ) throws(FrameDecodingError) -> NativeFrame {
        guard let type = NativeFrameType(rawValue: header.frameType) else {
            throw FrameDecodingError(.unknownType, "header.frame_type: not a v1 frame type")
        }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[headerSize..<(headerSize + header.payloadLength)])
        try checkPayloadLength(payload, type: type)
        guard header.flags.isSubset(of: .defined) else {
            throw FrameDecodingError(.fieldOutOfRange, "header.flags: a reserved bit (2-7) is set")
        }
        let body: NativeFrame.Body
        switch type {
        case .reading:
            body = .reading(try decodeReading(payload))
        case .dailyReport:
            body = .dailyReport(try decodeDailyReport(payload))
        case .alarm:
            body = .alarm(try decodeAlarm(payload))
        case .commandResult:
            body = .commandResult(try decodeCommandResult(payload))
        case .ack:
            body = .ack(try decodeAck(payload, header: header))
        case .valveCommand:
            body = .valveCommand(try decodeValveCommand(payload))
        case .parameterUpdate:
            body = .parameterUpdate(try decodeParameterUpdate(payload))
        }
        return NativeFrame(header: header, body: body, macStatus: macStatus, mac: mac)
    }

    static func checkPayloadLength(_ payload: UnsafeRawBufferPointer, type: NativeFrameType) throws(FrameDecodingError)
    {
        let length = payload.count
        let expected: Int
        switch type {
        case .reading: expected = 25
        case .alarm: expected = 22
        case .commandResult: expected = 7
        case .ack: expected = 10
        case .valveCommand: expected = 3
        case .dailyReport:
            guard length >= 17 else {
                throw FrameDecodingError(.badLength, "daily_report: payload shorter than 17 bytes")
            }
            let points = Int(payload[5])
            guard length >= 17 + 4 * points else {
                throw FrameDecodingError(.badLength, "daily_report: payload shorter than its point count needs")
            }
            let frozen = Int(payload[16 + 4 * points])
            expected = 17 + 4 * points + 12 * frozen
        case .parameterUpdate:
            guard length >= 1 else {
                throw FrameDecodingError(.badLength, "parameter_update: empty payload")
            }
            expected = 1 + 5 * Int(payload[0])
        }
        guard length == expected else {
            throw FrameDecodingError(.badLength, "payload length does not match the frame type")
        }
    }

    // MARK: Bodies

    static func decodeReading(_ p: UnsafeRawBufferPointer) throws(FrameDecodingError) -> NativeFrame.Reading {
        let register = try decodeRegister(raw: p.u64(0), exponent: p.i8(8), digits: p[9])
        let flow = p.u32(10)
        let valve = try decodeValve(p[14])
        let battery = p.u16(15)
        let temperature = p.i16(17)
        if temperature != Int16.min {
            guard (-4000...8500).contains(temperature) else {
                throw FrameDecodingError(.fieldOutOfRange, "reading.temperature: outside -4000...8500 (0.01 degC)")
            }
        }
        let signal = p.i16(19)
        if signal != Int16.min {
            guard (-150...0).contains(signal) else {
                throw FrameDecodingError(.fieldOutOfRange, "reading.signal_dbm: outside -150...0")
            }
        }
        return NativeFrame.Reading(
            register: register,
            flowMillilitresPerHour: flow == UInt32.max ? nil : flow,
            valve: valve,
            batteryMillivolts: battery == UInt16.max ? nil : battery,
            temperatureCentiCelsius: temperature == Int16.min ? nil : temperature,
            signalDBm: signal == Int16.min ? nil : signal,
            status: NativeStatus(rawValue: p.u32(21))
        )
    }

    static func decodeDailyReport(_ p: UnsafeRawBufferPointer) throws(FrameDecodingError) -> NativeFrame.DailyReport {
        let intervalStart = p.u32(0)
        guard intervalStart != 0 else {
            throw FrameDecodingError(.fieldOutOfRange, "daily_report.interval_start: 0 (clock not set) is not allowed")
        }
        let minutes = p[4]
        guard minutes == 15 || minutes == 30 || minutes == 60 else {
            throw FrameDecodingError(.fieldOutOfRange, "daily_report.interval_minutes: not 15, 30 or 60")
        }
        guard intervalStart % (UInt32(minutes) * 60) == 0 else {
            throw FrameDecodingError(
                .fieldOutOfRange,
                "daily_report.interval_start: not a multiple of the interval length"
            )
        }
        let pointCount = Int(p[5])
        guard pointCount <= NativeFrame.DailyReport.maximumPointCount else {
            throw FrameDecodingError(.fieldOutOfRange, "daily_report.point_count: more than 48")
        }
        let register = try decodeRegister(raw: p.u64(6), exponent: p.i8(14), digits: p[15])
        let modulus = register.rawModulus
        var report = NativeFrame.DailyReport(
            intervalStart: intervalStart,
            intervalMinutes: minutes,
            startRegister: register
        )
        for index in 0..<pointCount {
            let point = p.u32(16 + 4 * index)
            guard UInt64(point) < modulus else {
                throw FrameDecodingError(.fieldOutOfRange, "daily_report.points: a point exceeds one register turn")
            }
            report.points[index] = point
        }
        report.pointCount = pointCount
        let frozenOffset = 16 + 4 * pointCount
        let frozenCount = Int(p[frozenOffset])
        guard frozenCount <= NativeFrame.DailyReport.maximumFrozenCount else {
            throw FrameDecodingError(.fieldOutOfRange, "daily_report.frozen_count: more than 7")
        }
        for index in 0..<frozenCount {
            let entry = frozenOffset + 1 + 12 * index
            let time = p.u32(entry)
            guard time != 0 else {
                throw FrameDecodingError(.fieldOutOfRange, "daily_report.frozen.time: 0 (clock not set) is not allowed")
            }
            let raw = p.u64(entry + 4)
            guard raw < modulus else {
                throw FrameDecodingError(
                    .fieldOutOfRange,
                    "daily_report.frozen.register: not below 10^(digits-exponent)"
                )
            }
            report.frozenTotals[index] = NativeFrame.FrozenTotal(time: time, raw: raw)
        }
        report.frozenCount = frozenCount
        return report
    }

    static func decodeAlarm(_ p: UnsafeRawBufferPointer) throws(FrameDecodingError) -> NativeFrame.Alarm {
        let state = p[2]
        guard state <= 1 else {
            throw FrameDecodingError(.fieldOutOfRange, "alarm.state: not 0 (cleared) or 1 (raised)")
        }
        let valve = try decodeValve(p[3])
        let register = try decodeRegister(raw: p.u64(4), exponent: p.i8(12), digits: p[13])
        let flow = p.u32(14)
        return NativeFrame.Alarm(
            code: p.u16(0),
            isRaised: state == 1,
            valve: valve,
            register: register,
            flowMillilitresPerHour: flow == UInt32.max ? nil : flow,
            detail: Int32(bitPattern: p.u32(18))
        )
    }

    static func decodeCommandResult(
        _ p: UnsafeRawBufferPointer
    ) throws(FrameDecodingError) -> NativeFrame.CommandResult {
        let commandType: NativeFrameType
        switch p[4] {
        case NativeFrameType.valveCommand.rawValue: commandType = .valveCommand
        case NativeFrameType.parameterUpdate.rawValue: commandType = .parameterUpdate
        default:
            throw FrameDecodingError(.fieldOutOfRange, "command_result.command_type: not 0x82 or 0x83")
        }
        guard let outcome = NativeFrame.CommandResult.Outcome(rawValue: p[5]) else {
            throw FrameDecodingError(.fieldOutOfRange, "command_result.result: not 0...3")
        }
        return NativeFrame.CommandResult(
            commandFrameCounter: p.u32(0),
            commandType: commandType,
            outcome: outcome,
            valve: try decodeValve(p[6])
        )
    }

    static func decodeAck(
        _ p: UnsafeRawBufferPointer,
        header: NativeFrame.Header
    ) throws(FrameDecodingError) -> NativeFrame.Ack {
        guard header.flags.isEmpty else {
            throw FrameDecodingError(.fieldOutOfRange, "ack: header.flags must be 0")
        }
        let acked = p.u32(0)
        guard acked == header.frameCounter else {
            throw FrameDecodingError(.fieldOutOfRange, "ack.acked_frame_counter: differs from header.frame_counter")
        }
        guard let result = NativeAckResult(rawValue: p[5]) else {
            throw FrameDecodingError(.fieldOutOfRange, "ack.result: not 0...2")
        }
        return NativeFrame.Ack(ackedFrameCounter: acked, ackedFrameType: p[4], result: result, serverTime: p.u32(6))
    }

    static func decodeValveCommand(_ p: UnsafeRawBufferPointer) throws(FrameDecodingError) -> NativeFrame.ValveCommand {
        guard let action = NativeFrame.ValveCommand.Action(rawValue: p[0]) else {
            throw FrameDecodingError(.fieldOutOfRange, "valve_command.action: not 1 (close) or 2 (permit open)")
        }
        return NativeFrame.ValveCommand(action: action, reason: p.u16(1))
    }

    static func decodeParameterUpdate(
        _ p: UnsafeRawBufferPointer
    ) throws(FrameDecodingError) -> NativeFrame.ParameterUpdate {
        let count = Int(p[0])
        guard count >= 1 && count <= NativeFrame.ParameterUpdate.maximumCount else {
            throw FrameDecodingError(.fieldOutOfRange, "parameter_update.count: not 1...16")
        }
        var update = NativeFrame.ParameterUpdate([])
        var seen: UInt32 = 0
        for index in 0..<count {
            guard let id = NativeFrame.ParameterID(rawValue: p[1 + 5 * index]) else {
                throw FrameDecodingError(.fieldOutOfRange, "parameter_update.id: not a v1 parameter (1...8)")
            }
            let bit = UInt32(1) << UInt32(id.rawValue)
            guard seen & bit == 0 else {
                throw FrameDecodingError(.fieldOutOfRange, "parameter_update.id: the same parameter appears twice")
            }
            seen |= bit
            let value = p.u32(2 + 5 * index)
            guard id.validRange.contains(value) else {
                throw FrameDecodingError(.fieldOutOfRange, "parameter_update.value: outside the parameter's range")
            }
            update.parameters[index] = NativeFrame.Parameter(id: id, value: value)
        }
        update.count = count
        return update
    }

    // MARK: Fields

    static func decodeRegister(
        raw: UInt64,
        exponent: Int8,
        digits: UInt8
    ) throws(FrameDecodingError) -> NativeFrame.Register {
        guard (-6...0).contains(exponent) else {
            throw FrameDecodingError(.fieldOutOfRange, "register.exponent: outside -6...0")
        }
        guard (4...10).contains(digits) else {
            throw FrameDecodingError(.fieldOutOfRange, "register.digits: outside 4...10")
        }
        let register = NativeFrame.Register(raw: raw, exponent: exponent, digits: digits)
        guard raw < register.rawModulus else {
            throw FrameDecodingError(.fieldOutOfRange, "register.raw: not below 10^(digits-exponent)")
        }
        return register
    }

    static func decodeValve(_ byte: UInt8) throws(FrameDecodingError) -> ValveState {
        switch byte {
        case 0: .open
        case 1: .closed
        case 2: .moving
        case 3: .fault
        case 0xFF: .unknown
        default: throw FrameDecodingError(.fieldOutOfRange, "valve: not 0...3 or 0xFF")
        }
    }

}
