import GatewayCore

// Wireless (selector 0x02) and wired (0x03) M-Bus. Every input is decoded with the fixed test key, without a key
// (live pipeline: already-decrypted frames refused), without a key with already-decrypted frames allowed (decode
// tool), as explicit format B (wireless only), and through peekHeader. Invariants (a failure is a crash):
// - a decoded frame builds its JSON document, keeps at most 32 records whose byte ranges lie inside its plaintext,
//   and has a meter time only when it is a valid date;
// - without a key (not allowed): success means nothing was encrypted, and the keyed decode gives the same document;
//   a failure other than unknown_meter is the keyed decode's failure too (checks before the key lookup do not
//   depend on the key);
// - with already-decrypted frames allowed and no key: success is either unencrypted or marked already_decrypted;
// - a keyed success that decrypted something has protected records only inside what was decrypted or MAC-covered;
// - peekHeader reads a header for every frame that decodes, and for every unsupported_security_mode rejection;
// - compact frames (CI 79/7B/73) are decoded against a fixed set of known layouts (any meter): a decoded compact
//   frame carries its signature and CRC and the reassembled records; a decoded full frame's layout has the frame's
//   signature and matches the frame.
// - with the test key as the second of two manufacturer default keys: a success that decrypted something records
//   key source `default` and stores nothing above `plain` (a published key protects nothing), and a frame with
//   nothing encrypted decodes as it does with the meter's key.
// - an ELL opened with the key of another identity than the frame's meter (DLL or ELL address other than the long
//   header's) protects nothing: without TPL decryption the frame is `plain` with no key source.
// - trailing bytes (a recognised final-block CRC) are the last two plaintext bytes, after every record, never with
//   a verified MAC or a decrypted ELL, and the frame without them decodes to the same records.
// Every wireless frame without CRCs is also checked with its final format-A block CRC appended (L + 2), so the
// tolerant path is reached from every seed.
// Every path runs all drivers (MBus/Drivers/; seeds in corpus/wmbus-drivers/), so the fuzzer reaches them; a driver
// frame's records obey the same invariants. One more keyed decode runs only the documented drivers: it may fail
// only where a driver that is not enabled would have run (unsupported_frame), and otherwise agrees exactly.

/// The fixed test key; the constructed encrypted vectors of firmware-protocols/wmbus-vectors.json use it.
private let mbusTestKey = AES128Key(hex: "000102030405060708090A0B0C0D0E0F")

/// The layouts the compact-frame vectors of firmware-protocols/wmbus-vectors.json name (OMS gas records, the GWF
/// records with an LVAR, the public Kamstrup frame), found by signature for any meter.
private let mbusFuzzLayouts: [MBusRecordLayout] = [
    "0C14046D02FD17", "0C943A0DFD1102FD17046D",
    "02F9FF15040604EEFF0704EEFF08041402FD17026C426C44064414043B0259025D",
].compactMap { Hex.decode($0).flatMap { MBusRecordLayout(bytes: $0) } }

/// A wrong key, then the test key, as a manufacturer's default keys.
private let mbusDefaultKeys: MBusKeyring = {
    let keys = [AES128Key(hex: "FFEEDDCCBBAA99887766554433221100"), mbusTestKey].compactMap { $0 }
    return MBusKeyring(defaultKeys: keys) ?? .empty
}()

/// Runs every wireless or wired M-Bus decode path over one input.
func fuzzMBus(_ input: UnsafeRawBufferPointer, isWired: Bool, reseal: Bool) {
    guard reseal else {
        checkMBus(input, isWired: isWired)
        return
    }
    var copy = Array(input)
    resealMBus(&copy, isWired: isWired)
    copy.withUnsafeBytes { checkMBus($0, isWired: isWired) }
}

/// Recomputes the wired checksum, or the format-A block CRCs of a wireless frame whose length is not L + 1, as far
/// as the blocks fit, so mutations reach the CI, security and record checks.
private func resealMBus(_ frame: inout [UInt8], isWired: Bool) {
    guard !frame.isEmpty else { return }
    if isWired {
        guard frame[0] == 0x68, frame.count >= 6 else { return }
        let length = Int(frame[1])
        guard frame.count >= length + 6 else { return }
        var sum: UInt8 = 0
        for index in 4..<(4 + length) {
            sum &+= frame[index]
        }
        frame[4 + length] = sum
        return
    }
    let length = Int(frame[0])
    guard frame.count != length + 1, length >= 10 else { return }
    func seal(_ lower: Int, _ upper: Int) {
        guard upper + 2 <= frame.count else { return }
        let crc = frame.withUnsafeBytes { CRC16.en13757.checksum(UnsafeRawBufferPointer(rebasing: $0[lower..<upper])) }
        frame[upper] = UInt8(truncatingIfNeeded: crc >> 8)
        frame[upper + 1] = UInt8(truncatingIfNeeded: crc)
    }
    seal(0, 10)
    var offset = 12
    var remaining = length - 9
    while remaining > 0 {
        let size = min(16, remaining)
        seal(offset, offset + size)
        offset += size + 2
        remaining -= size
    }
}

