/// When a frame from a meter the in-memory registry does not hold may cost a database lookup: the rule that lets a
/// meter registered a moment ago have its first frame accepted at once, without letting a flood of frames from
/// unregistered (or forged) addresses turn into a flood of queries.
///
/// Two bounds: a negative cache (an address the database did not know is not asked again for
/// ``negativeSeconds``; at most ``maxNegativeEntries`` addresses, the expired ones dropped first) and a token
/// bucket (at most ``lookupsPerSecond`` addresses looked up per second, bursts up to the same number). An address
/// refused by either bound is quarantined `unknown_meter` as before, and a later frame may still find it once the
/// periodic reload has read the meter.
///
/// Pure: "now" comes from the caller.
public struct RegistryMissPolicy: Sendable {
    private struct Key: Hashable, Sendable {
        var frameProtocol: FrameProtocol
        var address: String
    }

    /// How long an address the database did not know is not asked again.
    public let negativeSeconds: Int64
    /// The most addresses looked up per second (and the largest burst).
    public let lookupsPerSecond: Int
    /// The most addresses the negative cache holds.
    public let maxNegativeEntries: Int

    private var negative: [Key: Timestamp] = [:]
    private var tokens: Double
    private var refilledAt: Timestamp?

    /// Creates the policy.
    /// - Parameters:
    ///   - negativeSeconds: How long a miss is remembered.
    ///   - lookupsPerSecond: The lookup rate (and burst).
    ///   - maxNegativeEntries: The negative cache's bound.
    public init(negativeSeconds: Int64 = 60, lookupsPerSecond: Int = 200, maxNegativeEntries: Int = 100_000) {
        self.negativeSeconds = negativeSeconds
        self.lookupsPerSecond = lookupsPerSecond
        self.maxNegativeEntries = maxNegativeEntries
        self.tokens = Double(lookupsPerSecond)
    }

    /// Whether `address` may be looked up now; takes a token when it may.
    /// - Parameters:
    ///   - frameProtocol: The frame's protocol.
    ///   - address: The meter address the frame named.
    ///   - now: The current time.
    /// - Returns: `false` while the address is in the negative cache or the rate is spent.
    public mutating func mayLookUp(_ frameProtocol: FrameProtocol, _ address: String, now: Timestamp) -> Bool {
        let key = Key(frameProtocol: frameProtocol, address: address)
        if let expiry = negative[key] {
            if expiry > now { return false }
            negative[key] = nil
        }
        if let refilledAt {
            let elapsed = Double(max(0, now.microsecondsSinceEpoch - refilledAt.microsecondsSinceEpoch)) / 1_000_000
            tokens = min(Double(lookupsPerSecond), tokens + elapsed * Double(lookupsPerSecond))
        }
        refilledAt = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Remembers that the database does not know `address`.
    /// - Parameters:
    ///   - frameProtocol: The frame's protocol.
    ///   - address: The address.
    ///   - now: The current time.
    public mutating func recordMissing(_ frameProtocol: FrameProtocol, _ address: String, now: Timestamp) {
        if negative.count >= maxNegativeEntries {
            negative = negative.filter { $0.value > now }
            // Still full of live entries: start over rather than grow without bound (the rate limit still holds).
            if negative.count >= maxNegativeEntries { negative.removeAll(keepingCapacity: true) }
        }
        negative[Key(frameProtocol: frameProtocol, address: address)] =
            Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + negativeSeconds * 1_000_000)
    }

    /// Forgets a miss (the meter was registered since).
    /// - Parameters:
    ///   - frameProtocol: The protocol.
    ///   - address: The address.
    public mutating func forget(_ frameProtocol: FrameProtocol, _ address: String) {
        negative[Key(frameProtocol: frameProtocol, address: address)] = nil
    }

    /// The number of addresses in the negative cache.
    public var negativeCount: Int { negative.count }
}
