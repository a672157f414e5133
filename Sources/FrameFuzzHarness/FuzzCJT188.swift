import GatewayCore

/// Runs every CJ/T 188 decode path over one input.
///
/// With `reseal`, the checksum (the byte before the last) is recomputed first, so mutations get past the checksum and
/// reach the control, type, length and layout checks. Invariants checked with `precondition` (a failure is a crash):
/// decoding is deterministic; a decoded frame's checksum and length really match the bytes; readings come only from
/// normal replies and hold exact in-range values; the JSON document builds; a decoded request the encoder can build
/// re-encodes to exactly the same bytes.
func fuzzCJT188(_ input: UnsafeRawBufferPointer, reseal: Bool) {
    guard reseal else {
        checkCJT188(input)
        return
    }
    var copy = Array(input)
    copy.withUnsafeMutableBytes { _ = CJT188Encoder.seal($0) }
    copy.withUnsafeBytes { checkCJT188($0) }
}

/// The codes the CJ/T 188 decoder may give.
private let cjt188Codes: [FrameDecodingError.Code] = [
    .truncated, .badFrame, .badLength, .badChecksum, .vendorFrame, .unknownType, .unsupportedFrame, .fieldOutOfRange,
]

private func checkCJT188(_ bytes: UnsafeRawBufferPointer) {
    let frame: CJT188Frame
    do throws(FrameDecodingError) {
        frame = try CJT188Decoder.decode(bytes)
    } catch {
        precondition(cjt188Codes.contains(error.code), "the CJ/T 188 decoder gave a code outside its set")
        do throws(FrameDecodingError) {
            _ = try CJT188Decoder.decode(bytes)
            preconditionFailure("a rejected frame decodes on the second try")
        } catch let again {
            precondition(again.code == error.code, "decoding the same bytes twice gave different errors")
        }
        _ = DecodeErrorDocument(error)
        return
    }

    // Deterministic.
    do throws(FrameDecodingError) {
        let second = try CJT188Decoder.decode(bytes)
        precondition(second == frame, "decoding the same bytes twice gave different frames")
    } catch {
        preconditionFailure("a decoded frame fails on the second try")
    }

    // The envelope really holds.
    let start = frame.preambleLength
    let count = bytes.count - start
    precondition(count == 13 + frame.dataLength, "a decoded frame's length byte does not fit its bytes")
    precondition(bytes[start] == 0x68 && bytes[bytes.count - 1] == 0x16, "a decoded frame lacks 68 or 16")
    var sum: UInt8 = 0
    for index in start..<(bytes.count - 2) {
        sum &+= bytes[index]
    }
    precondition(sum == bytes[bytes.count - 2] && sum == frame.checksum, "a decoded frame's checksum does not match")
    precondition(frame.meterType.family != nil && frame.meterType.family != .custom, "a non-CJ/T 188 meter type")

    // Readings only from normal replies, with exact in-range values.
    let readings = [frame.currentVolume, frame.settlementVolume].compactMap { $0 }
    if !readings.isEmpty {
        precondition(frame.isFromMeter && !frame.control.isAbnormal, "a reading from a request or abnormal reply")
        precondition(frame.dataIdentifier?.isKnown == true, "a reading under an unknown DI")
    }
    for reading in readings {
        precondition(reading.quantity.raw <= 99_999_999, "a volume outside 8 BCD digits")
        precondition(reading.quantity.unit.kind == .volume, "a volume with a non-volume unit")
        precondition(reading.millilitres >= 0 && reading.millilitres <= 99_999_999 * 1_000_000, "volume out of range")
        precondition((0...12).contains(reading.storage), "a storage number outside 0...12")
    }
    if let time = frame.meterTime {
        precondition(time.isValid, "an invalid meter time was returned")
    }

    _ = CJT188FrameDocument(frame)

    // The rows it becomes: only from meter replies with readings; alarms only beside readings.
    var batch = SinkBatch()
    let rows = frame.appendRecords(
        to: &batch,
        meterID: 1,
        receivedAt: Timestamp(secondsSinceEpoch: 1_700_000_000),
        clock: MeterClock(utcOffsetMinutes: 480),
        policy: .serviceCommitments
    )
    precondition(rows == batch.readings.count + batch.alarms.count, "appendRecords miscounted its rows")
    precondition(batch.readings.count == readings.count, "a volume was not stored, or stored twice")
    precondition(batch.alarms.count <= CJT188Status.alarmBits.count, "more alarms than mapped status bits")
    precondition(!batch.readings.isEmpty || batch.alarms.isEmpty, "an alarm without its reading")

    // Requests the encoder can build re-encode byte for byte.
    guard !frame.isFromMeter, frame.preambleLength <= CJT188Encoder.maximumPreambleLength,
        let order = frame.diOrder, let sequence = frame.sequence
    else { return }
    let request: CJT188Encoder.Request
    switch (frame.body, frame.dataIdentifier) {
    case (.request, .some(.meterData)) where frame.function == .readData:
        request = .readData
    case (.request, .some(.address)) where frame.function == .readAddress:
        request = .readAddress
    case (.valveCommand(let command), _):
        request = .valveControl(command)
    default:
        return
    }
    do throws(FrameEncodingError) {
        let again = try CJT188Encoder.encode(
            request,
            meterType: frame.meterType,
            address: frame.address,
            sequence: sequence,
            diOrder: order,
            preambleLength: frame.preambleLength
        )
        precondition(again.elementsEqual(bytes), "a decoded request does not re-encode to the same bytes")
    } catch {
        preconditionFailure("a decoded request does not re-encode")
    }
}
