extension MBusFrame {
    /// The `statusBits` flag the gateway sets on a reading whose frame had no valid meter clock (bit 40, above the
    /// STS byte and the 32 error-flag bits), so `read_at` is the receive time (or the storage date).
    public static let clockInvalidStatusBit: Int64 = 1 << 40
    /// The `statusBits` flag on every reading a driver of ``MBusDriverCertainty/inferred`` certainty read (bit 41):
    /// its scale comes from public test data, not from the manufacturer, so the value must be checked against the
    /// meter's display before it is billed.
    public static let inferredScaleStatusBit: Int64 = 1 << 41
    /// The `statusBits` flag on a reading whose meter time fell in the hour the clock zone repeats when it moves its
    /// clocks back (bit 42): the occurrence nearer the receive time was taken (``MeterClock/frameInstant(of:receivedAt:)``).
    public static let clockRepeatedStatusBit: Int64 = 1 << 42

    /// Appends the rows of a meter → gateway frame.
    ///
    /// * Readings: every instantaneous integer volume record in m³ with an ordinary (not forward/backward-only)
    ///   register, subunit 0 and no unapplied VIFE, one row per (storage, tariff, basis), the first record winning: storage 0 is a
    ///   ``ReadingKind/periodic`` reading at the meter time, storage n ≥ 1 a ``ReadingKind/historic`` one at the date
    ///   record of the same storage (else at the meter time). Vm and Vb stay apart in ``ReadingRecord/basis``.
    ///   The storage-0 rows of the main basis get the storage-0 flow (m³/h) and external or flow temperature.
    /// * Status bits: the STS byte, the storage-0 `FD 17` error flags (low 32 bits) shifted up 8,
    ///   ``clockInvalidStatusBit`` (no valid meter time, or one the clock zone skipped), ``clockRepeatedStatusBit``
    ///   (a meter time in a repeated hour), and ``inferredScaleStatusBit`` when an inferred driver read the values.
    /// * Times: storage-0 rows at the meter time on `clock`, or the receive time when it is unusable; a storage date
    ///   in a repeated hour is its earlier occurrence, one the zone skipped is not used (the meter time stands in).
    /// * Alarms: the TPL status (`application_error`, `alarm`, `power_low`, `permanent_error`, `temporary_error`),
    ///   non-zero storage-0 `FD 17` error flags, and alarm or application-error telegrams; see
    ///   `firmware-protocols/wmbus-oms.md` for the raw codes.
    /// * Protection, per row: a reading and the `FD 17` alarm carry their record's level
    ///   (``MBusSecurity/contentProtection`` inside the protected part, `plain` outside it); the status and telegram
    ///   alarms carry ``MBusSecurity/headerProtection`` (`plain` under mode 5, whose status byte is not encrypted).
    ///   Records below `minimum` are skipped; the status and telegram alarms never are, whatever their level (a real
    ///   leak must not be suppressed): they are stored with their level and open their ticket marked
    ///   unauthenticated.
    ///
    /// Allocation-free.
    ///
    /// - Parameters:
    ///   - batch: The batch to fill.
    ///   - meterID: The registry id of the meter.
    ///   - receivedAt: When the gateway received the frame.
    ///   - clock: The zone the meter's clock runs in.
    ///   - policy: Decides alarm priorities.
    ///   - source: ``FrameProtocol/wmbus`` or ``FrameProtocol/mbus``.
    ///   - minimum: Use only records protected at least this well: the meter's minimum, so that bytes anyone could
    ///     append to a secured telegram are never stored for a meter that requires protection.
    /// - Returns: The number of readings and alarms appended; 0 when the frame has nothing storable.
    @discardableResult
    public func appendRecords(
        to batch: inout SinkBatch,
        meterID: Int64,
        receivedAt: Timestamp,
        clock: MeterClock,
        policy: TicketPolicy,
        source: FrameProtocol,
        minimum: ProtectionLevel
    ) -> Int {
        guard direction == .fromMeter else { return 0 }
        let frameClock = clock.frameInstant(of: meterTime, receivedAt: receivedAt)
        let frameTime = frameClock.instant
        var frameBits: Int64 =
            (frameClock.isClockInvalid ? Self.clockInvalidStatusBit : 0)
            | (frameClock.isRepeated ? Self.clockRepeatedStatusBit : 0)
        if let driver, driver.certainty != .documented {
            frameBits |= Self.inferredScaleStatusBit
        }
        let count = min(max(recordCount, 0), Self.maximumRecordCount)
        var flags: UInt64 = 0
        var flagsProtection = ProtectionLevel.plain
        var flagsKeySource: KeySource?
        for index in 0..<count {
            let record = records[index]
            if record.quantity == .errorFlags, record.storage == 0, record.modifier == nil,
                protection(of: record) >= minimum, case .bits(let bits) = record.value
            {
                flags = bits
                flagsProtection = protection(of: record)
                flagsKeySource = record.isProtected ? security.keySource : nil
                break
            }
        }
        let statusBits = Int64(status?.rawValue ?? 0) | Int64(flags & 0xFFFF_FFFF) << 8 | frameBits
        var flow: Int64?
        var temperature: Int32?
        var mainBasis: MBusVolumeBasis?
        for index in 0..<count {
            let record = records[index]
            guard record.storage == 0, record.tariff == 0, record.subunit == 0, record.isPlainMeasurement,
                protection(of: record) >= minimum, case .integer(let raw) = record.value
            else { continue }
            switch (record.quantity, record.unit) {
            case (.flow, .cubicMetrePerHour) where flow == nil:
                flow = DecimalScale.scaled(raw, by: Int(record.exponent) + 6)
            case (.externalTemperature, .degreeCelsius), (.flowTemperature, .degreeCelsius):
                if temperature == nil, let centi = DecimalScale.scaled(raw, by: Int(record.exponent) + 2) {
                    temperature = Int32(exactly: centi)
                }
            case (.volume, _) where mainBasis == nil && isStorableVolume(record, minimum: minimum):
                mainBasis = record.basis
            default:
                break
            }
        }
        var appended = 0
        for index in 0..<count {
            let record = records[index]
            guard isStorableVolume(record, minimum: minimum), let millilitres = record.millilitres,
                let storage = Int16(exactly: record.storage), let tariff = Int16(exactly: record.tariff),
                !hasEarlierVolume(like: record, before: index, minimum: minimum)
            else { continue }
            let isCurrent = storage == 0
            let isMain = isCurrent && tariff == 0 && record.basis == mainBasis
            batch.readings.append(
                ReadingRecord(
                    meterID: meterID,
                    readAt: isCurrent ? frameTime : storageDate(record.storage, clock: clock) ?? frameTime,
                    receivedAt: receivedAt,
                    kind: isCurrent ? .periodic : .historic,
                    volumeMillilitres: millilitres,
                    registerModulusMillilitres: Self.registerModulus(of: record),
                    flowMillilitresPerHour: isMain ? flow : nil,
                    valve: .unknown,
                    batteryMillivolts: nil,
                    temperatureCentiCelsius: isMain ? temperature : nil,
                    signalDBm: nil,
                    statusBits: isCurrent ? statusBits : frameBits,
                    frameCounter: nil,
                    source: source,
                    basis: VolumeBasis(record.basis),
                    storage: storage,
                    tariff: tariff,
                    protection: protection(of: record),
                    keySource: record.isProtected ? security.keySource : nil
                )
            )
            appended += 1
        }
        func alarm(
            _ condition: AlarmCondition,
            rawCode: Int32,
            detail: Int64,
            protection: ProtectionLevel,
            keySource: KeySource?
        ) {
            batch.alarms.append(
                AlarmRecord(
                    meterID: meterID,
                    raisedAt: frameTime,
                    receivedAt: receivedAt,
                    source: source,
                    rawCode: rawCode,
                    condition: condition,
                    isCleared: false,
                    priority: policy.priority(for: condition, valve: .unknown),
                    valve: .unknown,
                    detail: detail,
                    frameCounter: nil,
                    protection: protection,
                    keySource: keySource
                )
            )
            appended += 1
        }
        let header = security.headerProtection
        // The TPL header is covered by a key only under a verified mode-7 MAC or inside an ELL decrypted with a key
        // of the frame's meter.
        let headerKeySource = security.isMACVerified || security.isELLCountedForMeter ? security.keySource : nil
        func headerAlarm(_ condition: AlarmCondition, rawCode: Int32, detail: Int64) {
            alarm(condition, rawCode: rawCode, detail: detail, protection: header, keySource: headerKeySource)
        }
        if let status {
            let detail = Int64(status.rawValue)
            switch status.application {
            case .applicationError:
                headerAlarm(.meterFault, rawCode: Self.AlarmCode.applicationError, detail: detail)
            case .alarm: headerAlarm(.unrecognised, rawCode: Self.AlarmCode.alarm, detail: detail)
            default: break
            }
            if status.isPowerLow {
                headerAlarm(.batteryLow, rawCode: Self.AlarmCode.powerLow, detail: detail)
            }
            if status.isPermanentError {
                headerAlarm(.meterFault, rawCode: Self.AlarmCode.permanentError, detail: detail)
            }
            if status.isTemporaryError {
                headerAlarm(.meterFault, rawCode: Self.AlarmCode.temporaryError, detail: detail)
            }
        }
        if flags != 0 {
            alarm(
                .unrecognised,
                rawCode: Self.AlarmCode.errorFlags,
                detail: Int64(bitPattern: flags),
                protection: flagsProtection,
                keySource: flagsKeySource
            )
        }
        if kind != .data {
            alarm(
                .unrecognised,
                rawCode: Self.AlarmCode.telegramBase | Int32(transport.ci),
                detail: 0,
                protection: header,
                keySource: headerKeySource
            )
        }
        return appended
    }

