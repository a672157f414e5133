/// What makes two deliveries "the same frame", whatever route or time they arrived by.
///
/// A frame is known by its meter's authenticated counter when the protocol has one (native frame counter, OMS
/// mode-7 message counter), else by the meter's own
/// clock and the frame's channel (CJ/T 188 data identifier, M-Bus CI field), else by a fingerprint of its bytes
/// (for wireless M-Bus the access number is part of them). Never by the time it arrived: a meter retry, a QoS 1
/// redelivery, a retained message re-sent at reconnect and a spool replay are all the same frame.
public enum FrameIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The meter's authenticated counter (native frame counter, OMS mode-7 message counter).
    case counter(UInt32)
    /// The meter's clock at the frame and the frame's channel.
    case meterTime(Timestamp, channel: UInt16)
    /// A fingerprint of the frame's bytes (``FrameFingerprint``).
    case fingerprint(Int64)

    /// How the identity is stored in `frame_identities.kind`.
    public var kind: Int16 {
        switch self {
        case .counter: 1
        case .meterTime: 2
        case .fingerprint: 3
        }
    }

    /// The identity as one 64-bit key, unique per meter and ``kind``.
    public var key: Int64 {
        switch self {
        case .counter(let counter):
            return Int64(counter)
        case .meterTime(let time, let channel):
            // Time and channel mixed into one key (the meter id is the other half of the stored key).
            var hash = FrameFingerprint()
            hash.mix(UInt64(bitPattern: time.microsecondsSinceEpoch))
            hash.mix(UInt64(channel))
            return hash.value
        case .fingerprint(let value):
            return value
        }
    }

    public var description: String {
        switch self {
        case .counter(let counter): "counter \(counter)"
        case .meterTime(let time, let channel): "meter time \(time) channel \(channel)"
        case .fingerprint(let value): "fingerprint \(String(UInt64(bitPattern: value), radix: 16))"
        }
    }
}

/// A 64-bit FNV-1a fingerprint: stable across processes, machines and versions (it is stored), allocation-free.
///
/// It tells deliveries of one meter's frames apart, not adversaries: deduplication is per meter, and a frame that
/// forges another's fingerprint would also have to carry that frame's authenticated content to matter.
public struct FrameFingerprint: Sendable {
    private static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01b3
    private var state = FrameFingerprint.offsetBasis

    /// Starts an empty fingerprint.
    public init() {}

    /// Adds bytes.
    /// - Parameter bytes: The bytes, in order.
    public mutating func mix(_ bytes: UnsafeRawBufferPointer) {
        var hash = state
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* Self.prime
        }
        state = hash
    }

    /// Adds the eight little-endian bytes of a value.
    /// - Parameter value: The value.
    public mutating func mix(_ value: UInt64) {
        var hash = state
        var rest = value
        for _ in 0..<8 {
            hash = (hash ^ (rest & 0xFF)) &* Self.prime
            rest >>= 8
        }
        state = hash
    }

    /// The fingerprint so far, as stored (`bigint`).
    public var value: Int64 { Int64(bitPattern: state) }

    /// The fingerprint of one frame's bytes.
    /// - Parameter bytes: The frame exactly as received.
    /// - Returns: The fingerprint.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> Int64 {
        var hash = FrameFingerprint()
        hash.mix(bytes)
        return hash.value
    }

    /// The fingerprint of a native frame's content: header and payload with the `RETRANSMISSION` flag cleared,
    /// without the MAC and CRC (which the key and the content determine). A meter's retransmission (§7 of the
    /// native spec: same counter and content, flag set, re-encoded) therefore has the fingerprint of its original,
    /// and is a duplicate rather than a counter reused for other content.
    /// - Parameter frame: A native frame whose length the decoder has checked (33 + N bytes).
    /// - Returns: The fingerprint.
    public static func ofNativeContent(_ frame: UnsafeRawBufferPointer) -> Int64 {
        let trailer = NativeDecoder.minimumFrameSize - NativeDecoder.headerSize
        guard frame.count >= NativeDecoder.minimumFrameSize else { return of(frame) }
        var hash = FrameFingerprint()
        hash.mix(UnsafeRawBufferPointer(rebasing: frame[0..<4]))
        var flags = frame[4] & ~NativeFrame.Flags.retransmission.rawValue
        withUnsafeBytes(of: &flags) { hash.mix($0) }
        hash.mix(UnsafeRawBufferPointer(rebasing: frame[5..<(frame.count - trailer)]))
        return hash.value
    }
}

/// One admitted frame in a ``SinkBatch``: its identity and which rows it produced, so the writer can store the
/// frame once. Natural key in `frame_identities`: (meter, identity kind, identity key).
///
/// When the same identity is already stored with the same ``fingerprint``, the frame is a duplicate and none of
/// its rows is written. A frame with an authenticated ``counter`` is judged by ``ReplayRule`` against its meter's
/// high-water mark (a replay is quarantined as `replayed`). Otherwise, when its identity is stored with another
/// fingerprint (the same meter time with other bytes), its rows go on to their natural keys, where a different
/// value is recorded as a conflict.
public struct FrameGate: Sendable, Equatable {
    /// The registry id of the meter.
    public var meterID: Int64
    /// The frame's identity.
    public var identity: FrameIdentity
    /// The frame's counter, only when the meter's key authenticated it; the writer judges it with ``ReplayRule``
    /// and only such a counter moves the meter's high-water mark.
    public var counter: ReplayCounter?
    /// ``FrameFingerprint`` of the frame's bytes.
    public var fingerprint: Int64
    /// The protocol that carried the frame.
    public var source: FrameProtocol
    /// When this delivery was received.
    public var receivedAt: Timestamp
    /// The frame's rows in the batch: start indices, taken before its rows were appended.
    public var firstReading: Int
    public var firstInterval: Int
    public var firstAlarm: Int
    public var firstFrame: Int
    public var firstCommandResult: Int

    /// Creates a gate for rows appended after `batch`'s current end.
    /// - Parameters:
    ///   - meterID: The meter's registry id.
    ///   - identity: The frame's identity.
    ///   - counter: The frame's counter, when the meter's key authenticated it.
    ///   - fingerprint: The fingerprint of the frame's bytes.
    ///   - source: The protocol.
    ///   - receivedAt: When it was received.
    ///   - batch: The batch, before the frame's rows are appended.
    public init(
        meterID: Int64,
        identity: FrameIdentity,
        counter: ReplayCounter? = nil,
        fingerprint: Int64,
        source: FrameProtocol,
        receivedAt: Timestamp,
        rowsStartingAt batch: SinkBatch
    ) {
        self.meterID = meterID
        self.identity = identity
        self.counter = counter
        self.fingerprint = fingerprint
        self.source = source
        self.receivedAt = receivedAt
        self.firstReading = batch.readings.count
        self.firstInterval = batch.intervals.count
        self.firstAlarm = batch.alarms.count
        self.firstFrame = batch.frames.count
        self.firstCommandResult = batch.commandResults.count
    }

    /// The same gate with its start indices moved to `batch`'s current end, for moving a frame into another batch.
    /// - Parameters:
    ///   - gate: The gate.
    ///   - batch: The batch its rows are about to be appended to.
    public init(rebasing gate: FrameGate, onto batch: SinkBatch) {
        self = gate
        firstReading = batch.readings.count
        firstInterval = batch.intervals.count
        firstAlarm = batch.alarms.count
        firstFrame = batch.frames.count
        firstCommandResult = batch.commandResults.count
    }
}
