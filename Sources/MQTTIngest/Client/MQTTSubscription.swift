internal import CMosquitto

/// MQTT quality of service level.
public enum MQTTQoS: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// QoS 0: fire and forget.
    case atMostOnce = 0
    /// QoS 1: acknowledged with PUBACK; may be delivered more than once.
    case atLeastOnce = 1
    /// QoS 2: four-step handshake; delivered once.
    case exactlyOnce = 2

    public var description: String { "QoS \(self.rawValue)" }
}

/// A topic filter the client subscribes to on every (re)connect.
///
/// Shared subscriptions (MQTT v5) are written as ordinary filters, e.g. `$share/gateway/meters/#`.
///
/// **Use QoS 1 for ingest.** With QoS 1 libmosquitto (threaded mode) sends the PUBACK only after the message
/// handler returned, so a crash inside the handler means redelivery. With QoS 2, libmosquitto 2.0.x sends
/// PUBREC as soon as the PUBLISH arrives and calls the handler only after PUBREL, so after PUBREC the broker
/// never resends the message: a process crash between PUBREC and the end of the handler loses it.
/// ``MosquittoClient`` logs a warning for QoS 2 subscriptions.
public struct MQTTSubscription: Sendable, Hashable, CustomStringConvertible {
    /// The topic filter; may contain `+` and `#` wildcards.
    public var filter: String
    /// The maximum QoS at which the broker delivers matching messages.
    public var qos: MQTTQoS

    /// Creates a subscription.
    /// - Parameters:
    ///   - filter: The topic filter.
    ///   - qos: The requested maximum QoS (default ``MQTTQoS/atLeastOnce``).
    public init(filter: String, qos: MQTTQoS = .atLeastOnce) {
        self.filter = filter
        self.qos = qos
    }

    public var description: String { "\(self.filter) (\(self.qos))" }

    /// Checks the filter syntax with libmosquitto's rules.
    /// - Throws: ``MQTTError`` with code ``MQTTError/Code/invalidOptions`` naming the filter.
    public func validate() throws(MQTTError) {
        let bytes = self.filter.utf8
        guard !bytes.isEmpty, bytes.count <= 65_535, !bytes.contains(0) else {
            throw MQTTError(
                .invalidOptions,
                "MQTTSubscription.filter must be 1...65535 UTF-8 bytes without NUL characters (got \(bytes.count) bytes)"
            )
        }
        let rc = self.filter.withCString { mosquitto_sub_topic_check($0) }
        guard rc == MOSQ_ERR_SUCCESS.rawValue else {
            throw MQTTError(
                .invalidOptions,
                "MQTTSubscription.filter is not a valid topic filter: \(self.filter)",
                libraryCode: Int(rc)
            )
        }
    }
}