    /// The raw codes of M-Bus alarms (``AlarmRecord/rawCode``): the STS bit values, `0x1700` for `FD 17` error
    /// flags, `0x10000 + CI` for alarm and application-error telegrams.
    public enum AlarmCode {
        /// STS bits 1–0 = `10`.
        public static let applicationError: Int32 = 0x02
        /// STS bits 1–0 = `11`.
        public static let alarm: Int32 = 0x03
        /// STS bit 2.
        public static let powerLow: Int32 = 0x04
        /// STS bit 3.
        public static let permanentError: Int32 = 0x08
        /// STS bit 4.
        public static let temporaryError: Int32 = 0x10
        /// Non-zero `FD 17` error flags (the flags are the alarm's detail).
        public static let errorFlags: Int32 = 0x1700
        /// Added to the CI of an alarm (`71`, `74`, `75`) or application-error (`70`, `6E`, `6F`) telegram.
        public static let telegramBase: Int32 = 0x10000
    }

    /// A record's protection: the frame's content protection inside the protected part, `plain` outside it.
    public func protection(of record: MBusRecord) -> ProtectionLevel {
        record.isProtected ? security.contentProtection : .plain
    }

    private func isStorableVolume(_ record: MBusRecord, minimum: ProtectionLevel) -> Bool {
        record.quantity == .volume && record.unit == .cubicMetre && record.function == .instantaneous
            && record.accumulation == .standard && record.subunit == 0 && record.isPlainMeasurement
            && protection(of: record) >= minimum
    }

