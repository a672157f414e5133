import GatewayCore

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The clocks the spool reads, injectable so tests control the fsync interval and the time stamped on corrupt
/// records.
struct SpoolClock: Sendable {
    /// The wall clock: the time a corrupt record is reported as found.
    var wall: @Sendable () -> Timestamp
    /// A monotonic clock in milliseconds: the fsync interval and recovery pacing.
    var monotonicMilliseconds: @Sendable () -> Int64

    /// The system's `CLOCK_REALTIME` and `CLOCK_MONOTONIC`.
    static let system = SpoolClock(
        wall: {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            return Timestamp(microsecondsSinceEpoch: Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000)
        },
        monotonicMilliseconds: {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
        }
    )
}
