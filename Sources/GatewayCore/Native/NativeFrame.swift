/// One decoded frame of the native protocol v1: header, typed body and whether its MAC was verified.
///
/// A plain value with no heap storage (fixed-capacity `InlineArray`s hold the variable parts), so decoding into it
/// never allocates. Frames from ``NativeDecoder`` have passed every range check of the specification; frames built
/// by hand are checked by ``NativeEncoder`` before they are sent.
public struct NativeFrame: Sendable, Equatable {
    /// The header flags byte. Bits 2–7 are reserved and must be 0.
    public struct Flags: OptionSet, Sendable, Hashable {
        /// The raw flags byte.
        public var rawValue: UInt8

        /// Wraps a raw flags byte.
        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        /// Bit 0: the meter wants an ack after the gateway committed the frame.
        public static let ackRequested = Flags(rawValue: 1 << 0)
        /// Bit 1: this uplink repeats an earlier one (same frame counter and content).
        public static let retransmission = Flags(rawValue: 1 << 1)
        /// The bits v1 defines; all others are reserved.
        public static let defined: Flags = [.ackRequested, .retransmission]
    }

    /// The 23-byte frame header.
    public struct Header: Sendable, Hashable {
        /// The protocol version (1).
        public var version: UInt8
        /// The raw frame type byte (see ``NativeFrameType``).
        public var frameType: UInt8
        /// The flags byte.
        public var flags: Flags
        /// The meter id (non-zero); its label form is the decimal number.
        public var meterID: UInt64
        /// The frame counter: per meter for uplinks, the command counter or acked counter for downlinks.
        public var frameCounter: UInt32
        /// The meter's clock in seconds since 1970-01-01 UTC; 0 means the clock is not set.
        public var meterTime: UInt32
        /// The payload length N in bytes (0…479).
        public var payloadLength: Int

        /// Creates a header.
        public init(
            version: UInt8 = NativeDecoder.version,
            frameType: UInt8,
            flags: Flags,
            meterID: UInt64,
            frameCounter: UInt32,
            meterTime: UInt32,
            payloadLength: Int
        ) {
            self.version = version
            self.frameType = frameType
            self.flags = flags
            self.meterID = meterID
            self.frameCounter = frameCounter
            self.meterTime = meterTime
            self.payloadLength = payloadLength
        }

        /// The frame type, if it is one v1 defines.
        public var knownFrameType: NativeFrameType? { NativeFrameType(rawValue: frameType) }

        /// Whether the meter's clock was set when it sent the frame.
        public var isClockSet: Bool { meterTime != 0 }

        /// The total frame size, 33 + N bytes.
        public var frameSize: Int { NativeDecoder.minimumFrameSize + payloadLength }
    }

    /// Whether the frame's MAC was checked against the meter's key.
    public enum MACStatus: Sendable, Hashable {
        /// The MAC verified with the meter's key.
        case verified
        /// The frame was decoded without a key; its content is not authenticated.
        case notVerified

        /// `verified` or `not_verified`, as in JSON.
        public var name: String {
            switch self {
            case .verified: "verified"
            case .notVerified: "not_verified"
            }
        }
    }

    /// The typed payload of a frame.
    public enum Body: Sendable, Equatable {
        case reading(Reading)
        case dailyReport(DailyReport)
        case alarm(Alarm)
        case commandResult(CommandResult)
        case ack(Ack)
        case valveCommand(ValveCommand)
        case parameterUpdate(ParameterUpdate)

        /// The frame type this body belongs to.
        public var frameType: NativeFrameType {
            switch self {
            case .reading: .reading
            case .dailyReport: .dailyReport
            case .alarm: .alarm
            case .commandResult: .commandResult
            case .ack: .ack
            case .valveCommand: .valveCommand
            case .parameterUpdate: .parameterUpdate
            }
        }

        /// The payload length N this body encodes to.
        public var payloadLength: Int {
            switch self {
            case .reading: 25
            case .dailyReport(let report): 17 + 4 * report.pointCount + 12 * report.frozenCount
            case .alarm: 22
            case .commandResult: 7
            case .ack: 10
            case .valveCommand: 3
            case .parameterUpdate(let update): 1 + 5 * update.count
            }
        }
    }

    /// The header as sent.
    public var header: Header
    /// The typed payload.
    public var body: Body
    /// Whether the MAC was verified.
    public var macStatus: MACStatus
    /// The 8-byte MAC field as sent, byte 0 most significant (0 for frames built by hand).
    public var mac: UInt64

    /// Creates a decoded frame.
    public init(header: Header, body: Body, macStatus: MACStatus, mac: UInt64) {
        self.header = header
        self.body = body
        self.macStatus = macStatus
        self.mac = mac
    }

    /// Creates a frame to encode; the header's type and payload length follow from `body`.
    ///
    /// - Parameters:
    ///   - meterID: The meter id (non-zero).
    ///   - frameCounter: The frame counter (for an ack, the acked frame's counter).
    ///   - meterTime: The meter's clock, seconds since 1970 UTC, or 0 when not set.
    ///   - flags: The flags.
    ///   - body: The payload.
    public init(meterID: UInt64, frameCounter: UInt32, meterTime: UInt32, flags: Flags = [], body: Body) {
        self.header = Header(
            frameType: body.frameType.rawValue,
            flags: flags,
            meterID: meterID,
            frameCounter: frameCounter,
            meterTime: meterTime,
            payloadLength: body.payloadLength
        )
        self.body = body
        self.macStatus = .notVerified
        self.mac = 0
    }

    /// The frame type.
    public var frameType: NativeFrameType { body.frameType }

    /// Whether the frame travels from the meter to the gateway.
    public var isUplink: Bool { body.frameType.isUplink }
}
