public import GatewayCore

/// What a planned-outage announcement and its cancellation must satisfy. An announced outage silences the
/// pressure-loss alarms of a whole district (``OutageRule``), so its window is bounded and it can be called off.
///
/// Pure: "now" is a parameter; the store reads the outage, asks this policy and writes.
public struct PlannedOutagePolicy: Sendable, Equatable {
    /// The longest window an announcement may have, from its start to its end.
    public var maximumSeconds: Int64

    /// Creates the policy.
    /// - Parameter maximumHours: The longest window (default 12 h, the "restored within 12 h" of the
    ///   service commitments).
    public init(maximumHours: Int = 12) {
        self.maximumSeconds = Int64(maximumHours) * 3600
    }

    /// Why an announcement or a cancellation was refused.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// The kind of refusal, a stable snake-case word.
        public enum Reason: String, Sendable, Equatable {
            /// The window ends at or before its start.
            case emptyWindow = "empty_window"
            /// The window is longer than ``PlannedOutagePolicy/maximumSeconds``.
            case tooLong = "outage_too_long"
            /// The window ends at or before now.
            case endsInThePast = "outage_in_the_past"
            /// The outage was cancelled before.
            case alreadyCancelled = "outage_already_cancelled"
            /// The outage's window is over; there is nothing left to cancel.
            case alreadyOver = "outage_already_over"
        }

        /// The kind.
        public var reason: Reason
        /// For people, e.g. "an outage may last at most 12 h; this one lasts 30 h".
        public var message: String

        /// The message (what a log line shows).
        public var description: String { message }
    }

    /// Checks a new announcement's window.
    /// - Parameters:
    ///   - start: Start of the window (may lie in the past: the window still counts from it).
    ///   - end: End of the window.
    ///   - now: The instant of the announcement.
    /// - Throws: ``Refusal`` (`emptyWindow`, `tooLong`, `endsInThePast`).
    public func checkAnnouncement(from start: Timestamp, to end: Timestamp, now: Timestamp) throws(Refusal) {
        guard start < end else {
            throw Refusal(reason: .emptyWindow, message: "an outage must end after it starts")
        }
        let seconds = end.secondsSinceEpoch - start.secondsSinceEpoch
        guard end <= start.adding(seconds: maximumSeconds) else {
            throw Refusal(
                reason: .tooLong,
                message: "an outage may last at most \(Self.hours(maximumSeconds)) (dispatch.max_outage_hours); "
                    + "this one lasts \(Self.hours(seconds))"
            )
        }
        guard now < end else {
            throw Refusal(reason: .endsInThePast, message: "an outage must not end in the past (it ends at \(end))")
        }
    }

    /// Checks the cancellation of an announced outage.
    /// - Parameters:
    ///   - id: The outage (for the message).
    ///   - end: End of its window.
    ///   - cancelledAt: When it was cancelled, or `nil`.
    ///   - now: The instant of the cancellation.
    /// - Throws: ``Refusal`` (`alreadyCancelled`, `alreadyOver`).
    public func checkCancellation(
        of id: Int64,
        endingAt end: Timestamp,
        cancelledAt: Timestamp?,
        now: Timestamp
    )
        throws(Refusal)
    {
        if let cancelledAt {
            throw Refusal(reason: .alreadyCancelled, message: "outage \(id) was cancelled at \(cancelledAt)")
        }
        guard now < end else {
            throw Refusal(reason: .alreadyOver, message: "outage \(id) ended at \(end); there is nothing to cancel")
        }
    }

    private static func hours(_ seconds: Int64) -> String {
        seconds % 3600 == 0 ? "\(seconds / 3600) h" : "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }
}
