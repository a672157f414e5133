/// Encodes the CJ/T 188 requests the gateway sends to meters, computing the checksum.
///
/// ``encode(_:meterType:address:sequence:diOrder:preambleLength:into:)`` never allocates. Every encoded frame is
/// decoded by ``CJT188Decoder`` before it is returned, so the encoder cannot emit a frame the decoder would reject.
///
/// DI byte order is per meter model and, on some models, per DI: the meters of one vendor send 901F as `1F 90` but
/// A017 and 810A as `A0 17` and `81 0A`. Keep the order each meter used in its replies for each DI and pass it here.
public enum CJT188Encoder {
    /// A request the gateway sends.
    public enum Request: Sendable, Hashable {
        /// Read meter data: C = 01, DI 901F, no payload.
        case readData
        /// Valve control: C = 04, DI A017, command 55 (open) or 99 (close).
        case valveControl(CJT188ValveCommand)
        /// Read address: C = 03, DI 810A, no payload; usually sent with ``CJT188MeterType/wildcard`` and
        /// ``CJT188Address/broadcast``.
        case readAddress

        var function: CJT188Function {
            switch self {
            case .readData: .readData
            case .valveControl: .writeData
            case .readAddress: .readAddress
            }
        }

        var dataIdentifier: CJT188DataIdentifier {
            switch self {
            case .readData: .meterData
            case .valveControl: .valveControl
            case .readAddress: .address
            }
        }

        var dataLength: Int {
            switch self {
            case .readData, .readAddress: 3
            case .valveControl: 4
            }
        }
    }

    /// The most `FE` bytes the encoder puts before a frame.
    public static let maximumPreambleLength = 4
    /// The size of the largest request, preamble included.
    public static let maximumRequestSize = 4 + 13 + 4

    /// Encodes a request into a caller-supplied buffer.
    ///
    /// - Parameters:
    ///   - request: What to ask the meter.
    ///   - meterType: The meter's type T (e.g. ``CJT188MeterType/gas``), or the wildcard for a broadcast.
    ///   - address: The meter's address.
    ///   - sequence: The sequence number SER; the meter echoes it.
    ///   - diOrder: The byte order this meter expects for the request's DI.
    ///   - preambleLength: The number of `FE` wake-up bytes before the frame, 0…4 (3 is common).
    ///   - buffer: Where the frame goes; it needs `preambleLength` + 16 (17 for valve control) bytes.
    /// - Returns: The number of bytes written.
    /// - Throws: ``FrameEncodingError`` with ``FrameEncodingError/Code/bufferTooSmall``, or
    ///   ``FrameEncodingError/Code/invalidFrame`` and the decoder's reason (e.g. a meter type outside CJ/T 188, or a
    ///   preamble longer than 4 bytes).
    public static func encode(
        _ request: Request,
        meterType: CJT188MeterType,
        address: CJT188Address,
        sequence: UInt8,
        diOrder: CJT188DIOrder,
        preambleLength: Int = 3,
        into buffer: UnsafeMutableRawBufferPointer
    ) throws(FrameEncodingError) -> Int {
        guard (0...maximumPreambleLength).contains(preambleLength) else {
            throw FrameEncodingError(
                .invalidFrame,
                decodingError: FrameDecodingError(.fieldOutOfRange, "preamble: more than 4 FE bytes")
            )
        }
        let length = request.dataLength
        let size = preambleLength + CJT188Decoder.minimumFrameSize + length
        guard buffer.count >= size else {
            throw FrameEncodingError(.bufferTooSmall)
        }
        for index in 0..<preambleLength {
            buffer[index] = CJT188Decoder.preambleByte
        }
        let frame = UnsafeMutableRawBufferPointer(rebasing: buffer[preambleLength..<size])
        frame[0] = CJT188Decoder.startByte
        frame[1] = meterType.rawValue
        for index in 0..<7 {
            frame[2 + index] = address.byte(index)
        }
        frame[9] = CJT188Control(function: request.function, isFromMeter: false).rawValue
        frame[10] = UInt8(length)
        let (first, second) = request.dataIdentifier.wireBytes(diOrder)
        frame[11] = first
        frame[12] = second
        frame[13] = sequence
        if case .valveControl(let command) = request {
            frame[14] = command.rawValue
        }
        frame[11 + length] = CJT188Decoder.sum(UnsafeRawBufferPointer(rebasing: frame[0..<(11 + length)]))
        frame[12 + length] = CJT188Decoder.endByte
        do {
            _ = try CJT188Decoder.decode(UnsafeRawBufferPointer(rebasing: buffer[0..<size]))
        } catch {
            throw FrameEncodingError(.invalidFrame, decodingError: error)
        }
        return size
    }

    /// Encodes a request into a new array (allocates; for tools, tests and the downlink path's outgoing copy).
    ///
    /// - Parameters:
    ///   - request: What to ask the meter.
    ///   - meterType: The meter's type T.
    ///   - address: The meter's address.
    ///   - sequence: The sequence number SER.
    ///   - diOrder: The byte order this meter expects for the request's DI.
    ///   - preambleLength: The number of `FE` wake-up bytes, 0…4.
    /// - Returns: The frame's bytes.
    /// - Throws: ``FrameEncodingError`` with ``FrameEncodingError/Code/invalidFrame`` when the decoder would reject
    ///   the frame.
    public static func encode(
        _ request: Request,
        meterType: CJT188MeterType,
        address: CJT188Address,
        sequence: UInt8,
        diOrder: CJT188DIOrder,
        preambleLength: Int = 3
    ) throws(FrameEncodingError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: maximumRequestSize)
        let result = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(FrameEncodingError) -> Int in
                try encode(
                    request,
                    meterType: meterType,
                    address: address,
                    sequence: sequence,
                    diOrder: diOrder,
                    preambleLength: preambleLength,
                    into: buffer
                )
            }
        }
        let size = try result.get()
        bytes.removeLast(bytes.count - size)
        return bytes
    }

    /// Recomputes the checksum of a laid-out frame in place: the byte before the last becomes the sum of the bytes
    /// from the `68` up to it.
    ///
    /// For test tools and fuzzing that edit bytes and want the frame to pass the checksum again. The length byte
    /// and the end byte are left as they are.
    ///
    /// - Parameter frame: `FE` bytes, then a frame starting with `68`, at least 13 bytes from the `68`.
    /// - Returns: `false` (and nothing changed) when there is no `68` after the preamble or too few bytes follow it.
    @discardableResult
    public static func seal(_ frame: UnsafeMutableRawBufferPointer) -> Bool {
        var start = 0
        while start < frame.count && frame[start] == CJT188Decoder.preambleByte {
            start += 1
        }
        guard start < frame.count, frame[start] == CJT188Decoder.startByte,
            frame.count - start >= CJT188Decoder.minimumFrameSize
        else { return false }
        let checksumOffset = frame.count - 2
        frame[checksumOffset] = CJT188Decoder.sum(UnsafeRawBufferPointer(rebasing: frame[start..<checksumOffset]))
        return true
    }
}
