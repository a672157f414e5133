extension CJT188Frame {
    /// The `statusBits` flag the gateway sets on a reading whose frame had no valid meter clock (bit 16, above the
    /// 16-bit status word), so `read_at` is the receive time.
    public static let clockInvalidStatusBit: Int64 = 1 << 16
    /// The `statusBits` flag on a reading whose meter time fell in the hour the clock zone repeats when it moves its
    /// clocks back (bit 17): the occurrence nearer the receive time was taken (``MeterClock/frameInstant(of:receivedAt:)``).
    public static let clockRepeatedStatusBit: Int64 = 1 << 17

    /// Appends the rows of an uplink (meter → master) frame: readings for the current volume (storage 0) and the
    /// settlement-day volume (``ReadingKind/historic``, storage 1…12), and one alarm per status bit the default
    /// profile maps to a condition (``CJT188Status/alarmBits``).
    ///
    /// Times: the meter's clock on `clock`, or the receive time when the frame has no valid clock or one the zone
    /// skipped (then the readings carry ``clockInvalidStatusBit``); a time in a repeated hour carries
    /// ``clockRepeatedStatusBit``. Every row is ``ProtectionLevel/plain``: CJ/T 188 has no security, only a
    /// checksum. Allocation-free.
    ///
    /// - Parameters:
    ///   - batch: The batch to fill.
    ///   - meterID: The registry id of the meter.
    ///   - receivedAt: When the gateway received the frame.
    ///   - clock: The zone the meter's clock runs in.
    ///   - policy: Decides alarm priorities.
    /// - Returns: The number of readings and alarms appended; 0 for a frame without reading content (requests,
    ///   valve or address replies, abnormal replies, unknown data identifiers, frames to the meter).
    @discardableResult
    public func appendRecords(
        to batch: inout SinkBatch,
        meterID: Int64,
        receivedAt: Timestamp,
        clock: MeterClock,
        policy: TicketPolicy
    ) -> Int {
        guard isFromMeter, !control.isAbnormal else { return 0 }
        let frameTime = clock.frameInstant(of: meterTime, receivedAt: receivedAt)
        let readAt = frameTime.instant
        let clockBit: Int64 =
            (frameTime.isClockInvalid ? Self.clockInvalidStatusBit : 0)
            | (frameTime.isRepeated ? Self.clockRepeatedStatusBit : 0)
        let statusBits = Int64(status?.rawValue ?? 0) | clockBit
        let valve = valve ?? .unknown
        var appended = 0
        func append(_ volume: VolumeReading?) {
            guard let volume, let millilitres = volume.quantity.millilitres else { return }
            let isCurrent = volume.storage == 0
            batch.readings.append(
                ReadingRecord(
                    meterID: meterID,
                    readAt: readAt,
                    receivedAt: receivedAt,
                    kind: isCurrent ? .periodic : .historic,
                    volumeMillilitres: millilitres,
                    registerModulusMillilitres: Self.registerModulus(of: volume.quantity),
                    flowMillilitresPerHour: nil,
                    valve: isCurrent ? valve : .unknown,
                    batteryMillivolts: nil,
                    temperatureCentiCelsius: nil,
                    signalDBm: nil,
                    statusBits: isCurrent ? statusBits : clockBit,
                    frameCounter: nil,
                    source: .cjt188,
                    storage: Int16(volume.storage),
                    protection: .plain
                )
            )
            appended += 1
        }
        append(currentVolume)
        append(settlementVolume)
        guard appended > 0, let status else { return appended }
        for (bit, condition) in CJT188Status.alarmBits where status.rawValue & (1 << UInt16(bit)) != 0 {
            batch.alarms.append(
                AlarmRecord(
                    meterID: meterID,
                    raisedAt: readAt,
                    receivedAt: receivedAt,
                    source: .cjt188,
                    rawCode: Int32(bit),
                    condition: condition,
                    isCleared: false,
                    priority: policy.priority(for: condition, valve: valve),
                    valve: valve,
                    detail: Int64(status.rawValue),
                    frameCounter: nil,
                    protection: .plain
                )
            )
            appended += 1
        }
        return appended
    }

    /// The register's wrap-around value in millilitres: 10⁸ counts (8 BCD digits) of the quantity's resolution.
    static func registerModulus(of quantity: CJT188Quantity) -> Int64 {
        var one = quantity
        one.raw = 1
        guard let step = one.millilitres else { return 0 }
        return DecimalScale.scaled(step, by: 8) ?? 0
    }
}
