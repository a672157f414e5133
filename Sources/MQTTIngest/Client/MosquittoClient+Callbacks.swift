internal import CMosquitto
import Logging
import Synchronization

/// The object libmosquitto hands back to every callback (`obj`), passed once with
/// `Unmanaged.passRetained` and released by ``MosquittoClientCore``'s deinit after `mosquitto_destroy`.
///
/// Checked `Sendable`: only `let`s of `Sendable` types. The callbacks run on the network thread; the
/// atomics and locks here are what other threads read (`isConnected`, statistics, ack waiters).
final class MosquittoCallbackContext: Sendable {
    let logger: Logger
    let protocolVersion: MQTTProtocolVersion
    let subscriptions: [MQTTSubscription]
    /// ``MQTTConnectionOptions/statusTopic``: `online` is published there after every successful connect.
    let statusTopic: String?
    let onMessage: @Sendable (borrowing MQTTInboundMessage) -> Void
    /// Makes every message delivered since its last call durable; `false` holds their acknowledgements.
    let commitBeforeAcknowledging: @Sendable () -> Bool
    /// Messages delivered to `onMessage` since the last successful commit. Network thread only.
    let uncommittedMessages = Atomic<Int>(0)
    let counters = MQTTStatisticsCounters()
    let acks = MQTTPublishAckRegistry()

    /// CONNACK accepted and the connection has not been lost since.
    let isConnected = Atomic<Bool>(false)
    /// Set by `on_connect` on success; the network loop consumes it to reset its backoff.
    let connackReceived = Atomic<Bool>(false)
    /// SUBSCRIBE message ids sent on the current connection that have not been acknowledged yet.
    let pendingSubscriptions = Mutex<[Int32: MQTTSubscription]>([:])
    /// Whether the broker rejected a subscription on the current connection.
    let subscriptionRejected = Atomic<Bool>(false)

    init(
        logger: Logger,
        protocolVersion: MQTTProtocolVersion,
        subscriptions: [MQTTSubscription],
        statusTopic: String? = nil,
        onMessage: @escaping @Sendable (borrowing MQTTInboundMessage) -> Void,
        commitBeforeAcknowledging: @escaping @Sendable () -> Bool
    ) {
        self.logger = logger
        self.protocolVersion = protocolVersion
        self.subscriptions = subscriptions
        self.statusTopic = statusTopic
        self.onMessage = onMessage
        self.commitBeforeAcknowledging = commitBeforeAcknowledging
    }

