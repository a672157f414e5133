// Where the decoder hands manufacturer-specific application data to a driver (MBusDriver.swift).

extension MBusDecoder {
    /// Decodes the content after a manufacturer CI field (`A0`–`B7`) with its driver.
    ///
    /// - Throws: `unsupported_frame` when no driver is selected for the meter (today's refusal, now naming why) or
    ///   the selected driver is not in `drivers`; the driver's own error when its payload is malformed.
    static func decodeManufacturerContent(
        _ frame: inout MBusFrame,
        from start: Int,
        protectedEnd: Int,
        drivers: MBusDriverSet
    ) throws(FrameDecodingError) {
        guard let driver = MBusDriverID.select(for: frame.meter, at: .manufacturerCI(frame.transport.ci)) else {
            throw FrameDecodingError(
                .unsupportedFrame,
                "CI: manufacturer-specific content and no driver for this manufacturer, version and device type"
            )
        }
        guard drivers.contains(driver) else {
            throw FrameDecodingError(
                .unsupportedFrame,
                "CI: manufacturer-specific content; its driver is not enabled (meters.mbus_drivers)"
            )
        }
        frame.recordCount = 0
        try runDriver(driver, on: &frame, payload: start..<frame.byteCount, protectedEnd: protectedEnd)
        frame.driver = driver
    }

    /// Decodes the manufacturer data after a `0F`/`1F` DIF with its driver, when one is selected and enabled; else
    /// the data stays raw (``MBusFrame/manufacturerDataRange``), as without drivers.
    ///
    /// - Throws: The driver's error when its payload is malformed.
    static func decodeManufacturerData(
        _ frame: inout MBusFrame,
        protectedEnd: Int,
        drivers: MBusDriverSet
    ) throws(FrameDecodingError) {
        guard let range = frame.manufacturerDataRange,
            let driver = MBusDriverID.select(for: frame.meter, at: .manufacturerData), drivers.contains(driver)
        else { return }
        try runDriver(driver, on: &frame, payload: range, protectedEnd: protectedEnd)
        frame.driver = driver
    }

    /// Runs one driver's decode function: the static dispatch of the driver table.
    static func runDriver(
        _ id: MBusDriverID,
        on frame: inout MBusFrame,
        payload: Range<Int>,
        protectedEnd: Int
    ) throws(FrameDecodingError) {
        switch id {
        case .apator08:
            try ApatorOverlayDriver.decode(&frame, payload: payload, protectedEnd: protectedEnd)
        }
    }
}

extension MBusFrame {
    /// Appends a record a driver produced after the records already kept.
    ///
    /// - Throws: `bad_frame` when the frame already keeps ``maximumRecordCount`` records (a driver never drops a
    ///   value silently).
    mutating func appendDriverRecord(_ record: MBusRecord) throws(FrameDecodingError) {
        guard recordCount >= 0, recordCount < Self.maximumRecordCount else {
            throw FrameDecodingError(.badFrame, "driver: no room for its records after the standard records")
        }
        records[recordCount] = record
        recordCount += 1
    }
}

extension MBusRecord {
    /// A storage-0 instantaneous volume in millilitres (exponent −6 m³) that a driver read from `dataRange`; the
    /// synthetic DIF `04` / VIF `10` say what a standard record of that value would carry, and ``headerRange`` is
    /// empty because no DIF/VIF was on the wire.
    static func driverVolume(
        millilitres: Int64,
        dataRange: Range<Int>,
        basis: MBusVolumeBasis,
        isProtected: Bool
    ) -> MBusRecord {
        MBusRecord(
            dif: 0x04,
            function: .instantaneous,
            storage: 0,
            tariff: 0,
            subunit: 0,
            vifTable: .primary,
            vifCode: 0x10,
            quantity: .volume,
            unit: .cubicMetre,
            exponent: -6,
            basis: basis,
            accumulation: .standard,
            modifier: nil,
            value: .integer(millilitres),
            headerRange: dataRange.lowerBound..<dataRange.lowerBound,
            dataRange: dataRange,
            plainTextUnitRange: nil,
            isProtected: isProtected
        )
    }
}
