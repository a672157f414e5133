/// Why a frame was quarantined: one vocabulary for every protocol, stored as `quarantine.reason`.
///
/// The same kind of bad frame gets the same reason whichever protocol carried it. Decoder reasons are the
/// ``FrameDecodingError/Code`` strings (`bad_crc`, `bad_mac`, …); the rest are the admission ladder's own steps and
/// the pipeline's.
public struct QuarantineReason: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The snake_case code stored in `quarantine.reason`.
    public var rawValue: String

    /// Wraps a stored code.
    /// - Parameter rawValue: The code.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The reason a decoder error stands for.
    /// - Parameter code: The decoder's error code.
    public init(_ code: FrameDecodingError.Code) {
        self.rawValue = code.description
    }

    public var description: String { rawValue }

    /// The topic is not `<prefix>/up/<protocol|collector>/<address>`.
    public static let unroutableTopic = QuarantineReason(rawValue: "unroutable_topic")
    /// The payload is larger than `mqtt.max_payload_bytes`; only its first bytes and its size are kept.
    public static let frameTooLarge = QuarantineReason(rawValue: "frame_too_large")
    /// The frame names another meter than its topic (or the topic's address is not a meter label).
    public static let topicMismatch = QuarantineReason(rawValue: "topic_mismatch")
    /// A frame on a collector topic (`<prefix>/up/collector/<collector id>`) names a meter that the registry does not
    /// assign to that collector (`collector_meters`), whatever its protocol: a collector speaks only for its meters.
    /// The detail names the collector and the meter.
    public static let collectorNotAssigned = QuarantineReason(rawValue: "collector_not_assigned")
    /// A frame to a meter on an uplink topic.
    public static let wrongDirection = QuarantineReason(rawValue: "wrong_direction")
    /// The frame names a meter that is not registered for its protocol.
    public static let unknownMeter = QuarantineReason(rawValue: "unknown_meter")
    /// The meter requires at least `encrypted` (the default for a meter registered with a key), but the frame was
    /// neither encrypted nor authenticated with its key.
    public static let unencryptedFrame = QuarantineReason(rawValue: "unencrypted_frame")
    /// The frame's protected content is below its meter's minimum protection (`meters.min_protection`): e.g. a
    /// mode-5 (encrypted only) or mode-0 frame from a meter whose minimum is `authenticated`. A downgrade is never
    /// stored. (A plain frame from a meter whose minimum is `encrypted`, the default with a key, keeps the older
    /// reason `unencrypted_frame`.)
    public static let insufficientSecurity = QuarantineReason(rawValue: "insufficient_security")
    /// The frame decoded but carries nothing to store (e.g. a valve reply).
    public static let noReading = QuarantineReason(rawValue: "no_reading")
    /// A spool record whose checksum failed: disk corruption between receive and processing. The damaged bytes
    /// are kept.
    public static let spoolCorrupt = QuarantineReason(rawValue: "spool_corrupt")
    /// An authenticated frame whose counter is at or below its meter's high-water mark and that is not an exact
    /// duplicate: a counter reused for other content, or a frame older than the frame log remembers
    /// (``ReplayRule``). Nothing of it is stored.
    public static let replayed = QuarantineReason(rawValue: "replayed")
    /// The database refused the frame's own rows (a data error of SQLSTATE class 22 or 23 that belongs to this
    /// frame alone).
    public static let databaseRejected = QuarantineReason(rawValue: "database_rejected")

    /// The reasons of the admission ladder and the pipeline, in ladder order (decoder reasons come from
    /// ``FrameDecodingError/Code/allCodes``).
    public static let ladderReasons: [QuarantineReason] = [
        .frameTooLarge, .unroutableTopic, .topicMismatch, .collectorNotAssigned, .wrongDirection, .unknownMeter,
        .unencryptedFrame, .insufficientSecurity, .noReading, .replayed, .spoolCorrupt, .databaseRejected,
    ]

    /// Every reason a quarantine row can carry.
    public static var allReasons: [QuarantineReason] {
        var seen = Set<QuarantineReason>()
        return (FrameDecodingError.Code.allCodes.map(QuarantineReason.init) + ladderReasons).filter {
            seen.insert($0).inserted
        }
    }
}