private enum MBusKeyMode {
    case testKey
    case noKey
    case noKeyAllowingDecrypted
    case defaultKeys
}

private func decodeMBus(
    _ bytes: UnsafeRawBufferPointer,
    isWired: Bool,
    mode: MBusKeyMode,
    format: MBusFrameFormat? = nil,
    drivers: MBusDriverSet = .all
) -> Result<MBusFrame, FrameDecodingError> {
    let keyring: MBusKeyring
    switch mode {
    case .testKey: keyring = MBusKeyring(meterKey: mbusTestKey)
    case .noKey, .noKeyAllowingDecrypted: keyring = .empty
    case .defaultKeys: keyring = mbusDefaultKeys
    }
    let allow = mode == .noKeyAllowingDecrypted || mode == .testKey
    return Result { () throws(FrameDecodingError) -> MBusFrame in
        if isWired {
            return try MBusDecoder.decodeWired(
                bytes,
                keyring: { _ in keyring },
                allowAlreadyDecrypted: allow,
                layout: { _, signature in mbusFuzzLayouts.first { $0.signature == signature } },
                drivers: drivers
            )
        }
        return try MBusDecoder.decodeWireless(
            bytes,
            keyring: { _ in keyring },
            allowAlreadyDecrypted: allow,
            frameFormat: format,
            layout: { _, signature in mbusFuzzLayouts.first { $0.signature == signature } },
            drivers: drivers
        )
    }
}

private func checkMBus(_ bytes: UnsafeRawBufferPointer, isWired: Bool) {
    checkMBusOnce(bytes, isWired: isWired)
    guard !isWired, bytes.count >= 13, Int(bytes[0]) == bytes.count - 1, bytes.count + 2 <= 256 else { return }
    var longer = Array(bytes)
    let dataCount = longer.count - 10
    let blockStart = 10 + (dataCount - 1) / 16 * 16
    let crc = CRC16.en13757.checksum(UnsafeRawBufferPointer(rebasing: bytes[blockStart...]))
    longer.append(UInt8(truncatingIfNeeded: crc >> 8))
    longer.append(UInt8(truncatingIfNeeded: crc))
    longer[0] &+= 2
    longer.withUnsafeBytes { checkMBusOnce($0, isWired: false) }
}

