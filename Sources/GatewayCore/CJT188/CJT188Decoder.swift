/// Decodes CJ/T 188 frames (`firmware-protocols/cjt188.md`) from borrowed bytes, in both directions.
///
/// Decoding never allocates and never traps on any input: every failure is a typed ``FrameDecodingError``. The checks
/// run in this order, so the same bytes always give the same error:
///
/// 1. Skip `FE` bytes (any number). Nothing left: `truncated`; the next byte is not `68`: `bad_frame`.
/// 2. Fewer than 13 bytes from the `68`: `truncated`.
/// 3. The length byte L (offset 10) does not fit the bytes (13 + L ≠ count): a vendor frame if the bytes have the
///    Cat-1 push shape or form a `68 … CS 16` envelope with a correct checksum (`vendor_frame`); else `truncated`
///    (too few bytes) or `bad_length` (too many).
/// 4. The last byte is not `16`: `bad_frame`. The checksum does not match: `bad_checksum`.
/// 5. The control code is not a CJ/T 188 one (function not 01/03/04/09/15/16, or D6 set on a request), or T is
///    outside every CJ/T 188 range: `vendor_frame`. T in 40H–49H, or the wildcard AA on a reply: `unknown_type`.
///    C bit D5 (follow-up frame) set: `unsupported_frame`.
/// 6. The data field: its length (`bad_length`), the layout of the DI (`field_out_of_range` for a BCD digit above 9,
///    a unit code of the wrong kind or a valve command other than 55/99; `unsupported_frame` for a heat 901F reply
///    that is not 46 bytes).
public enum CJT188Decoder {
    /// The start byte.
    public static let startByte: UInt8 = 0x68
    /// The end byte.
    public static let endByte: UInt8 = 0x16
    /// The wake-up byte of the preamble.
    public static let preambleByte: UInt8 = 0xFE
    /// The size of a frame with an empty data field, without preamble.
    public static let minimumFrameSize = 13
    /// The size of the largest frame (L = 255), without preamble.
    public static let maximumFrameSize = 268
    /// The data field length of a water/gas 901F reply.
    public static let meterDataLength = 22
    /// The data field length of a heat 901F reply.
    public static let heatDataLength = 46

    /// Decodes one frame.
    ///
    /// - Parameter bytes: One frame, with or without its `FE` preamble, with nothing after the end byte.
    /// - Returns: The frame.
    /// - Throws: ``FrameDecodingError`` naming the first check that failed.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(FrameDecodingError) -> CJT188Frame {
        var start = 0
        while start < bytes.count && bytes[start] == preambleByte {
            start += 1
        }
        guard start < bytes.count else {
            throw FrameDecodingError(.truncated, "no start byte 0x68 (empty, or FE preamble bytes only)")
        }
        guard bytes[start] == startByte else {
            throw FrameDecodingError(.badFrame, "the first byte after the FE preamble is not the start byte 0x68")
        }
        let frame = UnsafeRawBufferPointer(rebasing: bytes[start...])
        let count = frame.count
        guard count >= minimumFrameSize else {
            throw FrameDecodingError(.truncated, "fewer than the 13 bytes of a frame with an empty data field")
        }
        let length = Int(frame[10])
        if count != minimumFrameSize + length {
            if isVendorFrame(frame) {
                throw FrameDecodingError(
                    .vendorFrame,
                    "the length byte at offset 10 does not fit, but the bytes form a vendor 68...CS 16 frame"
                )
            }
            if count < minimumFrameSize + length {
                throw FrameDecodingError(.truncated, "fewer bytes than the length byte L (offset 10) declares")
            }
            throw FrameDecodingError(.badLength, "more bytes than the length byte L (offset 10) declares")
        }
        guard frame[count - 1] == endByte else {
            throw FrameDecodingError(.badFrame, "the last byte is not the end byte 0x16")
        }
        let checksum = frame[count - 2]
        guard sum(UnsafeRawBufferPointer(rebasing: frame[0..<(count - 2)])) == checksum else {
            throw FrameDecodingError(.badChecksum, "the checksum CS does not match the sum of the bytes from 0x68")
        }

        let control = CJT188Control(rawValue: frame[9])
        guard let function = control.function, control.isFromMeter || !control.isAbnormal else {
            throw FrameDecodingError(.vendorFrame, "control code: not a CJ/T 188 function or direction")
        }
        let meterType = CJT188MeterType(rawValue: frame[1])
        guard let family = meterType.family else {
            throw FrameDecodingError(.vendorFrame, "meter type: outside every CJ/T 188 range (10H-49H, AA)")
        }
        if family == .custom {
            throw FrameDecodingError(.unknownType, "meter type: 40H-49H is user-defined; no layout is known")
        }
        if family == .wildcard && control.isFromMeter {
            throw FrameDecodingError(.unknownType, "meter type: a reply carries the wildcard AA, not the meter's type")
        }
        if control.hasFollowUp {
            throw FrameDecodingError(.unsupportedFrame, "control code: follow-up frames (bit D5) are not supported")
        }

