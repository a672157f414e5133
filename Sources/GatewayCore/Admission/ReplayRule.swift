/// Which authenticated counter a frame carries: each kind has its own high-water mark per meter
/// (`counter_marks.kind`).
public enum ReplayCounterKind: Int16, Sendable, Hashable, CaseIterable {
    /// The native protocol's uplink frame counter (header offset 13, covered by the frame's MAC).
    case nativeFrame = 1
    /// The OMS mode-7 message counter MCR of the authentication and fragmentation layer (covered by the AFL MAC
    /// and part of the key derivation).
    case omsMessage = 2
}

/// A counter a frame carried **and** that its meter's key authenticated (native MAC verified; OMS mode 7 AFL MAC
/// verified). Only such counters may move a high-water mark: a counter nobody authenticated could be pushed up by
/// anyone and silence the meter.
public struct ReplayCounter: Sendable, Hashable {
    /// Which counter.
    public var kind: ReplayCounterKind
    /// Its value.
    public var value: UInt32

    /// Creates an authenticated counter. Call it only after the frame's MAC verified with the meter's key.
    /// - Parameters:
    ///   - kind: Which counter.
    ///   - value: Its value.
    public init(authenticated kind: ReplayCounterKind, value: UInt32) {
        self.kind = kind
        self.value = value
    }
}

/// What the gateway remembers of one meter's counter (`counter_marks`): the highest authenticated counter it stored
/// and the highest counter whose frame identity it has forgotten (pruned after `pipeline.dedupe_horizon_days`).
public struct CounterMark: Sendable, Hashable {
    /// The highest authenticated counter stored, or -1 when none.
    public var highWater: Int64
    /// The highest counter whose identity was pruned from the frame log, or -1 when none: at or below it the log
    /// can no longer tell a frame it stored from one it never saw.
    public var forgottenThrough: Int64

    /// Creates a mark.
    /// - Parameters:
    ///   - highWater: The highest authenticated counter stored (-1: none).
    ///   - forgottenThrough: The highest counter forgotten by pruning (-1: none).
    public init(highWater: Int64, forgottenThrough: Int64 = -1) {
        self.highWater = highWater
        self.forgottenThrough = forgottenThrough
    }
}

/// The replay rule: decides, from the meter's mark, the frame's authenticated counter and what the frame log holds
/// for the frame's identity, whether a delivery is new, a duplicate or a replay. Pure; the writer reads the marks
/// and the log in the batch's transaction and executes the verdict.
///
/// | case | verdict |
/// |---|---|
/// | the identity is stored with the same fingerprint (a QoS 1 redelivery, a spool replay, a meter retransmission) | ``Verdict/duplicate`` |
/// | no mark, or counter above the high-water mark | ``Verdict/fresh`` (moves the mark) |
/// | counter at or below the mark, identity stored with another fingerprint (a counter reused for other content) | ``Verdict/replayed`` |
/// | counter at or below the highest forgotten counter (the log cannot prove it was never stored) | ``Verdict/replayed`` |
/// | counter at or below the mark, above the forgotten counter, identity not stored | ``Verdict/lateDelivery`` |
///
/// A late delivery is an authenticated frame the log proves was never stored: a meter's backlog, or a frame that
/// reached the other gateway of a shared subscription later than a newer one. It is stored (it cannot be a replay
/// of anything stored) and leaves the mark where it is. Counters never wrap: a meter whose counter would pass
/// `0xFFFFFFFF`, or that lost its counter, must be given a new key, and the operator resets its mark
/// (`meter-gateway meters reset-counter`).
public enum ReplayRule {
    /// The decision for one frame.
    public enum Verdict: Sendable, Hashable {
        /// Above the mark: store it and raise the mark to its counter.
        case fresh
        /// Below the mark but provably never stored: store it; the mark stays.
        case lateDelivery
        /// Stored before with the same fingerprint: write nothing, ack as a duplicate.
        case duplicate
        /// At or below the mark and not provably new: quarantine as `replayed`, write nothing else.
        case replayed
    }

    /// Judges one frame.
    /// - Parameters:
    ///   - counter: The frame's authenticated counter.
    ///   - mark: The meter's mark for that counter kind, or nil when the meter has none yet.
    ///   - storedFingerprint: The fingerprint the frame log holds for the frame's identity, or nil when none.
    ///   - fingerprint: The frame's own fingerprint.
    /// - Returns: The verdict.
    @inlinable
    public static func judge(
        counter: UInt32,
        mark: CounterMark?,
        storedFingerprint: Int64?,
        fingerprint: Int64
    ) -> Verdict {
        if let storedFingerprint, storedFingerprint == fingerprint { return .duplicate }
        guard let mark, Int64(counter) <= mark.highWater else { return .fresh }
        if storedFingerprint != nil { return .replayed }
        if Int64(counter) <= mark.forgottenThrough { return .replayed }
        return .lateDelivery
    }
}
