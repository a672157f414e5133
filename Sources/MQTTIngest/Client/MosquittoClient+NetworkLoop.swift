internal import CMosquitto
import Dispatch
import Foundation  // Thread: a named, dedicated OS thread outside the Swift cooperative pool.
import Logging
import Synchronization

/// The identity of the calling OS thread (valid while that thread runs).
func currentThreadIdentifier() -> ObjectIdentifier {
    ObjectIdentifier(Thread.current)
}

extension MosquittoClientCore {
    /// Starts the network thread. Idempotent; a stopped client cannot be started again.
    func start() {
        let shouldStart = self.lifecycle.withLock { lifecycle -> Bool in
            guard case .idle = lifecycle else { return false }
            lifecycle = .running
            return true
        }
        guard shouldStart else {
            self.logger.debug("MQTT client start() ignored: already started or stopped")
            return
        }
        self.exited.enter()
        let thread = Thread { [self] in
            self.runNetworkLoop()
            self.exited.leave()
        }
        thread.name = "mqtt-network"
        thread.start()
    }

    /// The body of the network thread: connect, drive the connection, back off, repeat until stopped.
    ///
    /// Every libmosquitto callback (`on_connect`, `on_message`, …) runs inside the `mosquitto_*` calls made
    /// here, i.e. on this thread, one at a time.
    private func runNetworkLoop() {
        self.networkThreadID.withLock { $0 = currentThreadIdentifier() }
        defer { self.networkThreadID.withLock { $0 = nil } }

        var backoff = MQTTReconnectBackoff(
            minimum: self.options.reconnectMinimumDelay,
            maximum: self.options.reconnectMaximumDelay
        )
        var generator = SystemRandomNumberGenerator()
        var isConfigured = false
        var attempt = 0
        var holdsUncommittedFrames = false

        while !self.stopRequested.load(ordering: .acquiring) {
            attempt += 1
            self.logger.info(
                "MQTT connecting",
                metadata: [
                    "mqtt.host": "\(self.options.host)",
                    "mqtt.port": "\(self.options.port)",
                    "mqtt.attempt": "\(attempt)",
                ]
            )
            let rc: Int32
            if isConfigured {
                // Reuses host, port, keep-alive and the stored CONNECT properties (session expiry);
                // libmosquitto ≥ 2.0.10 re-sends them on reconnect (ChangeLog: "Fix connect properties not
                // being sent when the client automatically reconnects", #1846).
                rc = mosquitto_reconnect(self.handle.raw)
            } else {
                rc = self.connectFirstTime()
                // Only an allocation failure leaves the handle without host and properties.
                isConfigured = rc != MOSQ_ERR_NOMEM.rawValue
            }

            if let error = MQTTError.mosquitto(rc, "connect", invalIsMisuse: false) {
                self.logger.warning(
                    "MQTT connect failed",
                    metadata: ["mqtt.attempt": "\(attempt)", "mqtt.error": "\(error)"]
                )
            } else if !self.driveConnection(backoff: &backoff, attempt: &attempt) {
                // Stopped while received frames could not be committed: their queued acknowledgements must never
                // reach the broker, so the socket is closed by `mosquitto_destroy` without a flush.
                holdsUncommittedFrames = true
            }
            self.context.connectionEnded()

            if self.stopRequested.load(ordering: .acquiring) {
                break
            }
            let delay = backoff.nextDelay(using: &generator)
            self.logger.info(
                "MQTT reconnecting after delay",
                metadata: [
                    "mqtt.attempt": "\(attempt + 1)",
                    "mqtt.delay.ms": "\(MQTTReconnectBackoff.nanoseconds(delay) / 1_000_000)",
                ]
            )
            let nanoseconds = Int(clamping: MQTTReconnectBackoff.nanoseconds(delay))
            _ = self.wakeUp.wait(timeout: .now() + .nanoseconds(nanoseconds))
        }

        if !holdsUncommittedFrames {
            self.shutdownConnection()
        }
        self.context.connectionEnded()
        self.context.acks.failAll(
            MQTTError(.stopped, "the client stopped before the broker acknowledged the message")
        )
        self.logger.info("MQTT network thread stopped")
    }

    /// The first connection attempt: `mosquitto_connect_bind_v5` stores host, port, keep-alive and the
    /// CONNECT properties in the handle for every later `mosquitto_reconnect`.
    private func connectFirstTime() -> Int32 {
        var properties: OpaquePointer? = nil
        defer { mosquitto_property_free_all(&properties) }
        if self.options.protocolVersion == .v5 {
            let rc = mosquitto_property_add_int32(
                &properties,
                Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue),
                self.options.sessionExpirySeconds
            )
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                return rc
            }
        }
        return self.options.host.withCString { host in
            mosquitto_connect_bind_v5(
                self.handle.raw,
                host,
                Int32(self.options.port),
                Int32(self.options.keepAliveSeconds),
                nil,
                properties
            )
        }
    }

    /// Sends DISCONNECT (unless `requestStop()` already did) and lets libmosquitto flush queued packets,
    /// such as a PUBACK queued by the last `on_message`, before the socket closes. Bounded to about 2 s.
    private func shutdownConnection() {
        let raw = self.handle.raw
        guard mosquitto_socket(raw) != -1 else { return }
        if !self.disconnectSent.exchange(true, ordering: .acquiringAndReleasing) {
            _ = mosquitto_disconnect(raw)
        }
        var turns = 0
        while mosquitto_socket(raw) != -1 && turns < 40 {
            _ = mosquitto_loop(raw, 50, 1)
            turns += 1
        }
    }
}
