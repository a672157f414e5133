extension NativeFrame {
    /// Appends the rows this frame produces to a sink batch.
    ///
    /// Every uplink gives one ``UplinkFrameRecord`` (the dedupe log keyed by meter and frame counter), plus:
    /// - reading: one ``ReadingRecord`` of kind ``ReadingKind/periodic``;
    /// - daily report: one ``IntervalRecord`` per point and one ``ReadingKind/dailyFrozen`` reading per frozen
    ///   total;
    /// - alarm: one ``AlarmRecord`` (condition mapped from the code, priority from `policy`) and one
    ///   ``ReadingKind/alarmSnapshot`` reading;
    /// - command result: the frame record only.
    ///
    /// Every row is ``ProtectionLevel/authenticated``: the decoder returns a frame only after its CMAC verified with
    /// the meter's key, and the CMAC covers the whole frame.
    ///
    /// Downlinks produce nothing. When the header's meter time is 0 (clock not set), `receivedAt` is used as the
    /// read, event and frame time, and status bit 5 (clock invalid) is set on the readings. Volumes are exact
    /// integer millilitres. Nothing here allocates except growth of the batch's arrays.
    ///
    /// - Parameters:
    ///   - batch: The batch to append to.
    ///   - meterID: The meter's database id.
    ///   - receivedAt: When the gateway received the frame.
    ///   - policy: Decides each alarm's ticket priority.
    public func appendRecords(to batch: inout SinkBatch, meterID: Int64, receivedAt: Timestamp, policy: TicketPolicy) {
        guard isUplink else { return }
        let isClockSet = header.isClockSet
        let meterTime = isClockSet ? Timestamp(secondsSinceEpoch: Int64(header.meterTime)) : receivedAt
        let clockBit: Int64 = isClockSet ? 0 : Int64(NativeStatus.clockInvalid.rawValue)
        let frameCounter = Int64(header.frameCounter)
        batch.frames.append(
            UplinkFrameRecord(
                meterID: meterID,
                frameCounter: frameCounter,
                frameType: Int16(header.frameType),
                meterTime: meterTime,
                receivedAt: receivedAt
            )
        )
        switch body {
        case .reading(let reading):
            batch.readings.append(
                ReadingRecord(
                    meterID: meterID,
                    readAt: meterTime,
                    receivedAt: receivedAt,
                    kind: .periodic,
                    volumeMillilitres: reading.register.millilitres,
                    registerModulusMillilitres: reading.register.modulusMillilitres,
                    flowMillilitresPerHour: reading.flowMillilitresPerHour.map { Int64($0) },
                    valve: reading.valve,
                    batteryMillivolts: reading.batteryMillivolts.map { Int32($0) },
                    temperatureCentiCelsius: reading.temperatureCentiCelsius.map { Int32($0) },
                    signalDBm: reading.signalDBm,
                    statusBits: Int64(reading.status.rawValue) | clockBit,
                    frameCounter: frameCounter,
                    source: .native,
                    protection: .authenticated
                )
            )
        case .dailyReport(let report):
            report.appendRecords(
                to: &batch,
                meterID: meterID,
                receivedAt: receivedAt,
                frameCounter: frameCounter
            )
        case .alarm(let alarm):
            let condition = alarm.condition
            batch.alarms.append(
                AlarmRecord(
                    meterID: meterID,
                    raisedAt: meterTime,
                    receivedAt: receivedAt,
                    source: .native,
                    rawCode: Int32(alarm.code),
                    condition: condition,
                    isCleared: !alarm.isRaised,
                    priority: policy.priority(for: condition, valve: alarm.valve),
                    valve: alarm.valve,
                    detail: Int64(alarm.detail),
                    frameCounter: frameCounter,
                    protection: .authenticated
                )
            )
            batch.readings.append(
                ReadingRecord(
                    meterID: meterID,
                    readAt: meterTime,
                    receivedAt: receivedAt,
                    kind: .alarmSnapshot,
                    volumeMillilitres: alarm.register.millilitres,
                    registerModulusMillilitres: alarm.register.modulusMillilitres,
                    flowMillilitresPerHour: alarm.flowMillilitresPerHour.map { Int64($0) },
                    valve: alarm.valve,
                    batteryMillivolts: nil,
                    temperatureCentiCelsius: nil,
                    signalDBm: nil,
                    statusBits: clockBit,
                    frameCounter: frameCounter,
                    source: .native,
                    protection: .authenticated
                )
            )
        case .commandResult(let result):
            batch.commandResults.append(
                CommandResultRecord(
                    meterID: meterID,
                    commandFrameCounter: Int64(result.commandFrameCounter),
                    outcome: result.outcome.name,
                    valve: result.valve,
                    receivedAt: receivedAt
                )
            )
        case .ack, .valveCommand, .parameterUpdate:
            break
        }
    }
}

extension NativeFrame.DailyReport {
    /// Appends one interval row per point and one frozen-total reading per frozen total.
    fileprivate func appendRecords(
        to batch: inout SinkBatch,
        meterID: Int64,
        receivedAt: Timestamp,
        frameCounter: Int64
    ) {
        let register = startRegister
        let modulus = register.rawModulus
        let scale = register.millilitresPerCount
        let intervalSeconds = Int64(intervalMinutes) * 60
        let start = Int64(intervalStart)
        // Raw counts stay below 10^16 and 48 points add less than 2^38, so the sums cannot overflow.
        var index = modulus == 0 ? 0 : register.raw % modulus
        for point in 0..<min(max(pointCount, 0), Self.maximumPointCount) {
            let consumption = UInt64(points[point])
            index &+= consumption
            if modulus != 0 { index %= modulus }
            batch.intervals.append(
                IntervalRecord(
                    meterID: meterID,
                    intervalStart: Timestamp(secondsSinceEpoch: start &+ Int64(point) &* intervalSeconds),
                    intervalMinutes: Int16(intervalMinutes),
                    volumeMillilitres: Int64(truncatingIfNeeded: consumption) &* scale,
                    endIndexMillilitres: Int64(truncatingIfNeeded: index) &* scale,
                    receivedAt: receivedAt,
                    protection: .authenticated
                )
            )
        }
        for entry in 0..<min(max(frozenCount, 0), Self.maximumFrozenCount) {
            let total = frozenTotals[entry]
            let frozen = NativeFrame.Register(raw: total.raw, exponent: register.exponent, digits: register.digits)
            batch.readings.append(
                ReadingRecord(
                    meterID: meterID,
                    readAt: Timestamp(secondsSinceEpoch: Int64(total.time)),
                    receivedAt: receivedAt,
                    kind: .dailyFrozen,
                    volumeMillilitres: frozen.millilitres,
                    registerModulusMillilitres: frozen.modulusMillilitres,
                    flowMillilitresPerHour: nil,
                    valve: .unknown,
                    batteryMillivolts: nil,
                    temperatureCentiCelsius: nil,
                    signalDBm: nil,
                    statusBits: 0,
                    frameCounter: frameCounter,
                    source: .native,
                    protection: .authenticated
                )
            )
        }
    }
}