    /// Connected, and the broker acknowledged every subscription of the current connection.
    var isReady: Bool {
        self.isConnected.load(ordering: .acquiring)
            && !self.subscriptionRejected.load(ordering: .relaxed)
            && self.pendingSubscriptions.withLock { $0.isEmpty }
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> MosquittoCallbackContext? {
        guard let opaque else { return nil }
        return Unmanaged<MosquittoCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
    }

    // MARK: - Callback bodies (network thread)

    func handleConnect(handle: OpaquePointer?, reasonCode: Int32, flags: Int32) {
        guard reasonCode == 0 else {
            let reason =
                self.protocolVersion == .v5
                ? String(cString: mosquitto_reason_string(reasonCode))
                : String(cString: mosquitto_connack_string(reasonCode))
            self.logger.error(
                "MQTT broker refused the connection",
                metadata: ["mqtt.reason.code": "\(reasonCode)", "mqtt.reason": "\(reason)"]
            )
            return
        }
        let sessionPresent = (flags & 0x01) != 0
        self.subscriptionRejected.store(false, ordering: .relaxed)
        // Subscribe every time, even with a session present: harmless, and it repairs a session that the
        // broker lost (restart without persistence, expiry).
        self.pendingSubscriptions.withLock { pending in
            pending.removeAll()
            for subscription in self.subscriptions {
                var mid: Int32 = 0
                let rc = subscription.filter.withCString { filter in
                    mosquitto_subscribe(handle, &mid, filter, Int32(subscription.qos.rawValue))
                }
                if let error = MQTTError.mosquitto(rc, "mosquitto_subscribe") {
                    self.logger.error(
                        "MQTT subscribe failed",
                        metadata: ["mqtt.topic.filter": "\(subscription.filter)", "mqtt.error": "\(error)"]
                    )
                } else {
                    pending[mid] = subscription
                }
            }
        }
        if let statusTopic, let handle {
            MosquittoClientCore.publishStatus(MQTTConnectionOptions.statusOnline, topic: statusTopic, on: handle)
        }
        self.counters.connects.add(1, ordering: .relaxed)
        self.connackReceived.store(true, ordering: .releasing)
        self.isConnected.store(true, ordering: .releasing)
        self.logger.info(
            "MQTT connected",
            metadata: [
                "mqtt.session.present": "\(sessionPresent)",
                "mqtt.subscriptions": "\(self.subscriptions.count)",
            ]
        )
    }

    func handleSubscribe(mid: Int32, grantedCount: Int32, granted: UnsafePointer<Int32>?) {
        guard let subscription = self.pendingSubscriptions.withLock({ $0.removeValue(forKey: mid) }) else {
            return
        }
        let grants = UnsafeBufferPointer(start: granted, count: Int(max(grantedCount, 0)))
        // 0x80 and above: the broker refused the subscription (e.g. ACL).
        if let refused = grants.first(where: { $0 >= 0x80 }) {
            self.subscriptionRejected.store(true, ordering: .relaxed)
            self.logger.error(
                "MQTT broker rejected a subscription",
                metadata: ["mqtt.topic.filter": "\(subscription.filter)", "mqtt.reason.code": "\(refused)"]
            )
        } else {
            self.logger.debug(
                "MQTT subscribed",
                metadata: [
                    "mqtt.topic.filter": "\(subscription.filter)",
                    "mqtt.qos.granted": "\(grants.first.map { Int($0) } ?? -1)",
                ]
            )
        }
    }

    func handleDisconnect(reasonCode: Int32) {
        guard self.isConnected.exchange(false, ordering: .acquiringAndReleasing) else {
            return
        }
        self.counters.disconnects.add(1, ordering: .relaxed)
        if reasonCode == 0 {
            self.logger.info("MQTT disconnected")
        } else {
            self.logger.warning(
                "MQTT connection lost",
                metadata: [
                    "mqtt.reason.code": "\(reasonCode)",
                    "mqtt.reason": "\(String(cString: mosquitto_strerror(reasonCode)))",
                ]
            )
        }
    }

    /// Called by the network loop whenever a connection ends, whether or not `on_disconnect` ran.
    func connectionEnded() {
        self.handleDisconnect(reasonCode: 0)
        self.pendingSubscriptions.withLock { $0.removeAll() }
    }

    func handleMessage(_ message: UnsafePointer<mosquitto_message>) {
        let fields = message.pointee
        let inbound = MQTTInboundMessage(
            topicUTF8: UnsafeRawBufferPointer(
                start: fields.topic,
                count: cmosquitto_message_topic_length(message)
            ),
            payload: UnsafeRawBufferPointer(start: fields.payload, count: Int(max(fields.payloadlen, 0))),
            qos: MQTTQoS(rawValue: Int(fields.qos)) ?? .atMostOnce,
            isRetained: fields.retain,
            messageID: fields.mid
        )
        // Synchronous, on the network thread. libmosquitto has only *queued* the QoS 1 PUBACK (threaded
        // mode); the network loop writes it after the commit that covers this message (group commit).
        self.onMessage(inbound)
        self.uncommittedMessages.add(1, ordering: .relaxed)
        self.counters.messagesReceived.add(1, ordering: .relaxed)
    }

    func handlePublish(mid: Int32, reasonCode: Int32) {
        self.counters.publishAcks.add(1, ordering: .relaxed)
        self.acks.complete(mid: mid, reasonCode: reasonCode)
    }

    func handleLog(level: Int32, line: UnsafePointer<CChar>?) {
        guard let line else { return }
        let logLevel: Logger.Level = level == MOSQ_LOG_DEBUG ? .trace : .debug
        self.logger.log(level: logLevel, "libmosquitto: \(String(cString: line))")
    }
}

extension MosquittoCallbackContext {
    /// Installs the `@convention(c)` trampolines. They capture nothing; `obj` carries the context.
    static func installCallbacks(on handle: OpaquePointer, forwardLibraryLog: Bool) {
        mosquitto_connect_v5_callback_set(handle) { mosq, obj, reasonCode, flags, _ in
            MosquittoCallbackContext.from(obj)?.handleConnect(handle: mosq, reasonCode: reasonCode, flags: flags)
        }
        mosquitto_disconnect_v5_callback_set(handle) { _, obj, reasonCode, _ in
            MosquittoCallbackContext.from(obj)?.handleDisconnect(reasonCode: reasonCode)
        }
        mosquitto_subscribe_callback_set(handle) { _, obj, mid, count, granted in
            MosquittoCallbackContext.from(obj)?.handleSubscribe(mid: mid, grantedCount: count, granted: granted)
        }
        mosquitto_message_callback_set(handle) { _, obj, message in
            guard let message else { return }
            MosquittoCallbackContext.from(obj)?.handleMessage(message)
        }
        mosquitto_publish_v5_callback_set(handle) { _, obj, mid, reasonCode, _ in
            MosquittoCallbackContext.from(obj)?.handlePublish(mid: mid, reasonCode: reasonCode)
        }
        if forwardLibraryLog {
            mosquitto_log_callback_set(handle) { _, obj, level, line in
                MosquittoCallbackContext.from(obj)?.handleLog(level: level, line: line)
            }
        }
    }
}