        var decoded = CJT188Frame(
            preambleLength: start,
            meterType: meterType,
            address: CJT188Address(frame, at: 2),
            control: control,
            function: function,
            dataLength: length,
            dataIdentifier: nil,
            diOrder: nil,
            sequence: nil,
            checksum: checksum,
            body: .request
        )
        let data = UnsafeRawBufferPointer(rebasing: frame[11..<(11 + length)])
        if control.isAbnormal {
            try decodeAbnormal(data, into: &decoded)
        } else {
            try decodeData(data, family: family, into: &decoded)
        }
        return decoded
    }

    // MARK: Framing

    /// The additive checksum: the sum of the bytes modulo 256.
    static func sum(_ bytes: UnsafeRawBufferPointer) -> UInt8 {
        var total: UInt8 = 0
        for byte in bytes {
            total &+= byte
        }
        return total
    }

    /// Whether a buffer starting with `68` whose L at offset 10 does not fit is a vendor frame.
    ///
    /// Either the Cat-1 push shape (`0x97` or `0x17` at offset 10, L at offset 15, 18 + L bytes, last byte `16`),
    /// or any `68 … CS 16` envelope: last byte `16` and the byte before it the sum of all earlier bytes.
    static func isVendorFrame(_ frame: UnsafeRawBufferPointer) -> Bool {
        let count = frame.count
        guard count >= minimumFrameSize, frame[count - 1] == endByte else { return false }
        if (frame[10] == 0x97 || frame[10] == 0x17) && count >= 18 && count == 18 + Int(frame[15]) {
            return true
        }
        return sum(UnsafeRawBufferPointer(rebasing: frame[0..<(count - 2)])) == frame[count - 2]
    }

    // MARK: Data field

    static func decodeAbnormal(_ data: UnsafeRawBufferPointer, into frame: inout CJT188Frame) throws(FrameDecodingError)
    {
        guard data.count >= 1 else {
            throw FrameDecodingError(.badLength, "abnormal reply: the data field has no status byte")
        }
        var statusStart = 0
        if data.count >= 4, let (identifier, order) = CJT188DataIdentifier.match(data[0], data[1]) {
            frame.dataIdentifier = identifier
            frame.diOrder = order
            frame.sequence = data[2]
            statusStart = 3
        }
        frame.body = .abnormal(CJT188Payload(UnsafeRawBufferPointer(rebasing: data[statusStart...])))
    }

    static func decodeData(
        _ data: UnsafeRawBufferPointer,
        family: CJT188MeterFamily,
        into frame: inout CJT188Frame
    ) throws(FrameDecodingError) {
        guard data.count >= 3 else {
            throw FrameDecodingError(.badLength, "the data field is shorter than DI and SER (3 bytes)")
        }
        frame.sequence = data[2]
        let payload = UnsafeRawBufferPointer(rebasing: data[3...])
        guard let (identifier, order) = CJT188DataIdentifier.match(data[0], data[1]) else {
            frame.dataIdentifier = CJT188DataIdentifier(rawValue: data.u16(0))
            frame.body = .raw(CJT188Payload(payload))
            return
        }
        frame.dataIdentifier = identifier
        frame.diOrder = order
        guard identifier.function == frame.function else {
            // A known DI under another function: no layout applies.
            frame.body = .raw(CJT188Payload(payload))
            return
        }
        if frame.isFromMeter {
            frame.body = try decodeReply(payload, identifier: identifier, family: family, header: frame.address)
        } else {
            frame.body = try decodeRequest(payload, identifier: identifier, function: frame.function)
        }
    }

    static func decodeRequest(
        _ payload: UnsafeRawBufferPointer,
        identifier: CJT188DataIdentifier,
        function: CJT188Function
    ) throws(FrameDecodingError) -> CJT188Frame.Body {
        switch function {
        case .readData, .readAddress, .readKeyVersion:
            guard payload.isEmpty else {
                throw FrameDecodingError(.badLength, "read request: the data field is longer than DI and SER")
            }
            return .request
        case .writeData where identifier == .valveControl:
            guard payload.count == 1 else {
                throw FrameDecodingError(.badLength, "valve control request: not exactly one command byte after SER")
            }
            guard let command = CJT188ValveCommand(rawValue: payload[0]) else {
                throw FrameDecodingError(.fieldOutOfRange, "valve control request: the command is not 55 or 99")
            }
            return .valveCommand(command)
        case .writeAddress:
            guard payload.count == 7 else {
                throw FrameDecodingError(.badLength, "write address request: not exactly 7 address bytes after SER")
            }
            return .newAddress(CJT188Address(payload, at: 0))
        default:
            return .raw(CJT188Payload(payload))
        }
    }

    static func decodeReply(
        _ payload: UnsafeRawBufferPointer,
        identifier: CJT188DataIdentifier,
        family: CJT188MeterFamily,
        header: CJT188Address
    ) throws(FrameDecodingError) -> CJT188Frame.Body {
        switch identifier.rawValue {
        case CJT188DataIdentifier.meterData.rawValue where family == .heat:
            guard payload.count + 3 == heatDataLength else {
                throw FrameDecodingError(
                    .unsupportedFrame,
                    "heat meter 901F reply: only the 46-byte data field layout is supported"
                )
            }
            return .heatData(try decodeHeatData(payload))
        case CJT188DataIdentifier.meterData.rawValue:
            guard payload.count + 3 == meterDataLength else {
                throw FrameDecodingError(.badLength, "901F reply: the data field is not the 22 bytes of the layout")
            }
            return .meterData(try decodeMeterData(payload))
        case CJT188DataIdentifier.clock.rawValue:
            guard payload.count == 7 else {
                throw FrameDecodingError(.badLength, "907F reply: not exactly 7 clock bytes after SER")
            }
            return .clock(decodeClock(payload, at: 0))
        case 0xD120...0xD12B where family != .heat:
            guard payload.count == 5 else {
                throw FrameDecodingError(.badLength, "D120-D12B reply: not exactly 5 bytes (BCD4 + unit) after SER")
            }
            let volume = try readQuantity(
                payload,
                at: 0,
                digits: 8,
                decimals: 2,
                kind: .volume,
                bcdMessage: "settlement_history.volume: a BCD digit is above 9",
                unitMessage: "settlement_history.volume: the unit code is not a volume unit (29H-2EH)"
            )
            let monthsAgo = Int(identifier.rawValue - 0xD120) + 1
            return .settlementHistory(CJT188Frame.SettlementHistory(monthsAgo: monthsAgo, volume: volume))
        case CJT188DataIdentifier.address.rawValue:
            switch payload.count {
            case 0:
                return .addressReply(nil)
            case 7:
                let reported = CJT188Address(payload, at: 0)
                guard reported == header else {
                    throw FrameDecodingError(
                        .fieldOutOfRange,
                        "read address reply: the address in the data field differs from the header address"
                    )
                }
                return .addressReply(reported)
            default:
                throw FrameDecodingError(.badLength, "read address reply: not 0 or 7 address bytes after SER")
            }
        case CJT188DataIdentifier.valveControl.rawValue:
            switch payload.count {
            case 1:
                return .valveStatus(
                    CJT188Frame.ValveStatus(status: CJT188Status(st1: payload[0], st2: 0), byteCount: 1)
                )
            case 2:
                return .valveStatus(
                    CJT188Frame.ValveStatus(status: CJT188Status(st1: payload[0], st2: payload[1]), byteCount: 2)
                )
            default:
                throw FrameDecodingError(.badLength, "valve control reply: not 1 or 2 status bytes after SER")
            }
        default:
            return .raw(CJT188Payload(payload))
        }
    }

    // MARK: Layouts

    /// The water/gas 901F layout after DI and SER (19 bytes).
    static func decodeMeterData(_ p: UnsafeRawBufferPointer) throws(FrameDecodingError) -> CJT188Frame.MeterData {
        let current = try readQuantity(
            p,
            at: 0,
            digits: 8,
            decimals: 2,
            kind: .volume,
            bcdMessage: "meter_data.current_volume: a BCD digit is above 9",
            unitMessage: "meter_data.current_volume: the unit code is not a volume unit (29H-2EH)"
        )
        let settlement = try readQuantity(
            p,
            at: 5,
            digits: 8,
            decimals: 2,
            kind: .volume,
            bcdMessage: "meter_data.settlement_volume: a BCD digit is above 9",
            unitMessage: "meter_data.settlement_volume: the unit code is not a volume unit (29H-2EH)"
        )
        return CJT188Frame.MeterData(
            currentVolume: current,
            settlementVolume: settlement,
            clock: decodeClock(p, at: 10),
            status: CJT188Status(st1: p[17], st2: p[18])
        )
    }

    /// The heat 901F layout after DI and SER (43 bytes).
    static func decodeHeatData(_ p: UnsafeRawBufferPointer) throws(FrameDecodingError) -> CJT188Frame.HeatData {
        let settlementHeat = try readQuantity(
            p,
            at: 0,
            digits: 8,
            decimals: 2,
            kind: .energy,
            bcdMessage: "heat_data.settlement_heat: a BCD digit is above 9",
            unitMessage: "heat_data.settlement_heat: the unit code is not an energy unit (01H-13H)"
        )
        let currentHeat = try readQuantity(
            p,
            at: 5,
            digits: 8,
            decimals: 2,
            kind: .energy,
            bcdMessage: "heat_data.current_heat: a BCD digit is above 9",
            unitMessage: "heat_data.current_heat: the unit code is not an energy unit (01H-13H)"
        )
        let power = try readQuantity(
            p,
            at: 10,
            digits: 8,
            decimals: 2,
            kind: .power,
            bcdMessage: "heat_data.power: a BCD digit is above 9",
            unitMessage: "heat_data.power: the unit code is not a power unit (14H-1CH)"
        )
        let flow = try readQuantity(
            p,
            at: 15,
            digits: 8,
            decimals: 4,
            kind: .flow,
            bcdMessage: "heat_data.flow: a BCD digit is above 9",
            unitMessage: "heat_data.flow: the unit code is not a flow unit (32H-37H)"
        )
        let volume = try readQuantity(
            p,
            at: 20,
            digits: 8,
            decimals: 2,
            kind: .volume,
            bcdMessage: "heat_data.cumulative_volume: a BCD digit is above 9",
            unitMessage: "heat_data.cumulative_volume: the unit code is not a volume unit (29H-2EH)"
        )
        guard let supply = BCD.littleEndian(p, at: 25, count: 3) else {
            throw FrameDecodingError(.fieldOutOfRange, "heat_data.supply_temperature: a BCD digit is above 9")
        }
        guard let returnTemperature = BCD.littleEndian(p, at: 28, count: 3) else {
            throw FrameDecodingError(.fieldOutOfRange, "heat_data.return_temperature: a BCD digit is above 9")
        }
        guard let hours = BCD.littleEndian(p, at: 31, count: 3) else {
            throw FrameDecodingError(.fieldOutOfRange, "heat_data.operating_hours: a BCD digit is above 9")
        }
        return CJT188Frame.HeatData(
            settlementHeat: settlementHeat,
            currentHeat: currentHeat,
            power: power,
            flow: flow,
            cumulativeVolume: volume,
            supplyTemperatureCentiCelsius: supply,
            returnTemperatureCentiCelsius: returnTemperature,
            operatingHours: hours,
            clock: decodeClock(p, at: 34),
            status: CJT188Status(st1: p[41], st2: p[42])
        )
    }

    /// Reads 4 BCD bytes (least significant first) and a unit code of the given kind.
    static func readQuantity(
        _ p: UnsafeRawBufferPointer,
        at offset: Int,
        digits: Int,
        decimals: Int,
        kind: CJT188Unit.Kind,
        bcdMessage: StaticString,
        unitMessage: StaticString
    ) throws(FrameDecodingError) -> CJT188Quantity {
        let byteCount = digits / 2
        guard let raw = BCD.littleEndian(p, at: offset, count: byteCount) else {
            throw FrameDecodingError(.fieldOutOfRange, bcdMessage)
        }
        let unit = CJT188Unit(rawValue: p[offset + byteCount])
        guard unit.kind == kind else {
            throw FrameDecodingError(.fieldOutOfRange, unitMessage)
        }
        return CJT188Quantity(raw: raw, decimals: decimals, unit: unit)
    }

    /// Reads the 7-byte clock `ss mm hh DD MM YY CC`: all zero ⇒ not set; not BCD or not a real time ⇒ invalid.
    static func decodeClock(_ p: UnsafeRawBufferPointer, at offset: Int) -> CJT188Clock {
        var allZero = true
        var values: (Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0)
        for index in 0..<7 {
            let byte = p[offset + index]
            if byte != 0 { allZero = false }
            guard let value = BCD.value(byte) else {
                return CJT188Clock(state: allZero ? .notSet : .invalid, time: nil)
            }
            switch index {
            case 0: values.0 = Int(value)
            case 1: values.1 = Int(value)
            case 2: values.2 = Int(value)
            case 3: values.3 = Int(value)
            case 4: values.4 = Int(value)
            case 5: values.5 = Int(value)
            default: values.6 = Int(value)
            }
        }
        if allZero { return CJT188Clock(state: .notSet, time: nil) }
        let time = CivilTime(
            year: values.6 * 100 + values.5,
            month: values.4,
            day: values.3,
            hour: values.2,
            minute: values.1,
            second: values.0
        )
        guard time.isValid else { return CJT188Clock(state: .invalid, time: nil) }
        return CJT188Clock(state: .valid, time: time)
    }
}