private func checkMBusOnce(_ bytes: UnsafeRawBufferPointer, isWired: Bool) {
    let header = MBusDecoder.peekHeader(bytes, isWired: isWired)
    if let header { _ = header.summary }

    let keyed = decodeMBus(bytes, isWired: isWired, mode: .testKey)
    let unkeyed = decodeMBus(bytes, isWired: isWired, mode: .noKey)
    let replay = decodeMBus(bytes, isWired: isWired, mode: .noKeyAllowingDecrypted)

    var keyedDocument: MBusFrameDocument? = nil
    switch keyed {
    case .success(let frame):
        keyedDocument = exercise(frame, medium: isWired ? .wired : .wireless)
        precondition(!frame.security.isAlreadyDecrypted, "already-decrypted accepted while a key is configured")
        precondition(header != nil, "a frame decodes but its header cannot be read")
        if frame.trailingBytes != nil { checkWithoutTrailer(bytes, frame) }
    case .failure(let error):
        _ = DecodeErrorDocument(error)
        if error.code == .unsupportedSecurityMode && header == nil {
            preconditionFailure("unsupported_security_mode without a readable header")
        }
    }

    switch unkeyed {
    case .success(let frame):
        let document = exercise(frame, medium: isWired ? .wired : .wireless)
        precondition(frame.security.tpl == .none && frame.security.ell == .none, "decrypted without a key")
        precondition(document == keyedDocument, "an unencrypted frame decodes differently with a key")
    case .failure(let error):
        _ = DecodeErrorDocument(error)
        if error.code != .unknownMeter {
            if case .failure(let keyedError) = keyed {
                precondition(keyedError.code == error.code, "a check before the key lookup depends on the key")
            } else {
                preconditionFailure("fails without a key before any key lookup but decodes with one")
            }
        }
    }

    // Only documented drivers (the live default): the same result, unless a driver that is not enabled ran.
    let driverErrors: [FrameDecodingError.Code] = [.truncated, .badFrame]
    switch (decodeMBus(bytes, isWired: isWired, mode: .testKey, drivers: .documented), keyed) {
    case (.success(let frame), .success(let all)):
        precondition(frame.driver == nil || frame.driver == all.driver, "a different driver ran")
        precondition(all.driver != nil || MBusFrameDocument(frame) == keyedDocument, "documented decode differs")
    case (.failure(let error), .success(let all)):
        precondition(error.code == .unsupportedFrame && all.driver != nil, "fails without the inferred drivers")
    case (.success(let frame), .failure(let error)):
        precondition(
            frame.manufacturerDataRange != nil && driverErrors.contains(error.code),
            "decodes with fewer drivers but not with all, and no driver's data was there"
        )
    case (.failure(let error), .failure(let keyedError)):
        precondition(
            error.code == keyedError.code
                || (error.code == .unsupportedFrame && driverErrors.contains(keyedError.code)),
            "a driver changed an error that comes before it"
        )
    }

    if case .success(let frame) = replay {
        _ = exercise(frame, medium: isWired ? .wired : .wireless)
        precondition(frame.security.tpl != .decrypted && frame.security.ell != .decrypted, "decrypted without a key")
    }

    switch decodeMBus(bytes, isWired: isWired, mode: .defaultKeys) {
    case .success(let frame):
        let document = exercise(frame, medium: isWired ? .wired : .wireless)
        if frame.security.tpl == .decrypted || frame.security.isELLCountedForMeter {
            precondition(frame.security.keySource == .manufacturerDefault, "a default key recorded as the meter's")
            precondition(
                frame.security.contentProtection == .plain && frame.security.headerProtection == .plain,
                "a frame opened with a default key claims protection"
            )
        } else if frame.security.ell == .decrypted {
            // Only an ELL under another identity's default keys: it counts for nothing.
            precondition(frame.security.isELLKeyForeign, "an ELL decrypted but neither counted nor foreign")
            precondition(frame.security.keySource == nil, "a foreign ELL's key recorded for the meter")
            precondition(
                frame.security.contentProtection == .plain && frame.security.headerProtection == .plain,
                "a frame opened with a default key claims protection"
            )
        } else {
            precondition(frame.security.keySource == nil, "a key source without decryption")
            precondition(document == keyedDocument, "an unencrypted frame decodes differently with default keys")
        }
    case .failure(let error):
        _ = DecodeErrorDocument(error)
    }

    if !isWired {
        if case .success(let frame) = decodeMBus(bytes, isWired: false, mode: .testKey, format: .formatB) {
            precondition(frame.link.format == .formatB, "explicit format B decoded as another format")
            _ = exercise(frame, medium: .wireless)
        }
    }
}

/// A frame accepted with a trailing block CRC, re-encoded without it (L − 2), decodes with the test key to the
/// same records and no trailing bytes.
private func checkWithoutTrailer(_ bytes: UnsafeRawBufferPointer, _ frame: MBusFrame) {
    var shorter = Array(bytes.dropLast(2))
    shorter[0] &-= 2
    let result = shorter.withUnsafeBytes { decodeMBus($0, isWired: false, mode: .testKey) }
    guard case .success(let plain) = result else {
        preconditionFailure("a frame accepted with a trailing CRC fails without it")
    }
    precondition(plain.trailingBytes == nil, "trailing bytes without a trailer")
    precondition(plain.recordArray == frame.recordArray, "the trailer changed the records")
}

