/// When the gateway received one stored alarm's frame, by its own wall clock: the stamp `meter-gateway bench-alarms`
/// reads back from the database to split an alarm's latency into stages.
public struct AlarmStoredTimes: Sendable, Equatable {
    /// `alarms.received_at`: when the gateway's MQTT callback received the frame (µs since 1970).
    public var receivedMicros: Int64

    /// The stamp of one stored alarm.
    /// - Parameter receivedMicros: `alarms.received_at` in µs since 1970.
    public init(receivedMicros: Int64) {
        self.receivedMicros = receivedMicros
    }
}

/// Where an alarm's time went, stage by stage (each a summary over the alarms that have both ends of the stage).
///
/// The stages chain from publish to the dispatch topic: `publishToReceive` + `receiveToNotify` is the NOTIFY
/// latency of one alarm, and adding `notifyToDispatch` gives its dispatch latency. Publish and arrival times are the
/// benchmark's, the receive stamp is the gateway's wall clock on the same machine, so the split is only as good as
/// the two clocks agree (they are the same clock here).
public struct AlarmStageLatency: Codable, Sendable, Equatable {
    /// Fleet publish → the gateway's MQTT callback (the fleet's client, the broker, the gateway's network thread).
    public var publishToReceive: LatencySummary
    /// Receive → NOTIFY at the benchmark's listener (spool, the pipeline's wait for the batch before, read, decode,
    /// the write transaction with the ticket step, COMMIT, delivery).
    public var receiveToNotify: LatencySummary
    /// NOTIFY at the benchmark's listener → the event on the dispatch topic (the dispatch service's wake-up, outbox
    /// read, publish, broker delivery).
    public var notifyToDispatch: LatencySummary

    /// Stage summaries.
    /// - Parameters:
    ///   - publishToReceive: Publish → receive.
    ///   - receiveToNotify: Receive → NOTIFY.
    ///   - notifyToDispatch: NOTIFY → dispatch topic.
    public init(publishToReceive: LatencySummary, receiveToNotify: LatencySummary, notifyToDispatch: LatencySummary) {
        self.publishToReceive = publishToReceive
        self.receiveToNotify = receiveToNotify
        self.notifyToDispatch = notifyToDispatch
    }
}
