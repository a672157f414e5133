internal import CMosquitto
public import Logging
import Synchronization

/// An MQTT client over libmosquitto that delivers every message synchronously, before it is acknowledged.
///
/// ## Threads
/// * The client owns one dedicated OS thread, `mqtt-network`, started by ``start()``. It connects,
///   runs libmosquitto's network loop, reconnects with jittered exponential backoff and runs **every**
///   callback, including `onMessage`. It never runs on the Swift cooperative pool.
/// * All public methods and properties may be used from any thread or task.
///
/// ## Acknowledgement order (the reason this type exists)
/// `onMessage` runs synchronously inside libmosquitto's `on_message` callback. The libmosquitto handle runs
/// in threaded mode (`mosquitto_threaded_set`), in which libmosquitto 2.0.x only *queues* the QoS 1 PUBACK
/// (and QoS 2 PUBCOMP) while the callback runs; the network thread writes it after `onMessage` returns.
/// The network thread drives libmosquitto's read and write phases itself and calls `commitBeforeAcknowledging`
/// between them, once per burst of messages (group commit): no acknowledgement is written before the commit that
/// covers its message returned `true`. So whatever `onMessage` and the commit made durable is safe: if the process
/// dies before that, the broker has no ack and redelivers the message to the persistent session. This ordering was
/// verified against the installed libmosquitto 2.0.11 (see `MosquittoClientIntegrationTests` and
/// `MosquittoClientGroupCommitTests`).
///
/// This holds for QoS 1. Subscribe at QoS 1 for ingest: with QoS 2, libmosquitto 2.0.x sends PUBREC before
/// the handler runs (see ``MQTTSubscription``).
///
/// ## Backpressure
/// `onMessage` may block (e.g. while the durable spool is full). The network thread then stops reading, the
/// broker stops sending once ``MQTTConnectionOptions/receiveMaximum`` messages are unacknowledged, and
/// nothing is lost. Keep-alive pings stall too: block for less than about 1.5 × keep-alive, or the broker
/// drops the connection and redelivers the unacknowledged messages after the reconnect (duplicates, never
/// losses).
///
/// ## Lifetime
/// ``stop()`` disconnects cleanly and waits for the network thread. Releasing the last reference without
/// calling ``stop()`` requests the same shutdown without waiting; the libmosquitto handle is destroyed once
/// the network thread has finished.
public final class MosquittoClient: Sendable {
    /// The options the client was created with.
    public let options: MQTTConnectionOptions
    /// The subscriptions (re)established on every connect.
    public let subscriptions: [MQTTSubscription]

    let core: MosquittoClientCore