    /// Whether a record before `index` already gave the row of this (storage, tariff, basis): the first wins, so a
    /// frame never conflicts with itself.
    private func hasEarlierVolume(like record: MBusRecord, before index: Int, minimum: ProtectionLevel) -> Bool {
        for earlier in 0..<index {
            let other = records[earlier]
            if other.storage == record.storage, other.tariff == record.tariff, other.basis == record.basis,
                other.millilitres != nil, isStorableVolume(other, minimum: minimum)
            {
                return true
            }
        }
        return false
    }

    /// The date of the first date or date-time record of `storage` (tariff 0, subunit 0), as an instant.
    private func storageDate(_ storage: UInt64, clock: MeterClock) -> Timestamp? {
        for index in 0..<min(max(recordCount, 0), Self.maximumRecordCount) {
            let record = records[index]
            guard record.storage == storage, record.tariff == 0, record.subunit == 0,
                record.quantity == .date || record.quantity == .dateTime, let date = record.date, date.isValid
            else { continue }
            return clock.instant(of: date)
        }
        return nil
    }

    /// The wrap-around value of a BCD register in millilitres (10^digits counts), or 0 when unknown (binary
    /// registers, whose wrap the standard does not fix, and values that do not fit).
    static func registerModulus(of record: MBusRecord) -> Int64 {
        let digits: Int
        switch record.dataField {
        case 0x9: digits = 2
        case 0xA: digits = 4
        case 0xB: digits = 6
        case 0xC: digits = 8
        case 0xE: digits = 12
        default: return 0
        }
        return DecimalScale.scaled(1, by: digits + Int(record.exponent) + 6) ?? 0
    }
}

extension VolumeBasis {
    /// The row's basis for an M-Bus record's basis.
    public init(_ basis: MBusVolumeBasis) {
        switch basis {
        case .unspecified: self = .unspecified
        case .uncorrected: self = .uncorrected
        case .converted: self = .converted
        }
    }
}
