/// A message delivered by the broker, borrowed for the duration of the message handler.
///
/// **Lifetime:** ``topicUTF8`` and ``payload`` point into libmosquitto's receive buffer, which the library
/// frees as soon as the handler returns. They are valid **only during the handler call**. Copy or decode
/// everything you need (for example append the frame to the durable spool) before returning. The type is
/// non-copyable so that it cannot be stored by accident; do not let the buffers escape either.
///
/// libmosquitto 2.0.11 does not expose the DUP flag of a PUBLISH, so redeliveries cannot be told apart here;
/// downstream processing must be idempotent.
public struct MQTTInboundMessage: ~Copyable {
    /// The topic name as UTF-8 bytes (no terminating NUL). Valid only during the handler call.
    public let topicUTF8: UnsafeRawBufferPointer
    /// The payload bytes. Valid only during the handler call.
    public let payload: UnsafeRawBufferPointer
    /// The QoS at which the message was delivered.
    public let qos: MQTTQoS
    /// Whether the broker delivered a retained message.
    public let isRetained: Bool
    /// The MQTT packet identifier (0 for QoS 0).
    public let messageID: Int32

    /// Creates a message view, for example to drive a handler in tests.
    /// - Parameters:
    ///   - topicUTF8: Topic bytes, valid for the lifetime of the value.
    ///   - payload: Payload bytes, valid for the lifetime of the value.
    ///   - qos: Delivery QoS.
    ///   - isRetained: Whether the message was retained.
    ///   - messageID: MQTT packet identifier.
    public init(
        topicUTF8: UnsafeRawBufferPointer,
        payload: UnsafeRawBufferPointer,
        qos: MQTTQoS,
        isRetained: Bool = false,
        messageID: Int32 = 0
    ) {
        self.topicUTF8 = topicUTF8
        self.payload = payload
        self.qos = qos
        self.isRetained = isRetained
        self.messageID = messageID
    }

    /// The topic as a `String`. Allocates on each access; prefer ``topicUTF8`` on hot paths.
    public var topic: String {
        String(decoding: self.topicUTF8, as: UTF8.self)
    }
}
