/// Encodes frames of the native protocol v1, computing the MAC and CRC.
///
/// Used by the gateway for downlinks (acks, valve commands, parameter updates) and by simulators and tests for
/// uplinks. ``encode(_:key:into:)`` never allocates; every encoded frame is checked by ``NativeDecoder`` before it
/// is returned, so the encoder cannot emit a frame a conforming receiver would reject.
public enum NativeEncoder {
    /// Encodes a frame into a caller-supplied buffer.
    ///
    /// The frame type and payload length come from `frame.body`; the header's `frameType` and `payloadLength`
    /// are ignored.
    ///
    /// - Parameters:
    ///   - frame: The frame to encode.
    ///   - key: The meter's key, for the MAC.
    ///   - buffer: Where the frame goes; it needs 33 + N bytes (at most 512).
    /// - Returns: The number of bytes written.
    /// - Throws: ``FrameEncodingError`` with ``FrameEncodingError/Code/bufferTooSmall``, or
    ///   ``FrameEncodingError/Code/invalidFrame`` and the decoder's reason when a field breaks the specification.
    public static func encode(
        _ frame: NativeFrame,
        key: AES128Key,
        into buffer: UnsafeMutableRawBufferPointer
    ) throws(FrameEncodingError) -> Int {
        switch frame.body {
        case .dailyReport(let report):
            guard (0...NativeFrame.DailyReport.maximumPointCount).contains(report.pointCount),
                (0...NativeFrame.DailyReport.maximumFrozenCount).contains(report.frozenCount)
            else {
                throw FrameEncodingError(
                    .invalidFrame,
                    decodingError: FrameDecodingError(.fieldOutOfRange, "daily_report: too many points or totals")
                )
            }
        case .parameterUpdate(let update):
            guard (0...NativeFrame.ParameterUpdate.maximumCount).contains(update.count) else {
                throw FrameEncodingError(
                    .invalidFrame,
                    decodingError: FrameDecodingError(.fieldOutOfRange, "parameter_update.count: not 1...16")
                )
            }
        default:
            break
        }
        let payloadLength = frame.body.payloadLength
        guard payloadLength <= NativeDecoder.maximumPayloadLength else {
            throw FrameEncodingError(
                .invalidFrame,
                decodingError: FrameDecodingError(.frameTooLarge, "the payload exceeds 479 bytes")
            )
        }
        let size = NativeDecoder.minimumFrameSize + payloadLength
        guard buffer.count >= size else {
            throw FrameEncodingError(.bufferTooSmall)
        }
        let frameBytes = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
        write(frame, key: key, into: frameBytes)
        do {
            _ = try NativeDecoder.decodeWithoutVerifyingMAC(UnsafeRawBufferPointer(frameBytes))
        } catch {
            throw FrameEncodingError(.invalidFrame, decodingError: error)
        }
        return size
    }

