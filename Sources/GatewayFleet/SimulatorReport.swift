/// What a simulator run did. Printed as JSON by `simulate`, summarised by `demo`, asserted by tests.
public struct SimulatorReport: Codable, Sendable {
    /// Frames the fleet built (readings, daily reports and alarms, without faults).
    public var framesGenerated = 0
    /// Periodic reading frames.
    public var readings = 0
    /// Daily report frames.
    public var dailyReports = 0
    /// Half-hour points in the daily reports.
    public var intervalPoints = 0
    /// Frozen totals in the daily reports.
    public var frozenTotals = 0
    /// Alarm frames.
    public var alarms = 0
    /// Alarm frames per condition name.
    public var alarmsByCondition: [String: Int] = [:]
    /// Publishes the broker accepted, resends included.
    public var published = 0
    /// Publishes the client refused.
    public var publishFailures = 0
    /// Frames resent for want of an ack.
    public var retransmissions = 0
    /// Frames the gateway acknowledged after commit.
    public var acked = 0
    /// Frames still without an ack at the end of the drain.
    public var unacked = 0
    /// Malformed frames published (see ``SimulatorOptions/injectFaults``).
    public var faultsInjected = 0
    /// Well-formed frames with implausible content, for validation to catch (a falling index, a drifted clock).
    public var implausibleReadings = 0
    /// Length of the run in seconds.
    public var seconds = 0.0
    /// Frames generated per second of the run.
    public var framesPerSecond = 0.0
    /// Seconds from the first publish until the last ack of the run arrived (0 when none arrived): with
    /// ``acked`` it gives the rate the consumer sustained end to end, as the fleet saw it.
    public var settledSeconds = 0.0

    /// An empty report.
    public init() {}
}

/// Why a simulator run stopped (the broker could not be reached, the gateway did not answer).
public struct SimulatorError: Error, CustomStringConvertible {
    /// What went wrong, for a person.
    public var description: String

    /// An error with a message.
    /// - Parameter description: What went wrong.
    public init(_ description: String) { self.description = description }
}
