import Synchronization

/// A snapshot of a ``MosquittoClient``'s counters since it was created.
public struct MQTTClientStatistics: Sendable, Hashable {
    /// Messages handed to the message handler (counted after the handler returned).
    public var messagesReceived: Int
    /// Messages accepted by libmosquitto for sending.
    public var messagesPublished: Int
    /// Publish completions reported by libmosquitto: PUBACK (QoS 1), PUBCOMP (QoS 2), or written (QoS 0).
    public var publishAcks: Int
    /// Successful connections (CONNACK accepted), including reconnections.
    public var connects: Int
    /// Losses of an established connection, including the one caused by `stop()`.
    public var disconnects: Int

    /// Creates a snapshot.
    public init(messagesReceived: Int, messagesPublished: Int, publishAcks: Int, connects: Int, disconnects: Int) {
        self.messagesReceived = messagesReceived
        self.messagesPublished = messagesPublished
        self.publishAcks = publishAcks
        self.connects = connects
        self.disconnects = disconnects
    }
}

/// The live counters behind ``MQTTClientStatistics``. Updated from the network thread and publishing
/// threads with relaxed atomics; each counter is exact, a snapshot is not a consistent cut.
final class MQTTStatisticsCounters: Sendable {
    let messagesReceived = Atomic<Int>(0)
    let messagesPublished = Atomic<Int>(0)
    let publishAcks = Atomic<Int>(0)
    let connects = Atomic<Int>(0)
    let disconnects = Atomic<Int>(0)

    func snapshot() -> MQTTClientStatistics {
        MQTTClientStatistics(
            messagesReceived: self.messagesReceived.load(ordering: .relaxed),
            messagesPublished: self.messagesPublished.load(ordering: .relaxed),
            publishAcks: self.publishAcks.load(ordering: .relaxed),
            connects: self.connects.load(ordering: .relaxed),
            disconnects: self.disconnects.load(ordering: .relaxed)
        )
    }
}
