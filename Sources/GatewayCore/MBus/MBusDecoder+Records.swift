extension MBusDecoder {
    /// The most DIFEs and VIFEs one record may carry (EN 13757-3 allows 10 each).
    static let maximumExtensionCount = 10

    /// Reads the application layer (EN 13757-3 data records) from `start` to the end of the frame.
    ///
    /// `2F` idle fillers are skipped; `0F`/`1F` start manufacturer data that runs to the end and is kept raw. The
    /// first ``maximumRecordCount`` records are kept; later ones are parsed and checked, then only counted. Every
    /// record must be well formed, and none may cross `protectedEnd` (the end of the decrypted part), so decrypted
    /// content is accepted only as a complete record list. The one exception: an element that fails where the last
    /// two bytes are the final format-A block's CRC, outside the protected part, ends the list
    /// (``trailingBlockCRC(_:elementStart:afterFiller:protectedEnd:received:)``).
    static func readRecords(
        _ frame: inout MBusFrame,
        from start: Int,
        protectedEnd: Int,
        received: UnsafeRawBufferPointer? = nil
    ) throws(FrameDecodingError) {
        let bytes = frame.bytes
        let end = frame.byteCount
        var position = start
        var count = 0
        var dropped = 0
        var lastFiller = -1
        while position < end {
            let dif = bytes[position]
            if dif == 0x2F {
                lastFiller = position
                position += 1
                continue
            }
            if dif == 0x0F || dif == 0x1F {
                frame.manufacturerDataRange = (position + 1)..<end
                frame.hasMoreRecordsInNextTelegram = dif == 0x1F
                break
            }
            let recordStart = position
            let record: MBusRecord
            do throws(FrameDecodingError) {
                if dif & 0x0F == 0x0F {
                    throw FrameDecodingError(.unsupportedFrame, "DIF: a reserved special function or a readout request")
                }
                record = try readRecord(bytes, at: &position, end: end, protectedEnd: protectedEnd)
            } catch {
                guard
                    let trailer = trailingBlockCRC(
                        frame,
                        elementStart: recordStart,
                        afterFiller: lastFiller == recordStart - 1,
                        protectedEnd: protectedEnd,
                        received: received
                    )
                else { throw error }
                frame.trailingBytes = trailer
                break
            }
            // Decrypted content must be a complete record list: a record that starts inside the protected part
            // ends inside it (real meters pad the encrypted blocks with 2F fillers). A forged ciphertext that still
            // decrypts to 2F 2F mostly fails here or in the record checks above.
            if recordStart < protectedEnd && position > protectedEnd {
                throw FrameDecodingError(.badFrame, "record: runs past the end of the encrypted part")
            }
            if count < maximumRecordCount {
                frame.records[count] = record
                count += 1
            } else {
                dropped += 1
            }
        }
        frame.recordCount = count
        frame.droppedRecordCount = dropped
        frame.meterTime = nil
        for index in 0..<count {
            let record = frame.records[index]
            if record.quantity == .dateTime && record.storage == 0 && record.modifier == nil {
                frame.meterTime = record.date
                break
            }
        }
    }

    static func readRecord(
        _ bytes: InlineArray<256, UInt8>,
        at position: inout Int,
        end: Int,
        protectedEnd: Int
    ) throws(FrameDecodingError) -> MBusRecord {
        let start = position
        let dif = bytes[position]
        position += 1
        var storage = UInt64((dif >> 6) & 1)
        var tariff: UInt32 = 0
        var subunit: UInt16 = 0
        var extends = dif & 0x80 != 0
        var extensionCount = 0
        while extends {
            guard position < end else {
                throw FrameDecodingError(.truncated, "record: a DIFE is announced but missing")
            }
            guard extensionCount < maximumExtensionCount else {
                throw FrameDecodingError(.badFrame, "record: more than 10 DIFEs")
            }
            let dife = bytes[position]
            position += 1
            storage |= UInt64(dife & 0x0F) << UInt64(1 + 4 * extensionCount)
            tariff |= UInt32((dife >> 4) & 0x03) << UInt32(2 * extensionCount)
            subunit |= UInt16((dife >> 6) & 0x01) << UInt16(extensionCount)
            extends = dife & 0x80 != 0
            extensionCount += 1
        }

        guard position < end else {
            throw FrameDecodingError(.truncated, "record: the VIF is missing")
        }
        let vif = bytes[position]
        position += 1
        var table = MBusVIFTable.primary
        var code = vif & 0x7F
        var plainTextUnitRange: Range<Int>? = nil
        extends = vif & 0x80 != 0
        switch vif {
        case 0xFB, 0xFD:
            guard position < end else {
                throw FrameDecodingError(.truncated, "record: the VIF extension code is missing")
            }
            table = vif == 0xFB ? .extensionFB : .extensionFD
            code = bytes[position] & 0x7F
            extends = bytes[position] & 0x80 != 0
            position += 1
        case 0x7C, 0xFC:
            guard position < end else {
                throw FrameDecodingError(.truncated, "record: the plain-text unit length is missing")
            }
            let textLength = Int(bytes[position])
            position += 1
            guard position + textLength <= end else {
                throw FrameDecodingError(.truncated, "record: the plain-text unit is cut off")
            }
            table = .plainText
            plainTextUnitRange = position..<(position + textLength)
            position += textLength
        case 0x7F, 0xFF:
            table = .manufacturer
        default:
            break
        }

        var basis = MBusVolumeBasis.unspecified
        var accumulation = MBusAccumulation.standard
        var modifier: UInt8? = nil
        var interprets = table != .manufacturer
        extensionCount = 0
        while extends {
            guard position < end else {
                throw FrameDecodingError(.truncated, "record: a VIFE is announced but missing")
            }
            guard extensionCount < maximumExtensionCount else {
                throw FrameDecodingError(.badFrame, "record: more than 10 VIFEs")
            }
            let vife = bytes[position]
            position += 1
            extends = vife & 0x80 != 0
            extensionCount += 1
            guard interprets else { continue }
            let meaning = vife & 0x7F
            switch meaning {
            case 0x3A where basis == .unspecified:
                basis = .uncorrected
            case 0x3E where basis == .unspecified:
                basis = .converted
            case 0x3B where accumulation == .standard:
                accumulation = .forwardOnly
            case 0x3C where accumulation == .standard:
                accumulation = .backwardOnly
            case 0x7F:
                // Manufacturer-specific VIFE: the rest of the VIB is manufacturer defined.
                modifier = modifier ?? meaning
                interprets = false
            default:
                modifier = modifier ?? meaning
            }
        }
        let headerEnd = position

        let dataField = dif & 0x0F
        var lengthCode: UInt8? = nil
        let dataLength: Int
        switch dataField {
        case 0x0, 0x8: dataLength = 0
        case 0x1, 0x9: dataLength = 1
        case 0x2, 0xA: dataLength = 2
        case 0x3, 0xB: dataLength = 3
        case 0x4, 0x5, 0xC: dataLength = 4
        case 0x6, 0xE: dataLength = 6
        case 0x7: dataLength = 8
        default:
            // 0xD: variable length (LVAR); 0xF never gets here.
            guard position < end else {
                throw FrameDecodingError(.truncated, "record: the LVAR length byte is missing")
            }
            let lvar = bytes[position]
            position += 1
            switch lvar {
            case 0x00...0xBF: dataLength = Int(lvar)
            case 0xC0...0xCF: dataLength = Int(lvar - 0xC0)
            case 0xD0...0xDF: dataLength = Int(lvar - 0xD0)
            case 0xE0...0xEF: dataLength = Int(lvar - 0xE0)
            default:
                throw FrameDecodingError(.unsupportedFrame, "record: LVAR F0-FF (length not supported)")
            }
            lengthCode = lvar
        }
        guard position + dataLength <= end else {
            throw FrameDecodingError(.truncated, "record: the data is cut off")
        }
        let dataRange = position..<(position + dataLength)
        position += dataLength

        let (quantity, unit, exponent) = describe(table: table, code: code)
        let value = decodeValue(bytes, dataRange, dataField: dataField, lengthCode: lengthCode, quantity: quantity)
        return MBusRecord(
            dif: dif,
            function: function(of: dif),
            storage: storage,
            tariff: tariff,
            subunit: subunit,
            vifTable: table,
            vifCode: code,
            quantity: quantity,
            unit: unit,
            exponent: exponent,
            basis: basis,
            accumulation: accumulation,
            modifier: modifier,
            value: value,
            headerRange: start..<headerEnd,
            dataRange: dataRange,
            plainTextUnitRange: plainTextUnitRange,
            isProtected: position <= protectedEnd
        )
    }

    static func function(of dif: UInt8) -> MBusFunction {
        switch (dif >> 4) & 0x03 {
        case 0: .instantaneous
        case 1: .maximum
        case 2: .minimum
        default: .duringError
        }
    }

    // MARK: VIF tables

    /// The quantity, unit and decimal exponent of a VIF code.
    static func describe(table: MBusVIFTable, code: UInt8) -> (MBusQuantity, MBusUnit, Int8) {
        let n = Int8(code & 0x07)
        let nn = Int8(code & 0x03)
        switch table {
        case .primary:
            switch code {
            case 0x00...0x07: return (.energy, .wattHour, n - 3)
            case 0x08...0x0F: return (.energy, .joule, n)
            case 0x10...0x17: return (.volume, .cubicMetre, n - 6)
            case 0x18...0x1F: return (.mass, .kilogram, n - 3)
            case 0x20...0x23: return (.onTime, timeUnit(code), 0)
            case 0x24...0x27: return (.operatingTime, timeUnit(code), 0)
            case 0x28...0x2F: return (.power, .watt, n - 3)
            case 0x30...0x37: return (.power, .joulePerHour, n)
            case 0x38...0x3F: return (.flow, .cubicMetrePerHour, n - 6)
            case 0x40...0x47: return (.flow, .cubicMetrePerMinute, n - 7)
            case 0x48...0x4F: return (.flow, .cubicMetrePerSecond, n - 9)
            case 0x50...0x57: return (.massFlow, .kilogramPerHour, n - 3)
            case 0x58...0x5B: return (.flowTemperature, .degreeCelsius, nn - 3)
            case 0x5C...0x5F: return (.returnTemperature, .degreeCelsius, nn - 3)
            case 0x60...0x63: return (.temperatureDifference, .kelvin, nn - 3)
            case 0x64...0x67: return (.externalTemperature, .degreeCelsius, nn - 3)
            case 0x68...0x6B: return (.pressure, .bar, nn - 3)
            case 0x6C: return (.date, .none, 0)
            case 0x6D: return (.dateTime, .none, 0)
            case 0x6E: return (.hcaUnits, .none, 0)
            case 0x70...0x73: return (.averagingDuration, timeUnit(code), 0)
            case 0x74...0x77: return (.actualityDuration, timeUnit(code), 0)
            case 0x78: return (.fabricationNumber, .none, 0)
            case 0x79: return (.enhancedIdentification, .none, 0)
            case 0x7A: return (.busAddress, .none, 0)
            default: return (.unknown, .none, 0)
            }
        case .extensionFD:
            switch code {
            case 0x00...0x03: return (.credit, .currency, nn - 3)
            case 0x04...0x07: return (.debit, .currency, nn - 3)
            case 0x08: return (.accessNumber, .none, 0)
            case 0x09: return (.deviceType, .none, 0)
            case 0x0A: return (.manufacturer, .none, 0)
            case 0x0B: return (.parameterSet, .none, 0)
            case 0x0C: return (.modelVersion, .none, 0)
            case 0x0D: return (.hardwareVersion, .none, 0)
            case 0x0E: return (.firmwareVersion, .none, 0)
            case 0x0F: return (.softwareVersion, .none, 0)
            case 0x10: return (.customerLocation, .none, 0)
            case 0x11: return (.customer, .none, 0)
            case 0x16: return (.password, .none, 0)
            case 0x17: return (.errorFlags, .none, 0)
            case 0x18: return (.errorMask, .none, 0)
            case 0x1A: return (.digitalOutput, .none, 0)
            case 0x1B: return (.digitalInput, .none, 0)
            case 0x3A: return (.dimensionless, .none, 0)
            case 0x40...0x4F: return (.voltage, .volt, Int8(code & 0x0F) - 9)
            case 0x50...0x5F: return (.current, .ampere, Int8(code & 0x0F) - 12)
            case 0x60: return (.resetCounter, .none, 0)
            case 0x61: return (.cumulationCounter, .none, 0)
            case 0x67: return (.specialSupplierInformation, .none, 0)
            case 0x6C...0x6F: return (.batteryOperatingTime, timeUnit(code), 0)
            case 0x70: return (.batteryChangeDate, .none, 0)
            case 0x71: return (.receptionLevel, .decibelMilliwatt, 0)
            case 0x74: return (.batteryRemaining, .day, 0)
            default: return (.unknown, .none, 0)
            }
        case .extensionFB:
            let m = Int8(code & 0x01)
            switch code {
            case 0x00, 0x01: return (.energy, .megawattHour, m - 1)
            case 0x08, 0x09: return (.energy, .gigajoule, m - 1)
            case 0x10, 0x11: return (.volume, .cubicMetre, m + 2)
            case 0x18, 0x19: return (.mass, .tonne, m + 2)
            case 0x28, 0x29: return (.power, .megawatt, m - 1)
            case 0x30, 0x31: return (.power, .gigajoulePerHour, m - 1)
            default: return (.unknown, .none, 0)
            }
        case .plainText:
            return (.plainTextUnit, .text, 0)
        case .manufacturer:
            return (.manufacturerSpecific, .none, 0)
        }
    }

    /// Seconds, minutes, hours or days from the low two bits of a duration VIF.
    static func timeUnit(_ code: UInt8) -> MBusUnit {
        switch code & 0x03 {
        case 0: .second
        case 1: .minute
        case 2: .hour
        default: .day
        }
    }

    // MARK: Values

    static func decodeValue(
        _ bytes: InlineArray<256, UInt8>,
        _ range: Range<Int>,
        dataField: UInt8,
        lengthCode: UInt8?,
        quantity: MBusQuantity
    ) -> MBusValue {
        if dataField == 0x0 || dataField == 0x8 { return .none }
        let isBinaryInteger: Bool
        switch dataField {
        case 0x1, 0x2, 0x3, 0x4, 0x6, 0x7: isBinaryInteger = true
        default: isBinaryInteger = false
        }
        if quantity.isTimePoint {
            guard isBinaryInteger else { return .invalid }
            switch (quantity, range.count) {
            case (.date, 2): return .date(dateG(bytes, range.lowerBound))
            case (.dateTime, 4), (.batteryChangeDate, 4): return dateF(bytes, range.lowerBound)
            case (.dateTime, 6), (.batteryChangeDate, 6): return .date(dateI(bytes, range.lowerBound))
            default: return .invalid
            }
        }
        if isBinaryInteger {
            var unsigned: UInt64 = 0
            var index = range.upperBound
            while index > range.lowerBound {
                index -= 1
                unsigned = unsigned << 8 | UInt64(bytes[index])
            }
            if quantity.isBitField { return .bits(unsigned) }
            let width = UInt64(8 * range.count)
            if width < 64 && unsigned & (1 << (width - 1)) != 0 {
                unsigned |= ~((1 << width) - 1)
            }
            return .integer(Int64(bitPattern: unsigned))
        }
        switch dataField {
        case 0x5:
            var pattern: UInt32 = 0
            var index = range.upperBound
            while index > range.lowerBound {
                index -= 1
                pattern = pattern << 8 | UInt32(bytes[index])
            }
            let real = Float(bitPattern: pattern)
            return real.isFinite ? .real(real) : .invalid
        case 0x9, 0xA, 0xB, 0xC, 0xE:
            return bcd(bytes, range, signNibbleAllowed: true, negative: false)
        default:
            // 0xD, LVAR.
            switch lengthCode ?? 0 {
            case 0x00...0xBF: return .text
            case 0xC0...0xCF: return bcd(bytes, range, signNibbleAllowed: false, negative: false)
            case 0xD0...0xDF: return bcd(bytes, range, signNibbleAllowed: false, negative: true)
            default: return .bytes
            }
        }
    }

    /// Type A (BCD), least significant byte first, as a record value: a top nibble `F` means negative when
    /// `signNibbleAllowed`; any other digit A–F makes the value invalid, as does a value beyond Int64.
    static func bcd(
        _ bytes: InlineArray<256, UInt8>,
        _ range: Range<Int>,
        signNibbleAllowed: Bool,
        negative: Bool
    ) -> MBusValue {
        guard let value = BCD.signedLittleEndian(bytes, range, signNibbleAllowed: signNibbleAllowed, negative: negative)
        else { return .invalid }
        return .integer(value)
    }

    // MARK: Dates (rtl_433 m_bus_tm_decode; protocols.md §2.11)

    /// Type G (date, 2 bytes). All-zero, all-ones-style (year > 99) and impossible dates are `nil`.
    static func dateG(_ bytes: InlineArray<256, UInt8>, _ at: Int) -> CivilTime? {
        let b0 = bytes[at]
        let b1 = bytes[at + 1]
        let year = Int((b0 & 0xE0) >> 5 | (b1 & 0xF0) >> 1)
        return civil(year: year, month: Int(b1 & 0x0F), day: Int(b0 & 0x1F), hour: 0, minute: 0, second: 0)
    }

    /// Type F (date and time to the minute, 4 bytes). The invalid flag (byte 0 bit 7), a sentinel or impossible
    /// fields give `.date(nil)`.
    ///
    /// Byte 1 bits 6–5 are the hundred-year field HY. EN 13757-3 counts 1900 + 100·HY + year; the OMS example
    /// (`32 37 1F 15` = 2008-05-31 23:50) sends HY = 1, while rtl_433 and wmbusmeters ignore HY and add 2000, which
    /// meters with HY = 0 rely on. Both give 20yy, so HY 0 and 1 mean 2000 + year; HY 2 and 3 (22nd century) give
    /// `.invalid`.
    static func dateF(_ bytes: InlineArray<256, UInt8>, _ at: Int) -> MBusValue {
        let b0 = bytes[at]
        let b1 = bytes[at + 1]
        let b2 = bytes[at + 2]
        let b3 = bytes[at + 3]
        if b0 & 0x80 != 0 { return .date(nil) }
        if (b1 >> 5) & 0x03 >= 2 { return .invalid }
        let year = Int((b2 & 0xE0) >> 5 | (b3 & 0xF0) >> 1)
        return .date(
            civil(
                year: year,
                month: Int(b3 & 0x0F),
                day: Int(b2 & 0x1F),
                hour: Int(b1 & 0x1F),
                minute: Int(b0 & 0x3F),
                second: 0
            )
        )
    }

    /// Type I (date and time to the second, 6 bytes). The invalid flag (byte 1 bit 7), a sentinel or impossible
    /// fields give `nil`.
    static func dateI(_ bytes: InlineArray<256, UInt8>, _ at: Int) -> CivilTime? {
        let b1 = bytes[at + 1]
        if b1 & 0x80 != 0 { return nil }
        let b3 = bytes[at + 3]
        let b4 = bytes[at + 4]
        let year = Int((b3 & 0xE0) >> 5 | (b4 & 0xF0) >> 1)
        return civil(
            year: year,
            month: Int(b4 & 0x0F),
            day: Int(b3 & 0x1F),
            hour: Int(bytes[at + 2] & 0x1F),
            minute: Int(b1 & 0x3F),
            second: Int(bytes[at] & 0x3F)
        )
    }

    /// A date in 2000–2099 from a 7-bit year, or `nil` for a year above 99 (the `2127` all-ones sentinel) or
    /// impossible fields (day or month 0, the all-zero sentinel).
    static func civil(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> CivilTime? {
        guard year <= 99 else { return nil }
        let time = CivilTime(year: 2000 + year, month: month, day: day, hour: hour, minute: minute, second: second)
        return time.isValid ? time : nil
    }
}
