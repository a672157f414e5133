import Foundation
public import GatewayCore

/// The system's wall clock, the default "now" of the stores whose rules need one. The rules themselves
/// (GatewayDomain) never read a clock; tests inject their own.
public enum WallClock {
    /// The wall-clock time now, to the microsecond.
    public static let now: @Sendable () -> Timestamp = {
        Timestamp(microsecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
    }
}