    /// Encodes a frame into a new array (allocates; for simulators, tools and tests).
    ///
    /// - Parameters:
    ///   - frame: The frame to encode.
    ///   - key: The meter's key, for the MAC.
    /// - Returns: The frame's bytes.
    /// - Throws: ``FrameEncodingError`` with ``FrameEncodingError/Code/invalidFrame`` when a field breaks the
    ///   specification.
    public static func encode(_ frame: NativeFrame, key: AES128Key) throws(FrameEncodingError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: NativeDecoder.maximumFrameSize)
        let result = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(FrameEncodingError) -> Int in try encode(frame, key: key, into: buffer) }
        }
        let size = try result.get()
        bytes.removeLast(bytes.count - size)
        return bytes
    }

    /// Encodes the ack the gateway sends after committing an uplink.
    ///
    /// The header's frame counter is the acked counter and the flags are 0, as the specification requires.
    ///
    /// - Parameters:
    ///   - meterID: The meter id (non-zero: frames of meter 0 are never decoded, so never acked).
    ///   - key: The meter's key, for the MAC.
    ///   - ackedFrameCounter: The frame counter of the uplink.
    ///   - ackedFrameType: The raw frame type of the uplink.
    ///   - result: What the gateway did with it.
    ///   - serverTime: The gateway's clock, seconds since 1970 UTC.
    /// - Returns: The 43-byte ack frame.
    public static func encodeAck(
        meterID: UInt64,
        key: AES128Key,
        ackedFrameCounter: UInt32,
        ackedFrameType: UInt8,
        result: NativeAckResult,
        serverTime: UInt32
    ) -> [UInt8] {
        precondition(meterID != 0, "meter id 0 is never acked")
        let frame = NativeFrame(
            meterID: meterID,
            frameCounter: ackedFrameCounter,
            meterTime: serverTime,
            body: .ack(
                NativeFrame.Ack(
                    ackedFrameCounter: ackedFrameCounter,
                    ackedFrameType: ackedFrameType,
                    result: result,
                    serverTime: serverTime
                )
            )
        )
        var bytes = [UInt8](repeating: 0, count: NativeDecoder.minimumFrameSize + 10)
        bytes.withUnsafeMutableBytes { write(frame, key: key, into: $0) }
        return bytes
    }

    /// Recomputes the MAC (when a key is given) and the CRC of a laid-out frame in place.
    ///
    /// For test tools and fuzzing that change header or payload bytes and want the frame to pass the integrity
    /// checks again.
    ///
    /// - Parameters:
    ///   - frame: One frame whose length is exactly 33 + its declared payload length.
    ///   - key: The key for the MAC, or `nil` to keep the MAC bytes as they are.
    /// - Returns: `false` (and nothing changed) if the buffer's length does not match the declared length.
    @discardableResult
    public static func seal(_ frame: UnsafeMutableRawBufferPointer, key: AES128Key?) -> Bool {
        guard frame.count >= NativeDecoder.minimumFrameSize else { return false }
        let payloadLength = Int(UnsafeRawBufferPointer(frame).u16(21))
        guard frame.count == NativeDecoder.minimumFrameSize + payloadLength else { return false }
        let macOffset = NativeDecoder.headerSize + payloadLength
        if let key {
            var cmac = AESCMAC(key: key)
            cmac.update(UnsafeRawBufferPointer(rebasing: frame[0..<macOffset]))
            frame.storeBytes(of: cmac.finalizeTruncatedTo64().bigEndian, toByteOffset: macOffset, as: UInt64.self)
        }
        let crcOffset = macOffset + NativeDecoder.macSize
        let crc = CRC16CCITT.checksum(UnsafeRawBufferPointer(rebasing: frame[0..<crcOffset]))
        frame.storeBytes(of: crc.bigEndian, toByteOffset: crcOffset, as: UInt16.self)
        return true
    }

    // MARK: Writing

    /// Lays out header and payload and seals the frame; `buffer` is exactly 33 + N bytes.
    static func write(_ frame: NativeFrame, key: AES128Key, into buffer: UnsafeMutableRawBufferPointer) {
        let header = frame.header
        buffer.put(NativeDecoder.magic, at: 0)
        buffer[2] = header.version
        buffer[3] = frame.body.frameType.rawValue
        buffer[4] = header.flags.rawValue
        buffer.put(header.meterID, at: 5)
        buffer.put(header.frameCounter, at: 13)
        buffer.put(header.meterTime, at: 17)
        buffer.put(UInt16(truncatingIfNeeded: frame.body.payloadLength), at: 21)
        let p = UnsafeMutableRawBufferPointer(rebasing: buffer[NativeDecoder.headerSize..<(buffer.count - 10)])
        switch frame.body {
        case .reading(let reading):
            p.put(reading.register.raw, at: 0)
            p[8] = UInt8(bitPattern: reading.register.exponent)
            p[9] = reading.register.digits
            p.put(reading.flowMillilitresPerHour ?? UInt32.max, at: 10)
            p[14] = valveByte(reading.valve)
            p.put(reading.batteryMillivolts ?? UInt16.max, at: 15)
            p.put(UInt16(bitPattern: reading.temperatureCentiCelsius ?? Int16.min), at: 17)
            p.put(UInt16(bitPattern: reading.signalDBm ?? Int16.min), at: 19)
            p.put(reading.status.rawValue, at: 21)
        case .dailyReport(let report):
            p.put(report.intervalStart, at: 0)
            p[4] = report.intervalMinutes
            p[5] = UInt8(truncatingIfNeeded: report.pointCount)
            p.put(report.startRegister.raw, at: 6)
            p[14] = UInt8(bitPattern: report.startRegister.exponent)
            p[15] = report.startRegister.digits
            for index in 0..<report.pointCount {
                p.put(report.points[index], at: 16 + 4 * index)
            }
            let frozenOffset = 16 + 4 * report.pointCount
            p[frozenOffset] = UInt8(truncatingIfNeeded: report.frozenCount)
            for index in 0..<report.frozenCount {
                p.put(report.frozenTotals[index].time, at: frozenOffset + 1 + 12 * index)
                p.put(report.frozenTotals[index].raw, at: frozenOffset + 5 + 12 * index)
            }
        case .alarm(let alarm):
            p.put(alarm.code, at: 0)
            p[2] = alarm.isRaised ? 1 : 0
            p[3] = valveByte(alarm.valve)
            p.put(alarm.register.raw, at: 4)
            p[12] = UInt8(bitPattern: alarm.register.exponent)
            p[13] = alarm.register.digits
            p.put(alarm.flowMillilitresPerHour ?? UInt32.max, at: 14)
            p.put(UInt32(bitPattern: alarm.detail), at: 18)
        case .commandResult(let result):
            p.put(result.commandFrameCounter, at: 0)
            p[4] = result.commandType.rawValue
            p[5] = result.outcome.rawValue
            p[6] = valveByte(result.valve)
        case .ack(let ack):
            p.put(ack.ackedFrameCounter, at: 0)
            p[4] = ack.ackedFrameType
            p[5] = ack.result.rawValue
            p.put(ack.serverTime, at: 6)
        case .valveCommand(let command):
            p[0] = command.action.rawValue
            p.put(command.reason, at: 1)
        case .parameterUpdate(let update):
            p[0] = UInt8(truncatingIfNeeded: update.count)
            for index in 0..<update.count {
                p[1 + 5 * index] = update.parameters[index].id.rawValue
                p.put(update.parameters[index].value, at: 2 + 5 * index)
            }
        }
        seal(buffer, key: key)
    }

    /// The wire byte of a valve position.
    static func valveByte(_ valve: ValveState) -> UInt8 {
        switch valve {
        case .open: 0
        case .closed: 1
        case .moving: 2
        case .fault: 3
        case .unknown: 0xFF
        }
    }
}

extension UnsafeMutableRawBufferPointer {
    /// Stores a big-endian integer at `offset`; the caller has checked the bounds.
    @inline(__always)
    func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }
}
