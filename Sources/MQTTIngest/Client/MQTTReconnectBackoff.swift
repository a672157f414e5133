/// Exponential reconnect backoff with full jitter.
///
/// Attempt *n* (0-based) waits a uniformly random time in `minimum ... min(maximum, minimum · 2ⁿ)`.
/// Spreading the delays over the whole window keeps a fleet of gateways from reconnecting in lockstep
/// after a broker restart. ``reset()`` after a successful connection starts again at `minimum`.
struct MQTTReconnectBackoff: Sendable {
    let minimum: Duration
    let maximum: Duration
    private(set) var attempt: Int = 0

    init(minimum: Duration, maximum: Duration) {
        precondition(minimum > .zero && maximum >= minimum, "validated by MQTTConnectionOptions")
        self.minimum = minimum
        self.maximum = maximum
    }

    /// The upper bound of the window for the current attempt.
    var currentCeiling: Duration {
        // Stop doubling once the cap is reached; 2^62 would overflow long before that matters.
        var ceiling = self.minimum
        var remaining = self.attempt
        while remaining > 0 && ceiling < self.maximum {
            ceiling = ceiling * 2
            remaining -= 1
        }
        return min(ceiling, self.maximum)
    }

    /// Returns the delay before the next attempt and advances the attempt counter.
    mutating func nextDelay(using generator: inout some RandomNumberGenerator) -> Duration {
        let low = Self.nanoseconds(self.minimum)
        let high = Self.nanoseconds(self.currentCeiling)
        self.attempt += 1
        guard high > low else {
            return .nanoseconds(low)
        }
        return .nanoseconds(Int64.random(in: low...high, using: &generator))
    }

    /// Starts again at the minimum delay (call after a successful connection).
    mutating func reset() {
        self.attempt = 0
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow {
            return seconds < 0 ? .min : .max
        }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