    /// Creates a client. Nothing is connected until ``start()``.
    ///
    /// - Parameters:
    ///   - options: Connection options; validated here.
    ///   - subscriptions: Topic filters subscribed on every successful connect (also when the broker
    ///     reports a present session). May be empty for publish-only clients.
    ///   - logger: Logger for connection events, and for a warning when TLS host name verification is off. If its
    ///     level is `.debug` or lower, libmosquitto's own log lines are forwarded too (at `.debug`/`.trace`).
    ///   - warnsAboutOptions: Whether creating the client logs the warnings its options call for (TLS host name
    ///     verification off). A program that opens a second connection with the same options passes `false`
    ///     there, so each start warns once.
    ///   - onMessage: Called synchronously on the network thread for every message, before libmosquitto
    ///     acknowledges it. ``MQTTInboundMessage/payload`` and ``MQTTInboundMessage/topicUTF8`` are valid
    ///     only during the call. May block for backpressure (see the type documentation).
    ///   - commitBeforeAcknowledging: Called on the network thread after each burst of messages read from the
    ///     socket and before any of their acknowledgements is written: make everything `onMessage` received since
    ///     the last call durable and return `true`. Returning `false` holds the acknowledgements (nothing is read
    ///     or written meanwhile) and the call is repeated every 500 ms. The default commits nothing.
    /// - Throws: ``MQTTError`` with ``MQTTError/Code/invalidOptions`` for invalid options or subscriptions,
    ///   or a libmosquitto setup failure.
    public init(
        options: MQTTConnectionOptions,
        subscriptions: [MQTTSubscription],
        logger: Logger,
        warnsAboutOptions: Bool = true,
        onMessage: @escaping @Sendable (borrowing MQTTInboundMessage) -> Void,
        commitBeforeAcknowledging: @escaping @Sendable () -> Bool = { true }
    ) throws(MQTTError) {
        try options.validate()
        for subscription in subscriptions {
            try subscription.validate()
        }
        try MosquittoLibrary.ensureInitialized()

        var logger = logger
        logger[metadataKey: "mqtt.client.id"] = "\(options.clientID)"
        for subscription in subscriptions where subscription.qos == .exactlyOnce {
            logger.warning(
                "MQTT subscription at QoS 2: libmosquitto sends PUBREC before the handler runs, so a crash in the handler loses the message; use QoS 1 for ingest",
                metadata: ["mqtt.topic.filter": "\(subscription.filter)"]
            )
        }
        if warnsAboutOptions, let tls = options.tls, !tls.verifyHostname {
            // Logged by every client created, so every start of the gateway repeats it.
            logger.warning(
                "MQTT TLS host name verification is off: any certificate signed by the CA is accepted for any host, so whoever holds one can impersonate the broker; turn verify_hostname back on",
                metadata: ["mqtt.host": "\(options.host)", "mqtt.tls.ca_file": "\(tls.caFile)"]
            )
        }
        let context = MosquittoCallbackContext(
            logger: logger,
            protocolVersion: options.protocolVersion,
            subscriptions: subscriptions,
            statusTopic: options.statusTopic,
            onMessage: onMessage,
            commitBeforeAcknowledging: commitBeforeAcknowledging
        )
        // One retain owned by libmosquitto's `obj`; released by the core's deinit after mosquitto_destroy.
        let retained = Unmanaged.passRetained(context)
        let raw = options.clientID.withCString { clientID in
            mosquitto_new(clientID, options.cleanStart, retained.toOpaque())
        }
        guard let raw else {
            retained.release()
            throw MQTTError(.outOfMemory, "mosquitto_new failed")
        }
        let core = MosquittoClientCore(
            handle: MosquittoHandle(raw: raw),
            context: context,
            options: options,
            logger: logger
        )
        // On failure `core` is released here, which destroys the handle and releases the context.
        try core.configure(forwardLibraryLog: logger.logLevel <= .debug)

        self.options = options
        self.subscriptions = subscriptions
        self.core = core
    }

    deinit {
        self.core.requestStop()
    }

    // MARK: - Lifecycle

    /// Starts connecting on the network thread and returns immediately.
    ///
    /// Connection failures are logged and retried forever with exponential backoff and full jitter between
    /// ``MQTTConnectionOptions/reconnectMinimumDelay`` and ``MQTTConnectionOptions/reconnectMaximumDelay``.
    /// Calling `start()` again, or after ``stop()``, has no effect.
    public func start() {
        self.core.start()
    }

    /// Disconnects cleanly (DISCONNECT, keeping the persistent session), stops the network thread and
    /// waits for it to finish. Idempotent.
    ///
    /// Blocks the calling thread for as long as an `onMessage` call in progress takes, normally well under
    /// a second. In async code prefer `await client.stop()`, which suspends instead.
    /// Called from inside `onMessage` it only requests the stop and returns.
    ///
    /// Pending ``publishAndWait(topic:payload:qos:retain:timeout:)`` calls fail with
    /// ``MQTTError/Code/stopped``.
    public func stop() {
        self.core.requestStop()
        self.core.waitForExit()
    }

    /// Disconnects cleanly, stops the network thread and suspends until it has finished. Idempotent.
    public func stop() async {
        self.core.requestStop()
        await self.core.waitForExit()
    }

    // MARK: - State

    /// Whether the client currently has an accepted connection (CONNACK success, not yet lost).
    public var isConnected: Bool {
        self.core.context.isConnected.load(ordering: .acquiring)
    }

    /// Whether the client is connected and the broker acknowledged every subscription on this connection.
    public var isReady: Bool {
        self.core.context.isReady
    }

    /// A snapshot of the client's counters.
    public var statistics: MQTTClientStatistics {
        self.core.context.counters.snapshot()
    }

    /// Waits until the client is connected and the broker acknowledged all subscriptions (``isReady``).
    ///
    /// Polls with `Task.sleep`, never blocking a cooperative thread.
    /// - Parameter timeout: The longest time to wait.
    /// - Returns: `true` when ready; `false` on timeout, cancellation or after ``stop()``.
    public func waitUntilConnected(timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if self.isReady {
                return true
            }
            if self.core.stopRequested.load(ordering: .acquiring) || clock.now >= deadline {
                return false
            }
            do {
                try await Task.sleep(for: .milliseconds(10))
            } catch {
                return false
            }
        }
    }
}