/// Checks a decoded frame's structural invariants; returns its JSON document.
private func exercise(_ frame: MBusFrame, medium: MBusMedium) -> MBusFrameDocument {
    precondition(frame.medium == medium, "decoded as the other medium")
    precondition(frame.byteCount >= 0 && frame.byteCount <= MBusFrame.byteCapacity, "plaintext size out of range")
    precondition(
        frame.recordCount >= 0 && frame.recordCount <= MBusFrame.maximumRecordCount,
        "record count out of range"
    )
    precondition(frame.droppedRecordCount == 0 || frame.recordCount == MBusFrame.maximumRecordCount, "dropped early")
    precondition(frame.direction != .unknown, "a frame with an unknown C field decoded")
    if let meterTime = frame.meterTime { precondition(meterTime.isValid, "an invalid meter time") }
    if let driver = frame.driver {
        let location: MBusDriverLocation =
            frame.transport.isManufacturerSpecific ? .manufacturerCI(frame.transport.ci) : .manufacturerData
        precondition(MBusDriver.select(for: frame.meter, at: location)?.id == driver, "a driver ran unselected")
        precondition(frame.recordCount > 0, "a driver ran and read nothing")
    } else {
        precondition(!frame.transport.isManufacturerSpecific, "manufacturer-specific content decoded without driver")
    }
    let anyProtected = frame.security.tpl == .decrypted || frame.security.isELLCountedForMeter
    if frame.security.isELLKeyForeign {
        precondition(frame.security.ell == .decrypted, "a foreign ELL key without ELL decryption")
        let ellIdentity = frame.extendedLink?.address ?? frame.link.address
        precondition(ellIdentity != frame.meter, "an ELL of the meter's own address marked foreign")
        if frame.security.tpl != .decrypted {
            precondition(
                frame.security.contentProtection == .plain && frame.security.headerProtection == .plain
                    && frame.security.keySource == nil,
                "a foreign ELL key credited to the meter"
            )
        }
    }
    for record in frame.recordArray {
        precondition(record.headerRange.lowerBound >= 0, "record header before the plaintext")
        precondition(record.headerRange.upperBound <= record.dataRange.lowerBound, "data before its header end")
        precondition(record.dataRange.upperBound <= frame.byteCount, "record data beyond the plaintext")
        if let unit = record.plainTextUnitRange {
            precondition(unit.upperBound <= frame.byteCount, "plain-text unit beyond the plaintext")
        }
        if case .date(let date?) = record.value { precondition(date.isValid, "an invalid date value") }
        if case .real(let real) = record.value { precondition(real.isFinite, "a non-finite real value") }
        precondition(!record.isProtected || anyProtected, "a record is protected although nothing was decrypted")
        _ = record.millilitres
        _ = record.value.exactDecimal(exponent: Int(record.exponent))
    }
    for range in [frame.manufacturerDataRange, frame.payloadRange] {
        if let range { precondition(range.upperBound <= frame.byteCount, "raw range beyond the plaintext") }
    }
    if let compact = frame.compact {
        precondition([0x79, 0x7B, 0x73].contains(frame.transport.ci), "a compact format on a full frame")
        precondition(mbusFuzzLayouts.contains { $0.signature == compact.signature }, "decoded with an unknown layout")
        precondition(frame.formatSignature == nil && frame.recordLayout == nil, "a compact frame offers a layout")
    } else if let signature = frame.formatSignature {
        let layout = frame.recordLayout
        precondition(layout?.signature == signature, "a full frame's layout has another signature")
        precondition(layout.map { frame.hasRecordLayout($0) } == true, "a full frame does not match its own layout")
    }
    if let trailing = frame.trailingBytes {
        precondition(trailing.range == (frame.byteCount - 2)..<frame.byteCount, "trailing bytes not at the end")
        precondition(medium == .wireless && frame.link.format == .noCRC, "trailing bytes outside a CRC-less frame")
        precondition(!frame.security.isMACVerified && frame.security.ell != .decrypted, "trailer inside protection")
        precondition(frame.manufacturerDataRange == nil && frame.kind == .data, "trailer after raw content")
        for record in frame.recordArray {
            precondition(record.dataRange.upperBound <= trailing.range.lowerBound, "a record overlaps the trailer")
        }
    }
    _ = frame.alarmNames
    checkRows(of: frame)
    return MBusFrameDocument(frame)
}

/// The rows a decoded frame becomes under each minimum protection: bounded counts, exact keys, no row below the
/// minimum but the status and telegram alarms, and no row above what the frame's security reached.
private func checkRows(of frame: MBusFrame) {
    let received = Timestamp(secondsSinceEpoch: 1_700_000_000)
    for minimum in ProtectionLevel.allCases {
        var batch = SinkBatch()
        let count = frame.appendRecords(
            to: &batch,
            meterID: 1,
            receivedAt: received,
            clock: MeterClock(utcOffsetMinutes: 60),
            policy: .serviceCommitments,
            source: .wmbus,
            minimum: minimum
        )
        precondition(count == batch.readings.count + batch.alarms.count, "appendRecords miscounted its rows")
        precondition(batch.readings.count <= frame.recordCount, "more readings than records")
        precondition(batch.alarms.count <= 7, "more alarms than an M-Bus frame can raise")
        precondition(frame.direction == .fromMeter || count == 0, "rows from a frame to the meter")
        var keys = Set<String>()
        for reading in batch.readings {
            precondition(reading.storage >= 0 && reading.tariff >= 0, "a negative storage or tariff")
            precondition(reading.kind == (reading.storage == 0 ? .periodic : .historic), "kind does not fit storage")
            let key = "\(reading.readAt)/\(reading.storage)/\(reading.tariff)/\(reading.basis.rawValue)"
            precondition(keys.insert(key).inserted, "one frame gave two readings with the same key")
        }
        let reached = frame.security.contentProtection
        precondition(batch.readings.allSatisfy { $0.protection >= minimum }, "a reading below the minimum")
        precondition(batch.readings.allSatisfy { $0.protection <= reached }, "a reading above the frame's security")
        precondition(batch.alarms.allSatisfy { $0.protection <= reached }, "an alarm above the frame's security")
        if minimum > reached {
            precondition(batch.readings.isEmpty, "a reading from a frame below the minimum")
        }
    }
}
